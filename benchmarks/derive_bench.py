"""How fast stored events become stored clocks: queued and derived in chunks, or in each request.

    python benchmarks/derive_bench.py                        # SQLite, and PostgreSQL if reachable
    python benchmarks/derive_bench.py --backend postgresql --events 40000 --repeat 3

In one process, on a fresh database each time, the same events (tickets of 8 events, as
``api_bench`` sends them) go in two ways:

* queued: stored in requests of 10,000 without deriving (what ``POST /events`` does), then
  derived by ``drain_once`` until the queue is empty, a chunk of tickets at a time (what the
  server's deriver does). Printed: the deriving alone, and storing plus deriving;
* in the request: stored in requests of ``--request`` events, each request deriving its own
  tickets in its transaction (``?wait=true``, and how every request worked before deriving was
  queued).

The ratio is the queued way end to end against the in-request way. The machine is shared: the
medians of ``--repeat`` runs are what to quote.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from api_bench import CONFIG, _database, _story, backends  # this folder: run as a script
from duly.service.config_changes import put_config
from duly.service.context import Context
from duly.service.deriver import drain_once
from duly.service.ingest import MAX_BATCH, ingest
from duly.store.database import Database


@contextmanager
def _fresh(backend: str) -> Iterator[Context]:
    """A context on a new, migrated database of ``backend`` with the config loaded."""
    with _database(backend) as url:
        db = Database(url)
        db.upgrade()
        ctx = Context(db)
        put_config(db, ctx.configs, CONFIG, "bench", ctx.now())
        try:
            yield ctx
        finally:
            db.dispose()


def queued(backend: str, events: list[dict[str, Any]]) -> tuple[float, float]:
    """Seconds to derive the queue, and to store and derive everything."""
    with _fresh(backend) as ctx:
        start = time.perf_counter()
        for lo in range(0, len(events), MAX_BATCH):
            ingest(ctx.db, ctx.configs, events[lo : lo + MAX_BATCH], ctx.now(), derive_now=False)
        stored = time.perf_counter()
        while drain_once(ctx.db, ctx.configs, ctx.now()):
            pass
        done = time.perf_counter()
    return done - stored, done - start


def in_request(backend: str, events: list[dict[str, Any]], size: int) -> float:
    """Seconds to store everything, each request deriving its tickets."""
    with _fresh(backend) as ctx:
        start = time.perf_counter()
        for lo in range(0, len(events), size):
            ingest(ctx.db, ctx.configs, events[lo : lo + size], ctx.now(), derive_now=True)
        done = time.perf_counter()
    return done - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--events", type=int, default=40_000)
    parser.add_argument("--request", type=int, default=100, help="events a request, in-request")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    events = _story("d", args.events)
    for backend in backends(args.backend):
        derive_s, total_s, request_s = [], [], []
        for _ in range(args.repeat):
            derived, total = queued(backend, events)
            derive_s.append(derived)
            total_s.append(total)
            request_s.append(in_request(backend, events, args.request))
        n = len(events)
        derive, total, request = (statistics.median(v) for v in (derive_s, total_s, request_s))
        print(
            f"{backend}: {n:,} events, median of {args.repeat}\n"
            f"  queued: derived at {n / derive:,.0f} events/s; "
            f"stored and derived at {n / total:,.0f} events/s\n"
            f"  in the request ({args.request} events a request): {n / request:,.0f} events/s\n"
            f"  queued / in the request: {request / total:.1f}x"
        )


if __name__ == "__main__":
    main()
