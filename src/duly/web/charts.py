"""Chart geometry for inline SVG: met % lines over periods, and clocks drawn along a ticket's life.

Only coordinates and labels are computed here; the templates draw them. Nothing decides an SLA
outcome: the figures come from the service as they are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

__all__ = ["LineChart", "Timeline", "clock_timeline", "line_chart", "parse_instant"]

_SHAPES: Final = ("circle", "square", "triangle", "diamond", "down", "cross")
_SERIES_STYLES: Final = 6


def parse_instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    title: str
    polygon: str | None  # None: draw a circle


@dataclass(frozen=True)
class Line:
    name: str
    style: str
    shape: str
    path: str
    points: list[Point]
    legend: str | None  # the marker in a 22x14 legend swatch; None: a circle


@dataclass(frozen=True)
class LineChart:
    title: str
    width: int
    height: int
    left: int
    top: int
    right: int
    bottom: int
    x_labels: list[tuple[float, str, str]]  # x, text, text-anchor
    y_labels: list[tuple[float, str]]
    lines: list[Line]


def _anchor(index: int, count: int) -> str:
    """Labels at the ends of an axis lean inwards, so none is cut off at the edge."""
    if count > 1 and index == count - 1:
        return "end"
    return "start" if count > 1 and index == 0 else "middle"


def _marker(shape: str, x: float, y: float, r: float = 4.5) -> str | None:
    corners: dict[str, list[tuple[float, float]]] = {
        "square": [(-r, -r), (r, -r), (r, r), (-r, r)],
        "triangle": [(0, -r - 1), (r + 1, r), (-r - 1, r)],
        "diamond": [(0, -r - 1), (r + 1, 0), (0, r + 1), (-r - 1, 0)],
        "down": [(-r - 1, -r), (r + 1, -r), (0, r + 1)],
        "cross": [(-r, -1.5), (r, -1.5), (r, 1.5), (-r, 1.5)],
    }
    if shape not in corners:
        return None
    return " ".join(f"{x + dx:.1f},{y + dy:.1f}" for dx, dy in corners[shape])


def line_chart(
    title: str,
    periods: Sequence[str],
    series: Mapping[str, Mapping[str, Mapping[str, Any]]],
    *,
    width: int = 560,
    height: int = 240,
) -> LineChart:
    """Met % (0-100) per period, one line per series; a period with no decided clock is a gap.

    ``series`` maps a series name to ``{period: compliance row}``.
    """
    left, right, top, bottom = 44, width - 16, 12, height - 36
    step = (right - left) / max(len(periods) - 1, 1)
    xs = {
        p: left + (i * step if len(periods) > 1 else (right - left) / 2)
        for i, p in enumerate(periods)
    }

    def y_of(pct: float) -> float:
        return bottom - (bottom - top) * pct / 100

    lines: list[Line] = []
    for index, (name, rows) in enumerate(series.items()):
        shape = _SHAPES[index % len(_SHAPES)]
        points: list[Point] = []
        path: list[str] = []
        pen_down = False
        for period in periods:
            row = rows.get(period)
            pct = None if row is None else row.get("met_pct")
            if row is None or pct is None:
                pen_down = False
                continue
            x, y = xs[period], y_of(float(pct))
            path.append(f"{'L' if pen_down else 'M'}{x:.1f},{y:.1f}")
            pen_down = True
            detail = f"{name}, {period}: {pct:.1f} % met ({row['met']} of {row['total']})"
            points.append(Point(x, y, detail, _marker(shape, x, y)))
        style = f"s{index % _SERIES_STYLES}"
        lines.append(Line(name, style, shape, " ".join(path), points, _marker(shape, 11, 7, 4)))
    every = max(1, len(periods) // 8)
    shown = [p for i, p in enumerate(periods) if i % every == 0]
    x_labels = [(xs[p], p, _anchor(i, len(shown))) for i, p in enumerate(shown)]
    y_labels = [(y_of(v), f"{v} %") for v in (0, 25, 50, 75, 100)]
    return LineChart(title, width, height, left, top, right, bottom, x_labels, y_labels, lines)


@dataclass(frozen=True)
class Bar:
    x: float
    width: float
    kind: str  # run, pause or over
    title: str


@dataclass(frozen=True)
class Lane:
    y: float
    label: str
    state: str
    bars: list[Bar]
    due_x: float | None
    due_title: str


@dataclass(frozen=True)
class Mark:
    x: float
    title: str


@dataclass(frozen=True)
class Timeline:
    width: int
    height: int
    left: int
    right: int
    lane_top: int
    lanes: list[Lane]
    events: list[Mark]
    ticks: list[tuple[float, str, str]]  # x, text, text-anchor
    now_x: float


def clock_timeline(
    clocks: Sequence[Mapping[str, Any]],
    event_times: Sequence[tuple[datetime, str]],
    now: datetime,
    *,
    width: int = 960,
    lane_height: int = 30,
) -> Timeline:
    """Each clock as a lane along the ticket's life: running, paused, and past due; due marked."""
    left, right, lane_top = 190, width - 20, 44
    instants = [now, *(at for at, _ in event_times)]
    for clock in clocks:
        instants += [parse_instant(clock["start"]), parse_instant(clock["due"])]
        if clock["stop"]:
            instants.append(parse_instant(clock["stop"]))
    first, last = min(instants), max(instants)
    span = max((last - first).total_seconds(), 1.0)

    def x_of(at: datetime) -> float:
        return left + (right - left) * (at - first).total_seconds() / span

    def stamp(at: datetime) -> str:
        return at.strftime("%Y-%m-%d %H:%M UTC")

    lanes: list[Lane] = []
    for index, clock in enumerate(clocks):
        start, due = parse_instant(clock["start"]), parse_instant(clock["due"])
        end = parse_instant(clock["stop"]) if clock["stop"] else now
        until = "stopped" if clock["stop"] else "now"
        bars = [Bar(x_of(start), x_of(end) - x_of(start), "run", f"ran {stamp(start)} to {until}")]
        if end > due:
            bars.append(
                Bar(x_of(due), x_of(end) - x_of(due), "over", f"past due since {stamp(due)}")
            )
        for pause in clock["pauses"]:
            p_start = parse_instant(pause["start"])
            p_end = parse_instant(pause["end"]) if pause["end"] else end
            cause = pause.get("cause") or "paused"
            bars.append(
                Bar(
                    x_of(p_start),
                    x_of(p_end) - x_of(p_start),
                    "pause",
                    f"{cause} from {stamp(p_start)}",
                )
            )
        cycle = f" #{clock['cycle']}" if clock["cycle"] > 1 else ""
        lanes.append(
            Lane(
                lane_top + index * lane_height,
                f"{clock['metric']}{cycle} ({clock['agreement']})",
                str(clock["state"]),
                bars,
                x_of(due),
                f"due {stamp(due)}",
            )
        )
    instants_shown = [first + (last - first) * i / 4 for i in range(5)]
    ticks = [
        (x_of(at), at.strftime("%m-%d %H:%M"), _anchor(i, len(instants_shown)))
        for i, at in enumerate(instants_shown)
    ]
    events = [Mark(x_of(at), f"{stamp(at)}: {what}") for at, what in event_times]
    height = lane_top + max(len(lanes), 1) * lane_height + 30
    return Timeline(width, height, left, right, lane_top, lanes, events, ticks, x_of(now))
