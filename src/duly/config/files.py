"""Reading calendars out of YAML files, as the CLI's ``--calendar FILE[:NAME]`` names them."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from duly.config.calendars import calendar_from_spec
from duly.config.errors import ConfigError, Problem
from duly.core.calendar import Calendar

__all__ = ["load_calendar", "read_calendar_specs"]


def read_calendar_specs(path: Path) -> dict[str, Any]:
    """The named calendar specs in a file: its ``calendars:`` mapping, or the file's one spec."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(Problem("", f"cannot read file: {exc.strerror}", file=str(path))) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(
            Problem(
                "",
                f"not valid YAML: {getattr(exc, 'problem', exc)}",
                file=str(path),
                line=mark.line + 1 if mark else None,
            )
        ) from exc
    if isinstance(document, Mapping) and isinstance(document.get("calendars"), Mapping):
        return {str(k): v for k, v in document["calendars"].items()}
    if isinstance(document, Mapping) and "timezone" in document:
        return {path.stem: document}
    raise ConfigError(
        Problem(
            "calendars",
            "the file has no 'calendars:' mapping and is not one calendar spec",
            file=str(path),
        )
    )


def load_calendar(reference: str) -> Calendar:
    """``FILE`` or ``FILE:NAME`` -> the calendar; a file with one calendar needs no name."""
    path_text, _, name = reference.rpartition(":") if ":" in reference else (reference, "", "")
    if not path_text or not Path(path_text).exists():
        path_text, name = reference, ""
    path = Path(path_text)
    specs = read_calendar_specs(path)
    if not name:
        if len(specs) != 1:
            raise ConfigError(
                Problem(
                    "calendars",
                    f"the file holds {len(specs)} calendars; name one with FILE:NAME "
                    f"({', '.join(specs)})",
                    file=str(path),
                )
            )
        name = next(iter(specs))
    if name not in specs:
        raise ConfigError(
            Problem(
                f"calendars.{name}",
                f"no such calendar; the file has {', '.join(specs) or 'none'}",
                file=str(path),
            )
        )
    try:
        return calendar_from_spec(specs[name], name=name, field=f"calendars.{name}")
    except ConfigError as exc:
        raise ConfigError(
            [Problem(p.field, p.reason, file=str(path), line=p.line) for p in exc.problems]
        ) from exc
