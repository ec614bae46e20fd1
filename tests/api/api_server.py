"""Running the real API in tests: uvicorn on a free loopback port, a clock the test sets."""

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from duly.service.context import Context

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_CONFIG = ROOT / "examples" / "sla.yaml"
EXAMPLE_EVENTS = ROOT / "examples" / "events.jsonl"
#: The instant the README's example reports are made at.
NOW = datetime(2026, 3, 16, 12, 0, tzinfo=UTC)
YAML = {"Content-Type": "application/yaml"}


class SetClock:
    """The server's idea of now, which the test moves."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Server:
    """A running API and what a test needs to talk to it and to look behind it."""

    url: str
    ctx: Context
    clock: SetClock
    tokens: dict[str, str]
    clients: list[httpx.Client] = field(default_factory=list)

    def client(self, role: str | None = None, token: str | None = None) -> httpx.Client:
        """A client sending the token of ``role`` (or ``token``; neither: no token)."""
        headers = {}
        bearer = token or (self.tokens[role] if role else None)
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        client = httpx.Client(base_url=self.url, headers=headers, timeout=30)
        self.clients.append(client)
        return client


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Run ``app`` with uvicorn on a free loopback port; yields its base URL."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", lifespan="off", ws="none"
    )
    uvicorn_server = uvicorn.Server(config)
    thread = threading.Thread(target=uvicorn_server.run, daemon=True)
    thread.start()
    while not uvicorn_server.started:
        if not thread.is_alive():
            pytest.fail("the API server did not start")
        threading.Event().wait(0.01)
    port = uvicorn_server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        uvicorn_server.should_exit = True
        thread.join(timeout=10)


def example_events() -> list[dict]:
    lines = EXAMPLE_EVENTS.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]
