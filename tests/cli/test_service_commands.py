"""The server's commands: tokens, migrations, re-evaluation, and `duly serve --demo` for real."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from duly.cli import app
from duly.service.tokens import authenticate
from duly.store.database import Database


@pytest.fixture
def database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'duly.db'}"
    monkeypatch.setenv("DULY_DATABASE_URL", url)
    return url


def test_token_create_prints_a_working_token_alone_on_its_last_line(database_url: str) -> None:
    result = CliRunner().invoke(app, ["token", "create", "--role", "agent", "--name", "relay"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    db = Database(database_url)
    identity = authenticate(db, token)
    db.dispose()
    assert identity is not None
    assert (identity.role, identity.name) == ("agent", "relay")


def test_token_create_refuses_an_unknown_role(database_url: str) -> None:
    result = CliRunner().invoke(app, ["token", "create", "--role", "root"])
    assert result.exit_code == 1
    assert "role: must be one of viewer, agent, admin" in result.output


def test_db_upgrade_creates_the_schema(database_url: str) -> None:
    result = CliRunner().invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    db = Database(database_url)
    with db.read() as connection:
        version = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    db.dispose()
    assert version == "0002"


def test_reevaluate_reports_the_version_and_what_it_rebuilt(database_url: str) -> None:
    result = CliRunner().invoke(app, ["reevaluate"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "config version 0: 0 tickets, 0 clocks"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_demo_shows_running_clocks_and_fires_alerts_within_a_minute(tmp_path: Path) -> None:
    port = _free_port()
    log = tmp_path / "serve.log"
    env = {k: v for k, v in os.environ.items() if k != "DULY_DATABASE_URL"}
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "duly", "serve", "--demo", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        token = None
        while token is None and time.monotonic() < deadline:
            lines = log.read_text().splitlines()
            marks = [i for i, line in enumerate(lines) if "admin token" in line]
            if marks and len(lines) > marks[0] + 1:
                token = lines[marks[0] + 1].strip()
            time.sleep(0.1)
        assert token is not None, log.read_text()
        assert (tmp_path / "duly-demo.db").exists()
        headers = {"Authorization": f"Bearer {token}"}
        base = f"http://127.0.0.1:{port}/api/v1"
        alerts: list[dict[str, object]] = []
        while not alerts and time.monotonic() < deadline:
            alerts = httpx.get(f"{base}/alerts", headers=headers).json()["alerts"]
            time.sleep(0.5)
        assert alerts, "no alert fired within a minute"
        clocks = httpx.get(f"{base}/clocks?running=true", headers=headers).json()["clocks"]
        assert clocks
        dues = [c["due"] for c in clocks]
        assert dues == sorted(dues)
        # Deriving and the monitor run in a child process, which stopping the server stops.
        children = child_pids(process.pid)
        assert children
    finally:
        process.terminate()
        process.wait(30)
    deadline = time.monotonic() + 20
    while any(alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in children if alive(pid)]


def child_pids(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(n) for n in (task / "children").read_text().split()]
    return found


def cmdline(pid: int) -> bytes:
    return Path(f"/proc/{pid}/cmdline").read_bytes()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text() if Path(f"/proc/{pid}/stat").exists() else ""
    return " Z " not in stat  # a zombie has ended; only its exit status is left


CONFIG = """\
agreements:
  - id: support
    policies:
      - id: all
        targets:
          first_reply: {within: 1h}
          resolution: {within: 1w}
"""


def test_serve_with_two_workers_takes_concurrent_events_and_derives_them_all(
    database_url: str, tmp_path: Path
) -> None:
    """Two API processes and the background one write one SQLite file at once."""
    runner = CliRunner()
    admin = runner.invoke(app, ["token", "create", "--role", "admin"]).output.split()[-1]
    port = _free_port()
    log = (tmp_path / "serve.log").open("wb")
    command = ["serve", "--no-monitor", "--workers", "2", "--port", str(port)]
    process = subprocess.Popen(
        [sys.executable, "-m", "duly", *command],
        env=os.environ.copy(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {admin}"}
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yaml = {**headers, "Content-Type": "application/yaml"}
        assert httpx.put(f"{base}/api/v1/config", content=CONFIG, headers=yaml).status_code == 200
        # The background process and one more API process (besides multiprocessing's tracker).
        spawned = [pid for pid in child_pids(process.pid) if b"spawn_main" in cmdline(pid)]
        assert len(spawned) == 2

        def post(n: int) -> int:
            event = {
                "id": f"e-{n}",
                "ticket": f"T-{n % 50}",
                "at": f"2026-03-02T09:{n % 60:02d}:00Z",
                "type": "ticket.created" if n < 50 else "comment.added",
                "actor": "customer",
            }
            with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
                return int(client.post("/api/v1/events", json=event).json()["new"])

        with ThreadPoolExecutor(8) as pool:
            assert sum(pool.map(post, range(400))) == 400
        # Derived by the background process, without any read asking for it.
        while time.monotonic() < deadline:
            if httpx.get(f"{base}/healthz").json()["derive_backlog"] == 0:
                break
            time.sleep(0.05)
        assert httpx.get(f"{base}/healthz").json()["derive_backlog"] == 0
        clocks = httpx.get(f"{base}/api/v1/clocks?limit=1000", headers=headers).json()["clocks"]
        assert {c["ticket"] for c in clocks} == {f"T-{n}" for n in range(50)}
        assert all(c["metric"] in {"first_reply", "resolution"} for c in clocks)
    finally:
        process.terminate()
        process.wait(30)
        log.close()
