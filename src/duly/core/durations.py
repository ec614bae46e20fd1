"""Durations as people write them in SLA targets and on the command line.

Targets are written ``8h``, ``1h30m``, ``3d`` or ISO 8601 ``PT8H30M``; the engine wants seconds.
A day here is 24 hours of the calendar's business time, not a working day: "3d" on a 9-17
calendar is 72 business hours. That keeps a duration's meaning independent of the calendar it is
counted in.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["format_duration", "parse_duration"]

_UNITS: Final = {"w": 604_800, "d": 86_400, "h": 3_600, "m": 60, "s": 1}
_HUMAN: Final = re.compile(r"(\d+(?:\.\d+)?)\s*(w|d|h|m|s)", re.IGNORECASE)
_ISO: Final = re.compile(
    r"P(?:(?P<w>\d+(?:\.\d+)?)W)?(?:(?P<d>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?",
    re.IGNORECASE,
)


def parse_duration(text: str | int | float) -> float:
    """Seconds in ``text``: a number of seconds, ``1d2h30m15s`` style, or ISO 8601 ``P1DT2H``.

    Raises ValueError naming what could not be read; negative and empty durations are refused
    because no SLA target is negative (use a signed number of seconds for backward arithmetic).
    """
    if isinstance(text, bool):
        raise ValueError(f"not a duration: {text!r}")
    if isinstance(text, int | float):
        if text < 0:
            raise ValueError(f"duration must not be negative, got {text}")
        return float(text)
    raw = text.strip()
    if not raw:
        raise ValueError("duration is empty")
    if re.fullmatch(r"\d+(?:\.\d+)?", raw):
        return float(raw)
    iso = _ISO.fullmatch(raw)
    if iso and any(iso.groupdict().values()) and not raw.upper().endswith("T"):
        return sum(float(v) * _UNITS[k] for k, v in iso.groupdict().items() if v)
    compact = raw.replace(" ", "")
    parts = _HUMAN.findall(compact)
    if not parts or "".join(n + u for n, u in parts) != compact:
        raise ValueError(
            f"cannot read duration {text!r}: write it like 8h, 1h30m, 2d, 45m or PT8H30M"
        )
    units = [u.lower() for _, u in parts]
    if len(set(units)) != len(units):
        raise ValueError(f"cannot read duration {text!r}: a unit appears twice")
    return sum(float(n) * _UNITS[u.lower()] for n, u in parts)


def format_duration(seconds: float) -> str:
    """``30600`` -> ``"8h 30m"``; negative durations keep their sign, fractions are rounded."""
    sign = "-" if seconds < 0 else ""
    rest = round(abs(seconds))
    if rest == 0:
        return "0s"
    out = []
    for unit in ("d", "h", "m", "s"):
        size = _UNITS[unit]
        count, rest = divmod(rest, size)
        if count:
            out.append(f"{count}{unit}")
    return sign + " ".join(out)
