"""Query parameters shared by routes: lists given comma-separated or repeated, instants, zones."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, tzinfo
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Query

from duly.api.errors import ApiError

__all__ = ["Cursor", "Many", "instant", "values", "zone"]

#: A filter given comma-separated (``?state=active,paused``) or repeated (``?state=a&state=b``).
Many = Annotated[
    list[str] | None,
    Query(description="Comma-separated or repeated; matches any of the values."),
]
Cursor = Annotated[str | None, Query(description="`next_cursor` of the previous page.")]


def values(raw: Iterable[str] | None, field: str, allowed: Sequence[str] = ()) -> tuple[str, ...]:
    """``?state=active,paused&state=met`` -> ``("active", "paused", "met")``.

    With ``allowed``, a value outside it is refused by name, so a typo is not an empty answer.
    """
    found: list[str] = []
    for item in raw or ():
        found.extend(part.strip() for part in item.split(",") if part.strip())
    for value in found:
        if allowed and value not in allowed:
            raise ApiError(422, f"{field}: {value!r} is not one of {', '.join(allowed)}", field)
    return tuple(dict.fromkeys(found))


def zone(name: str, field: str = "tz") -> tzinfo:
    if name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ApiError(422, f"{field}: unknown time zone {name!r}", field) from None


def instant(text: str | None, field: str, tz: tzinfo) -> datetime | None:
    """An ISO 8601 instant with its offset, or a date meaning its midnight in ``tz``."""
    if text is None or not text.strip():
        return None
    text = text.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(), tzinfo=tz)
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ApiError(
            422, f"{field}: {text!r} is not an ISO 8601 date or date-time", field
        ) from None
    if value.tzinfo is None:
        raise ApiError(
            422, f"{field}: {text!r} has no UTC offset; add one (Z, +01:00) or give a date", field
        )
    return value
