"""The monitor: fires alerts when clocks cross thresholds, and delivers them.

Two loops share one process. The firing loop wakes at the next crossing (at most every
``poll_s``), marks breached clocks, and turns due crossings into alerts and outbox rows in one
transaction. The delivery loop leases due outbox rows, sends them outside any transaction and
records the outcome; a lease that a dead worker leaves behind runs out and another worker takes
the row. Any number of monitors can run against one PostgreSQL database: rows are taken with
``FOR UPDATE SKIP LOCKED`` and every alert has a unique key, so none fires twice.
"""

from __future__ import annotations

import logging
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Final

import httpx

from duly.monitor.delivery import MAX_ATTEMPTS, DeliveryError, deliver, retry_delay_s
from duly.service.alert_channels import alert_message, load_channel
from duly.service.channels import ChannelError
from duly.service.clock_rows import to_us
from duly.service.context import Context
from duly.service.derive import rederive
from duly.service.deriver import settle
from duly.store import alerts as outbox
from duly.store import clocks as stored_clocks
from duly.store.alerts import Claimed

__all__ = ["Monitor", "MonitorStats"]

_LOG: Final = logging.getLogger("duly.monitor")
_US: Final = 1_000_000


@dataclass
class MonitorStats:
    """What this monitor did since it started (the store has the full story)."""

    fired: int = 0
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)


class Monitor:
    """Fires and delivers alerts until ``stop()``."""

    def __init__(
        self,
        ctx: Context,
        *,
        poll_s: float = 0.25,
        lease_s: float = 60.0,
        senders: int = 4,
        owner: str | None = None,
        settle_s: float = 0.5,
    ) -> None:
        self.ctx = ctx
        self.poll_s = poll_s
        self.settle_s = settle_s
        self.lease_us = int(lease_s * _US)
        self.owner = owner or f"monitor-{uuid.uuid4().hex[:8]}"
        self.stats = MonitorStats()
        self._senders = senders
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._client = httpx.Client(follow_redirects=False)

    # ------------------------------------------------------------------ firing

    def fire_due(self) -> int:
        """Fire every crossing due now; how many alerts were new.

        First, tickets with events not derived yet are derived (up to ``settle_s``), and tickets
        whose paused clocks reached their ``max_pause`` are re-derived, so a clock that runs
        again gets its due and its crossings before anything is fired.
        """
        now = self.ctx.now()
        settle(self.ctx.db, self.ctx.configs, now, budget_s=self.settle_s)
        now_us = to_us(now)
        fired = 0
        while True:
            with self.ctx.db.write() as connection:
                stored_clocks.mark_breached(connection, now_us)
                resumed = outbox.take_due_resumptions(connection, now_us)
                if resumed:
                    loaded = self.ctx.configs.current(connection)
                    rederive(connection, resumed, loaded, now)
                batch = outbox.fire_due_crossings(connection, now_us)
            fired += len(batch)
            if len(batch) < 500:
                break
        self.stats.fired += fired
        return fired

    def _seconds_to_next(self) -> float:
        with self.ctx.db.read() as connection:
            at = outbox.next_crossing_at(connection)
        if at is None:
            return self.poll_s
        wait = (at - to_us(self.ctx.now())) / _US
        return max(0.0, min(self.poll_s, wait))

    # ------------------------------------------------------------------ delivery

    def deliver_due(self) -> int:
        """Send every delivery that is due; how many were claimed."""
        claimed = self._claim()
        if not claimed:
            return 0
        if self._senders <= 1 or len(claimed) == 1:
            for item in claimed:
                self._send(item)
        else:
            with ThreadPoolExecutor(self._senders) as pool:
                list(pool.map(self._send, claimed))
        return len(claimed)

    def _claim(self) -> list[Claimed]:
        now_us = to_us(self.ctx.now())
        with self.ctx.db.write() as connection:
            return outbox.claim_deliveries(connection, self.owner, now_us, self.lease_us)

    def _send(self, item: Claimed) -> None:
        error: str | None = None
        retry_at: int | None = None
        try:
            with self.ctx.db.read() as connection:
                channel = load_channel(connection, item.channel)
            if channel is None:
                raise DeliveryError(f"no channel named {item.channel!r}", retryable=False)
            deliver(channel, alert_message(item.alert), client=self._client)
        except ChannelError as exc:
            error = f"channel {item.channel!r} is misconfigured: {exc.field}: {exc.reason}"
        except DeliveryError as exc:
            error = exc.reason
            attempt = item.attempts + 1
            if exc.retryable and attempt < MAX_ATTEMPTS:
                delay = retry_delay_s(attempt)
                if exc.retry_after_s is not None:
                    delay = max(delay, exc.retry_after_s)
                retry_at = to_us(self.ctx.now()) + int(delay * _US)
        except Exception as exc:  # a bug must not stop the monitor; the row is retried
            _LOG.exception("delivery %s to %s failed", item.delivery_id, item.channel)
            error = f"internal error: {type(exc).__name__}"
            retry_at = to_us(self.ctx.now()) + int(retry_delay_s(item.attempts + 1) * _US)
        with self.ctx.db.write() as connection:
            kept = outbox.record_attempt(
                connection,
                item.delivery_id,
                self.owner,
                now_us=to_us(self.ctx.now()),
                delivered=error is None,
                error=error,
                retry_at_us=retry_at,
            )
        if not kept:
            _LOG.warning("lost the lease on delivery %s; another monitor has it", item.delivery_id)
        elif error is None:
            self.stats.delivered += 1
        elif retry_at is None:
            self.stats.dead += 1
            _LOG.warning("alert delivery to %s dead-lettered: %s", item.channel, error)
        else:
            self.stats.failed += 1

    # ------------------------------------------------------------------ running

    def start(self) -> Monitor:
        """Run both loops in background threads."""
        for target, name in ((self._fire_loop, "fire"), (self._deliver_loop, "deliver")):
            thread = threading.Thread(target=target, name=f"{self.owner}-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the loops (if started) and close connections to receivers."""
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout)
        self._client.close()

    def __enter__(self) -> Monitor:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def run_forever(self) -> None:
        """Run until interrupted (``duly monitor``)."""
        self.start()
        try:
            while not self._stopping.wait(3600):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def _fire_loop(self) -> None:
        while not self._stopping.is_set():
            wait = self.poll_s
            try:
                self.fire_due()
                wait = self._seconds_to_next()
            except Exception as exc:  # the database may be restarting: keep trying
                self._note(exc)
            self._stopping.wait(max(wait, 0.01))

    def _deliver_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                busy = self.deliver_due()
            except Exception as exc:
                self._note(exc)
                busy = 0
            if not busy:
                self._stopping.wait(self.poll_s)

    def _note(self, exc: Exception) -> None:
        _LOG.exception("monitor loop error")
        self.stats.errors.append(f"{type(exc).__name__}: {exc}")
