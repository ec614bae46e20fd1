"""Pausing CPython's cycle collector around work that makes many short-lived objects.

Reading a large event file or evaluating thousands of tickets keeps many small objects alive
while it runs, and the cycle collector would walk them again and again: a sixth to a third of the
time. Events, steps and clocks hold no reference cycles, so nothing is lost by not looking for
any until the work is done.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collector_paused", "freeze_startup_heap"]


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cycle collector for the block, then put it back as it was."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def freeze_startup_heap() -> None:
    """Leave what start-up built (modules, the app, its routes) out of every later collection.

    A server's heap is mostly what it imported, and it lives until the process ends; a full
    collection walks all of it (some 200,000 objects, tens of milliseconds), and a busy API
    sets one off every few large requests. Frozen, it is never walked again.
    """
    gc.collect()
    gc.freeze()
