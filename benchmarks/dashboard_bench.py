"""How long the dashboard's pages take to render with 10,000 open clocks.

    python benchmarks/dashboard_bench.py                   # 10,000 open clocks, 15 runs a page
    python benchmarks/dashboard_bench.py --open-clocks 2000 --runs 5

The database is seeded through the service (the example config; tickets created over the last
30 days, some answered, sent to ``ingest`` in batches of 10,000 events; due crossings fired as
alerts, as the monitor would). Then ``duly serve --no-monitor`` runs in its own process on that
database and this process asks each page over loopback, signed in with a session cookie, timing
the whole request (server render and transfer). One warm-up request per page is not counted;
the median and worst of ``--runs`` are printed against the aim of 300 ms. The machine is shared,
so quote medians.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from duly.service.clock_rows import to_us
from duly.service.config_changes import put_config
from duly.service.context import Context
from duly.service.demo import demo_config_text
from duly.service.ingest import ingest
from duly.service.tokens import create_token
from duly.store import alerts as outbox
from duly.store.clocks import clock_counts
from duly.store.database import Database

AIM_MS = 300.0
BATCH = 10_000
TIERS = ("gold", "silver", "bronze")
PRIORITIES = ("low", "normal", "high", "urgent")
GROUPS = ("front-line", "billing")
AGENTS = ("alice", "bashir", "chen", "dana", "emil")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ticket_events(i: int, now: datetime, rng: random.Random) -> list[dict[str, Any]]:
    """One ticket opened in the last 30 days; a third of them answered (so some clocks end)."""
    name = f"B-{i}"
    created = now - timedelta(seconds=rng.uniform(60, 30 * 86_400))
    events: list[dict[str, Any]] = [
        {
            "id": f"{name}-c",
            "ticket": name,
            "at": created.isoformat(),
            "type": "ticket.created",
            "actor": "customer",
            "fields": {
                "status": "New",
                "priority": rng.choice(PRIORITIES),
                "group": rng.choice(GROUPS),
                "assignee": rng.choice(AGENTS),
                "custom": {"tier": rng.choice(TIERS), "region": rng.choice(("emea", "americas"))},
            },
        }
    ]
    if rng.random() < 0.33:
        answered = created + timedelta(minutes=rng.expovariate(1 / 120))
        if answered < now:
            events.append(
                {
                    "id": f"{name}-r",
                    "ticket": name,
                    "at": answered.isoformat(),
                    "type": "comment.added",
                    "actor": "agent",
                    "public": True,
                }
            )
    return events


def _running(db: Database) -> int:
    with db.read() as connection:
        counts = clock_counts(connection)
    return sum(counts.get(s, 0) for s in ("active", "paused", "breached"))


def seed(url: str, open_clocks: int, rng: random.Random) -> tuple[str, str, float]:
    """Seed until at least ``open_clocks`` clocks run; an admin token, a ticket, seconds taken."""
    db = Database(url)
    db.upgrade()
    now = datetime.now(UTC)
    ctx = Context(db)
    put_config(db, ctx.configs, demo_config_text(), "bench", now)
    started = time.perf_counter()
    # Each ticket opens a few clocks (one per metric of each agreement that covers it): a first
    # batch of a known size tells how many, and the rest is sized to reach ``open_clocks``.
    i = 0
    wanted = max(1, min(BATCH, open_clocks // 4))
    while _running(db) < open_clocks:
        events: list[dict[str, Any]] = []
        while len(events) < BATCH and wanted > 0:
            events.extend(_ticket_events(i, now, rng))
            i += 1
            wanted -= 1
        ingest(db, ctx.configs, events, now)
        per_ticket = max(_running(db), 1) / max(i, 1)
        wanted = max(1, int((open_clocks - _running(db)) / per_ticket) + 1)
    with db.write() as connection:
        fired = outbox.fire_due_crossings(connection, to_us(now), limit=1_000_000)
    seconds = time.perf_counter() - started
    print(
        f"seeded {i:,} tickets, {_running(db):,} open clocks, {len(fired):,} alerts "
        f"in {seconds:.1f} s",
        flush=True,
    )
    token = create_token(db, "admin", "bench", now)
    db.dispose()
    return token, f"B-{i // 2}", seconds


@contextmanager
def server(url: str, port: int) -> Iterator[str]:
    env = {**os.environ, "DULY_DATABASE_URL": url}
    command = [sys.executable, "-m", "duly", "serve", "--no-monitor", "--port", str(port)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise SystemExit("the server did not come up")
        yield base
    finally:
        process.terminate()
        process.wait(10)


def measure(base: str, token: str, pages: dict[str, str], runs: int) -> list[dict[str, Any]]:
    results = []
    # The cookie signs in to the dashboard; the bearer header lets the API rows run alongside,
    # to tell the dashboard's own cost from the service call both make.
    headers = {"Authorization": f"Bearer {token}"}
    cookies = {"duly_session": token}
    with httpx.Client(base_url=base, timeout=60, cookies=cookies, headers=headers) as client:
        for name, path in pages.items():
            first = client.get(path)
            if first.status_code != 200:
                raise SystemExit(f"{path}: HTTP {first.status_code}")
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                answer = client.get(path)
                times.append((time.perf_counter() - started) * 1000)
                answer.raise_for_status()
            results.append(
                {
                    "page": name,
                    "path": path,
                    "median_ms": statistics.median(times),
                    "max_ms": max(times),
                    "kib": len(first.content) / 1024,
                }
            )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--open-clocks", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'dashboard-bench.db'}"
        token, ticket, _ = seed(url, args.open_clocks, random.Random(args.seed))
        pages = {
            "queue (first page)": "/",
            "queue (filtered)": "/?priority=urgent&agreement=gold",
            "compliance (month x agreement)": "/compliance",
            "compliance (week x metric x priority)": (
                "/compliance?period=week&split=metric&split=priority"
            ),
            "API compliance (month x agreement)": "/api/v1/reports/compliance?by=month,agreement",
            "agreements": "/agreements",
            "agreement document": "/agreements/gold",
            "alerts": "/alerts",
            "ticket": f"/tickets/{ticket}",
            "monthly report": "/reports/monthly/document?agreement=gold&month="
            + datetime.now(UTC).strftime("%Y-%m"),
        }
        with server(url, _free_port()) as base:
            results = measure(base, token, pages, args.runs)
    print(f"\n{'page':<40} {'median ms':>10} {'max ms':>9} {'KiB':>7}  vs {AIM_MS:.0f} ms aim")
    for r in results:
        verdict = "ok" if r["median_ms"] <= AIM_MS else "SLOWER"
        print(
            f"{r['page']:<40} {r['median_ms']:>10.1f} {r['max_ms']:>9.1f} {r['kib']:>7.1f}  "
            f"{r['median_ms'] / AIM_MS:>4.2f}x {verdict}"
        )


if __name__ == "__main__":
    main()
