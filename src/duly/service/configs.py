"""The SLA config in force: stored versions, parsed once per process and version."""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from dataclasses import dataclass

from sqlalchemy import Connection

from duly.config.sla import load_config_text
from duly.core.agreements import SlaConfig
from duly.store import configs as stored

__all__ = ["EMPTY_CONFIG", "ConfigCache", "LoadedConfig", "parse_config", "sha256_of"]

EMPTY_CONFIG = SlaConfig(calendars={}, agreements=(), version="0")


@dataclass(frozen=True)
class LoadedConfig:
    """A config version: its number, its text and the model the core runs on."""

    version: int
    text: str
    config: SlaConfig


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse_config(text: str, version: int) -> SlaConfig:
    """The model of ``text``, stamped with the store's version number; raises ``ConfigError``."""
    config = load_config_text(text, source="config.yaml")
    return dataclasses.replace(config, version=str(version))


class ConfigCache:
    """The newest config version, parsed at most once per process.

    Several API processes share one database: each asks the store for the newest version number
    (one indexed lookup) and re-parses only when another process stored a new one.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded = LoadedConfig(0, "", EMPTY_CONFIG)

    def current(self, connection: Connection) -> LoadedConfig:
        version = stored.latest_version(connection)
        with self._lock:
            if version == self._loaded.version:
                return self._loaded
        row = stored.config_version(connection, version)
        loaded = (
            LoadedConfig(0, "", EMPTY_CONFIG)
            if row is None
            else LoadedConfig(version, row.text, parse_config(row.text, version))
        )
        with self._lock:
            if loaded.version >= self._loaded.version:
                self._loaded = loaded
        return loaded

    def current_after_write(self, loaded: LoadedConfig) -> None:
        """Adopt a version this process just stored, without asking the store again."""
        with self._lock:
            if loaded.version >= self._loaded.version:
                self._loaded = loaded
