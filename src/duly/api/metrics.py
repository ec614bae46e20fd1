"""Prometheus metrics: events taken in, clocks and alert deliveries by state, request latency.

Each app has its own registry, so two apps in one process (tests, or an API beside a monitor)
never mix their counters. Clock and delivery counts are read from the store at scrape time:
every API process then reports the same figures, whichever process did the work.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from fastapi import APIRouter, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Receive, Scope, Send

from duly.service import stats
from duly.service.deriver import backlog
from duly.store.database import Database

__all__ = ["ApiMetrics", "RequestTiming", "router"]

router = APIRouter(tags=["operations"])


class _StoreCollector(Collector):
    """Counts read from the store when scraped (never at registration: no query at start-up)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def describe(self) -> Iterator[Metric]:
        yield from self._families({}, {}, 0)

    def collect(self) -> Iterator[Metric]:
        yield from self._families(
            stats.clock_counts(self._db), stats.delivery_counts(self._db), backlog(self._db)
        )

    @staticmethod
    def _families(
        clocks: dict[str, int], deliveries: dict[str, int], queued: int
    ) -> Iterator[Metric]:
        by_state = GaugeMetricFamily(
            "duly_clocks", "Clocks in the store by state.", labels=["state"]
        )
        for state, count in clocks.items():
            by_state.add_metric([state], count)
        yield by_state
        delivery = GaugeMetricFamily(
            "duly_alert_deliveries",
            "Alert deliveries by state: pending, delivered, dead (failed for good).",
            labels=["state"],
        )
        for state, count in deliveries.items():
            delivery.add_metric([state], count)
        yield delivery
        yield GaugeMetricFamily(
            "duly_derive_backlog",
            "Tickets with stored events their clocks do not reflect yet (queued for deriving).",
            value=queued,
        )


class ApiMetrics:
    """The app's registry and the instruments routes update."""

    def __init__(self, db: Database) -> None:
        self.registry = CollectorRegistry()
        self.events = Counter(
            "duly_events_ingested",
            "Events received through the API: new ones, and repeats of an id already stored.",
            labelnames=["outcome"],
            registry=self.registry,
        )
        for outcome in ("new", "duplicate"):
            self.events.labels(outcome)
        self.latency = Histogram(
            "duly_request_duration_seconds",
            "Time to answer a request, by route template and method.",
            labelnames=["route", "method"],
            registry=self.registry,
        )
        self.registry.register(_StoreCollector(db))

    def ingested(self, new: int, duplicates: int) -> None:
        self.events.labels("new").inc(new)
        self.events.labels("duplicate").inc(duplicates)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class RequestTiming:
    """ASGI middleware timing each request under its route template (``/api/v1/tickets/{ticket}``).

    Paths that match no route share one label, so a scan of random URLs cannot grow the series.
    """

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            elapsed = time.perf_counter() - started
            self.metrics.latency.labels(route, scope["method"]).observe(elapsed)


@router.get("/metrics", response_class=Response, summary="Prometheus metrics (no auth)")
def metrics(request: Request) -> Response:
    instruments: ApiMetrics = request.app.state.metrics
    return Response(instruments.exposition(), media_type=CONTENT_TYPE_LATEST)
