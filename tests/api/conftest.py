"""A real duly API server per test, over a fresh database (SQLite, and PostgreSQL when set).

The server's clock is set by the test (``server.clock.now = ...``); tokens for each role are
made through the service, as ``duly token create`` does.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest

from api.api_server import EXAMPLE_CONFIG, NOW, YAML, Server, SetClock, example_events, serving
from databases import BACKENDS, fresh_database
from duly.api.app import create_app
from duly.service.configs import ConfigCache
from duly.service.context import Context
from duly.service.tokens import create_token
from duly.store.database import Database


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty, migrated database: SQLite, and PostgreSQL too when configured."""
    with fresh_database(request.param, tmp_path) as database:
        yield database


@pytest.fixture
def event_intake() -> bool:
    """Whether ``POST /events`` goes through the intake (as served) or through FastAPI.

    ``test_api_events`` runs its tests both ways: the two must answer alike.
    """
    return True


@pytest.fixture
def server(db: Database, event_intake: bool) -> Iterator[Server]:
    clock = SetClock(NOW)
    ctx = Context(db, ConfigCache(), clock)
    tokens = {role: create_token(db, role, f"{role}-token", NOW) for role in ("viewer", "agent")}
    tokens["admin"] = create_token(db, "admin", "alice", NOW)
    with serving(create_app(ctx, event_intake=event_intake)) as url:
        running = Server(url, ctx, clock, tokens)
        try:
            yield running
        finally:
            for client in running.clients:
                client.close()


@pytest.fixture
def loaded(server: Server) -> Server:
    """The server holding the example config and every example event, derived as of ``NOW``."""
    admin = server.client("admin")
    answer = admin.put("/api/v1/config", content=EXAMPLE_CONFIG.read_bytes(), headers=YAML)
    assert answer.status_code == 200, answer.text
    answer = server.client("agent").post("/api/v1/events?wait=true", json=example_events())
    assert answer.status_code == 200, answer.text
    return server
