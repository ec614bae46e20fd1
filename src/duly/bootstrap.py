"""The composition root: settings -> database -> context -> API app and monitor.

Nothing is built at import time anywhere in duly; this module is the one place that wires the
pieces together, so tests can wire the same pieces with a temporary database instead.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from duly.api.app import create_app
from duly.monitor.worker import Monitor
from duly.service.context import Context
from duly.service.demo import DemoStream, seed_demo
from duly.service.deriver import Deriver
from duly.store.database import Database, database_url
from duly.web.dashboard import mount_dashboard

__all__ = ["DEMO_DATABASE", "Server", "build_app", "open_context", "serve"]

DEMO_DATABASE = Path("duly-demo.db")


def open_context(url: str | None = None) -> Context:
    """A context on ``url`` (default: ``DULY_DATABASE_URL`` or ``./duly.db``), migrated."""
    db = Database(url or database_url())
    db.upgrade()
    return Context(db)


def build_app(ctx: Context) -> FastAPI:
    """The whole web application: the REST API and the dashboard."""
    return mount_dashboard(create_app(ctx))


def fresh_demo_url() -> str:
    """A new, empty SQLite file for the demo (an earlier demo's file is replaced)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{DEMO_DATABASE}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{DEMO_DATABASE}"


@dataclass
class Server:
    """What ``duly serve`` runs, so tests and benchmarks can run it in-process too."""

    ctx: Context
    host: str = "127.0.0.1"
    port: int = 8000
    monitor: bool = True
    demo: bool = False
    demo_interval_s: float = 3.0

    @contextmanager
    def running(self) -> Iterator[uvicorn.Server]:
        """Start API, monitor and demo stream in the background; stop them on exit."""
        stop = threading.Event()
        threads: list[threading.Thread] = []
        deriver = Deriver(self.ctx.db, self.ctx.configs, self.ctx.now).start()
        monitor = Monitor(self.ctx).start() if self.monitor else None
        if self.demo:
            stream = DemoStream(self.ctx, rng=random.Random())
            thread = threading.Thread(
                target=stream.run, args=(stop, self.demo_interval_s), daemon=True
            )
            thread.start()
            threads.append(thread)
        config = uvicorn.Config(
            build_app(self.ctx), host=self.host, port=self.port, log_level="warning"
        )
        server = uvicorn.Server(config)
        web = threading.Thread(target=server.run, daemon=True)
        web.start()
        threads.append(web)
        try:
            yield server
        finally:
            server.should_exit = True
            stop.set()
            for thread in threads:
                thread.join(10)
            if monitor is not None:
                monitor.stop()
            deriver.stop()


def serve(
    *,
    host: str,
    port: int,
    monitor: bool,
    demo: bool,
    url: str | None = None,
) -> None:
    """Run until interrupted (``duly serve``)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    ctx = open_context(fresh_demo_url() if demo else url)
    token = seed_demo(ctx) if demo else None
    server = Server(ctx, host=host, port=port, monitor=monitor, demo=demo)
    with server.running() as web:
        while not web.started and not web.should_exit:
            time.sleep(0.05)
        if not web.started:
            raise SystemExit(f"duly could not listen on {host}:{port}")
        print(f"duly is serving on http://{host}:{port}/ (API docs at /docs)", flush=True)
        if token is not None:
            print(f"demo database: {DEMO_DATABASE}; sign in with this admin token:", flush=True)
            print(token, flush=True)
        try:
            while not web.should_exit:
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
