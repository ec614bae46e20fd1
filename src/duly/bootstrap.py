"""The composition root: settings -> database -> context -> API app and monitor.

Nothing is built at import time anywhere in duly; this module is the one place that wires the
pieces together, so tests can wire the same pieces with a temporary database instead.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import random
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from duly.api.app import create_app
from duly.monitor.worker import Monitor
from duly.service.collector import freeze_startup_heap
from duly.service.context import Context
from duly.service.demo import DemoStream, seed_demo
from duly.service.deriver import Deriver
from duly.store.database import Database, database_url
from duly.web.dashboard import mount_dashboard

__all__ = ["DEMO_DATABASE", "Server", "build_app", "open_context", "serve"]

DEMO_DATABASE = Path("duly-demo.db")
#: How often the background process looks for queued tickets: API processes cannot wake it,
#: so this is the longest a ticket waits to be derived when the server is idle.
BACKGROUND_POLL_S = 0.05
#: How much lower the background process's CPU priority is than the API's (``nice``).
BACKGROUND_NICENESS = 5


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
    workers: int = 1,
) -> None:
    """Run until interrupted (``duly serve``).

    The API answers in this process and ``workers - 1`` more on the same socket; deriving and
    the monitor run in a process of their own. Each process has its own interpreter lock, so
    answering requests and running the clock engine use separate cores instead of taking
    turns on one.
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    ctx = open_context(fresh_demo_url() if demo else url)
    token = seed_demo(ctx) if demo else None
    database = ctx.db.url.render_as_string(hide_password=False)
    listener = _listen(host, port)
    spawn = multiprocessing.get_context("spawn")
    me = os.getpid()
    children = [
        spawn.Process(target=_background, args=(database, monitor, me), name="duly-background")
    ]
    children += [
        spawn.Process(target=_api_process, args=(database, listener, me), name=f"duly-api-{n}")
        for n in range(1, workers)
    ]
    for child in children:
        child.daemon = True
        child.start()
    stop = threading.Event()
    # uvicorn re-raises SIGINT/SIGTERM after its own shutdown when it runs in the main thread,
    # which would end this process before it stops its children: it runs in a thread instead,
    # and the signals are handled here.
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: stop.set())
    if demo:
        stream = DemoStream(ctx, rng=random.Random())
        threading.Thread(target=stream.run, args=(stop, 3.0), daemon=True).start()
    web = uvicorn.Server(uvicorn.Config(build_app(ctx), log_level="warning"))
    freeze_startup_heap()
    thread = threading.Thread(target=web.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        while not web.started and thread.is_alive() and not stop.is_set():
            time.sleep(0.05)
        if web.started:
            print(f"duly is serving on http://{host}:{port}/ (API docs at /docs)", flush=True)
            if token is not None:
                print(f"demo database: {DEMO_DATABASE}; sign in with this admin token:", flush=True)
                print(token, flush=True)
        while thread.is_alive() and not stop.wait(0.5):
            pass
    finally:
        stop.set()
        web.should_exit = True
        thread.join(15)
        for child in children:
            child.terminate()
        for child in children:
            child.join(15)
        listener.close()


def _listen(host: str, port: int) -> socket.socket:
    """The listening socket every API process accepts on (bound once, here)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as exc:
        listener.close()
        raise SystemExit(f"duly could not listen on {host}:{port}: {exc.strerror}") from exc
    listener.listen(2048)
    listener.set_inheritable(True)
    return listener


def _api_process(url: str, listener: socket.socket, parent: int) -> None:
    """One more API process, accepting on the shared socket (``--workers``)."""
    ctx = Context(Database(url))
    web = uvicorn.Server(uvicorn.Config(build_app(ctx), log_level="warning"))
    freeze_startup_heap()
    _orphan_watch(parent, lambda: setattr(web, "should_exit", True))
    web.run(sockets=[listener])


def _background(url: str, monitor: bool, parent: int) -> None:
    """The deriver and (unless ``--no-monitor``) the monitor, until the parent stops them."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    ctx = Context(Database(url))
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the parent, which stops us
    _orphan_watch(parent, stopping.set)
    # Answering requests comes first: when the cores are busy, deriving waits a little (and
    # catches up when they are not), rather than every request waiting for it.
    os.nice(BACKGROUND_NICENESS)
    freeze_startup_heap()
    deriver = Deriver(ctx.db, ctx.configs, ctx.now, poll_s=BACKGROUND_POLL_S).start()
    watcher = Monitor(ctx).start() if monitor else None
    stopping.wait()
    if watcher is not None:
        watcher.stop()
    deriver.stop()


def _orphan_watch(parent: int, stop: Callable[[], None]) -> None:
    """Call ``stop`` if the parent process goes away without stopping this one (killed)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        stop()

    threading.Thread(target=watch, name="duly-orphan-watch", daemon=True).start()
