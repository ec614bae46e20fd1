"""What every use case runs against: the database, the config cache and the time.

Built once by the composition root (``duly.bootstrap``) and handed down; tests build their own
with a temporary database and a clock they set.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from duly.service.configs import ConfigCache
from duly.store.database import Database

__all__ = ["Context", "system_time"]


def system_time() -> datetime:
    return datetime.now(UTC)


@dataclass
class Context:
    db: Database
    configs: ConfigCache = field(default_factory=ConfigCache)
    clock: Callable[[], datetime] = system_time

    def now(self) -> datetime:
        return self.clock()
