"""Compliance, SLA log, attribution, rate targets and what-if comparisons over clock tables.

Reports count what was decided: a clock is **met** when it stopped within its target and
**missed** when it breached (whether it has stopped or still runs past due). Clocks still running
within target are **open** and cancelled clocks are left out. Times are the clocks' elapsed
business time (in each target's calendar) and calendar time.

All grouping is done on integer codes with NumPy, so a report over millions of clocks takes
about as long as sorting them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from duly.core.agreements import SlaConfig
from duly.core.calendar import utc_offsets
from duly.core.clock_table import NAT, Categorical, ClockTable

__all__ = [
    "DATE_KEYS",
    "GROUP_KEYS",
    "LOG_COLUMNS",
    "attribution",
    "compare",
    "compliance",
    "rate_outcomes",
    "sla_log",
]

DATE_KEYS: Final = ("day", "week", "month")
GROUP_KEYS: Final = (
    *DATE_KEYS,
    "agreement",
    "policy",
    "metric",
    "priority",
    "group",
    "assignee",
    "organization",
    "channel",
)
LOG_COLUMNS: Final = (
    "ticket",
    "agreement",
    "policy",
    "metric",
    "cycle",
    "priority",
    "group",
    "assignee",
    "start",
    "due",
    "stop",
    "state",
    "breached_at",
    "business_elapsed_s",
    "calendar_elapsed_s",
    "paused_s",
    "remaining_s",
)
_STATS: Final = ("avg", "median", "p90", "min", "max")
# Values per group from which sorting each group's values in turn beats one argsort of all.
_SORT_IN_PLACE: Final = 64


@dataclass(frozen=True)
class _Groups:
    """Rows' group numbers and each group's key values."""

    index: npt.NDArray[np.intp]
    keys: list[dict[str, str | None]]


def _date_labels(instants: npt.NDArray[np.int64], key: str, tz: tzinfo) -> Categorical:
    """Day, ISO week or month of each instant in ``tz``, computed on whole arrays."""
    missing = instants == NAT
    seconds = np.where(missing, 0, instants // 1_000_000)
    zone = getattr(tz, "key", None)
    if zone is not None:
        local = seconds + utc_offsets(zone, seconds)
    else:  # a fixed-offset tzinfo such as datetime.UTC
        offset = tz.utcoffset(None)
        local = seconds + (int(offset.total_seconds()) if offset is not None else 0)
    # Days since 1970-01-01, local. Millions of clocks fall on a few thousand days: the date
    # arithmetic below runs on the distinct days only and the rows pick theirs by code.
    distinct_days, day_codes = _small_unique(local // 86_400)
    number = _period_numbers(distinct_days, key)
    # Each period is a run of consecutive distinct days (numbers never decrease with the day).
    distinct, inverse = np.unique(number, return_inverse=True)
    labels: list[str | None] = [_date_text(int(v), key) for v in distinct.tolist()]
    codes: npt.NDArray[np.int32] = inverse.reshape(-1).astype(np.int32)[day_codes]
    if missing.any():
        labels.append(None)
        codes = np.where(missing, len(labels) - 1, codes).astype(np.int32)
    return Categorical(codes, tuple(labels))


def _period_numbers(days: npt.NDArray[np.int64], key: str) -> npt.NDArray[np.int64]:
    """Each day's period as a number that sorts like its label: the day, month or ISO week."""
    if key == "day":
        return days
    if key == "month":
        return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    # ISO week: the week of the Thursday in it, numbered within that Thursday's year
    thursday = days - (days + 3) % 7 + 3  # 1970-01-01 was a Thursday
    year = thursday.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64)
    first_day = year.astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)
    week: npt.NDArray[np.int64] = (year + 1970) * 100 + (thursday - first_day) // 7 + 1
    return week


def _small_unique(
    values: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.intp]]:
    """``np.unique(values, return_inverse=True)``, without sorting when the values span little.

    Days, months and combined group codes span a few thousand values over millions of rows: a
    table indexed by value finds the distinct ones in linear time, where ``np.unique`` sorts.
    """
    if len(values) == 0:
        return values[:0], np.zeros(0, dtype=np.intp)
    low = int(values.min())
    span = int(values.max()) - low + 1
    if span > max(len(values), 1 << 16):
        distinct, inverse = np.unique(values, return_inverse=True)
        return distinct, inverse.reshape(-1).astype(np.intp)
    offsets = values - low
    present = np.zeros(span, dtype=np.bool_)
    present[offsets] = True
    code_of = np.cumsum(present, dtype=np.intp) - 1
    return np.flatnonzero(present).astype(np.int64) + low, code_of[offsets]


def _date_text(number: int, key: str) -> str:
    if key == "day":
        return str(np.datetime64(number, "D"))
    if key == "month":
        return str(np.datetime64(number, "M"))
    return f"{number // 100}-W{number % 100:02d}"


def _group(table: ClockTable, by: Sequence[str], rows: npt.NDArray[np.intp], tz: tzinfo) -> _Groups:
    for key in by:
        if key not in GROUP_KEYS:
            raise ValueError(f"cannot group by {key!r}; use any of {', '.join(GROUP_KEYS)}")
    columns: list[Categorical] = []
    for key in by:
        if key in DATE_KEYS:
            columns.append(_date_labels(table.instants["start"][rows], key, tz))
        else:
            columns.append(table.text[key].take(rows))
    if not columns:
        return _Groups(np.zeros(len(rows), dtype=np.intp), [{}])
    sorted_columns = [_in_label_order(column) for column in columns]
    if any(column is None for column in sorted_columns):
        return _group_unordered(by, columns)
    # Each column's codes now number its used labels in report order (None last), so one int64
    # key per row (mixed radix over the columns) sorts like the rows' key tuples: the groups come
    # out of the unique in report order, with no sort of the groups' keys.
    combined = np.zeros(len(rows), dtype=np.int64)
    widths = []
    for column in sorted_columns:
        assert column is not None
        width = max(len(column.labels), 1)
        widths.append(width)
        combined = combined * width + column.codes
    distinct_keys, inverse = _small_unique(combined)
    codes_of = []
    rest = distinct_keys
    for width in reversed(widths):
        codes_of.append((rest % width).tolist())
        rest = rest // width
    codes_of.reverse()
    values_of = [
        [column.labels[c] for c in codes]
        for column, codes in zip(sorted_columns, codes_of, strict=True)
        if column is not None
    ]
    keys = [dict(zip(by, values, strict=True)) for values in zip(*values_of, strict=True)]
    return _Groups(inverse, keys)


def _in_label_order(column: Categorical) -> Categorical | None:
    """The column recoded to its used labels only, numbered in sorted order with None last.

    None when two codes share a label: those stay separate groups, ordered as
    ``_group_unordered`` orders them.
    """
    used = np.flatnonzero(np.bincount(column.codes, minlength=len(column.labels)))
    labels = [column.labels[i] for i in used.tolist()]
    if len(set(labels)) != len(labels):
        return None
    order = sorted(range(len(labels)), key=lambda i: _sortable(labels[i]))
    rank = np.zeros(len(column.labels), dtype=np.int32)
    rank[used[np.asarray(order, dtype=np.intp)]] = np.arange(len(order))
    return Categorical(rank[column.codes], tuple(labels[i] for i in order))


def _group_unordered(by: Sequence[str], columns: list[Categorical]) -> _Groups:
    """Groups of columns whose labels repeat: unique on the codes, then sort the groups' keys."""
    combined = np.zeros(len(columns[0].codes), dtype=np.int64)
    for column in columns:
        combined = combined * max(len(column.labels), 1) + column.codes
    distinct_keys, inverse = np.unique(combined, return_inverse=True)
    codes_of = []
    rest = distinct_keys.copy()
    for column in reversed(columns):
        width = max(len(column.labels), 1)
        codes_of.append(rest % width)
        rest //= width
    codes_of.reverse()
    keys = [
        {by[j]: columns[j].labels[int(codes_of[j][g])] for j in range(len(by))}
        for g in range(len(distinct_keys))
    ]
    order = sorted(range(len(keys)), key=lambda g: tuple(_sortable(keys[g][k]) for k in by))
    rank = np.empty(len(order), dtype=np.intp)
    rank[np.asarray(order, dtype=np.intp)] = np.arange(len(order))
    return _Groups(rank[inverse.reshape(-1)], [keys[g] for g in order])


def _sortable(value: str | None) -> tuple[int, str]:
    return (1, "") if value is None else (0, value)


def _stats(
    values: npt.NDArray[np.float64], groups: npt.NDArray[np.intp], n: int
) -> dict[str, list[float | None]]:
    """avg, median, p90 (linear interpolation), min and max of ``values`` per group.

    All groups at once: each group's values are a sorted segment, so each statistic is a
    gather at the segments' offsets, not a Python loop over thousands of groups.
    """
    if len(values) == 0:
        return {s: [None] * n for s in _STATS}
    # Sort by value, then stably by group (a radix sort on small integers): each group's values
    # end up together and in order.
    counts = np.bincount(groups, minlength=n)
    group_type = np.int16 if n < 1 << 15 else np.int64
    ambiguous = _has_ambiguous_ties(values)
    if n == 1 and not ambiguous:
        # One group (the report's default): sorting the values alone is several times faster
        # than an argsort, and gives the very same array when equal values are equal bits.
        v = np.sort(values)
        sorted_groups = groups
    elif len(values) >= _SORT_IN_PLACE * n and not ambiguous:
        # Few groups for their values: group them first, then sort each group's values in
        # place; for the same reason as above this gives the argsort's very array, in a
        # fraction of its time.
        by_group = np.argsort(groups.astype(group_type), kind="stable")
        v = values[by_group]
        sorted_groups = groups[by_group]
        ends = np.cumsum(counts)
        for begin, end in zip((ends - counts).tolist(), ends.tolist(), strict=True):
            if end - begin > 1:
                v[begin:end].sort()
    else:
        by_value = np.argsort(values)
        order = by_value[np.argsort(groups[by_value].astype(group_type), kind="stable")]
        v = values[order]
        sorted_groups = groups[order]
    filled = np.flatnonzero(counts)
    size = counts[filled]
    first = (np.cumsum(counts) - counts)[filled]
    # Summed in the sorted order, as the statistics always were, so the averages agree to the bit.
    sums = np.bincount(sorted_groups, weights=v, minlength=n)[filled]
    found = {
        "avg": sums / size,
        "median": _percentiles(v, first, size, 0.5),
        "p90": _percentiles(v, first, size, 0.9),
        "min": v[first],
        "max": v[first + size - 1],
    }
    out: dict[str, list[float | None]] = {}
    slots = filled.tolist()
    for stat in _STATS:
        column: list[float | None] = [None] * n
        for i, x in zip(slots, found[stat].tolist(), strict=True):
            column[i] = x
        out[stat] = column
    return out


def _has_ambiguous_ties(values: npt.NDArray[np.float64]) -> bool:
    """Whether values that sort as equal may differ in bits (-0.0 and 0.0, NaNs): then which
    one a sort puts first depends on the algorithm, and only the argsort keeps past results."""
    return bool(np.isnan(values).any() or np.signbit(values[values == 0]).any())


def _percentiles(
    sorted_values: npt.NDArray[np.float64],
    first: npt.NDArray[np.intp],
    size: npt.NDArray[np.intp],
    q: float,
) -> npt.NDArray[np.float64]:
    """Linear-interpolation percentile of each sorted segment (``first``, ``size`` > 0).

    The same float operations in the same order as NumPy's default ``percentile``, per segment.
    """
    position = q * (size - 1)
    low = np.floor(position).astype(np.intp)
    high = np.minimum(low + 1, size - 1)
    weight = position - low
    result: npt.NDArray[np.float64] = (
        sorted_values[first + low] * (1 - weight) + sorted_values[first + high] * weight
    )
    return result


_OUTCOMES: Final = {"met": 1, "breached": 2, "active": 3, "paused": 3}


def compliance(table: ClockTable, by: Sequence[str] = (), tz: tzinfo = UTC) -> list[dict[str, Any]]:
    """Per group: total, met, missed, met %, open, and time statistics for met and missed."""
    # Each state label's outcome (0: cancelled or unknown), looked up once per row.
    state = table.text["state"]
    outcome_of = np.array([_OUTCOMES.get(str(s), 0) for s in state.labels] or [0], dtype=np.int8)
    outcome = outcome_of[state.codes]
    rows = np.flatnonzero(outcome)
    groups = _group(table, by, rows, tz)
    n = len(groups.keys)
    g = groups.index
    outcome_r = outcome[rows]
    met_r, missed_r, open_r = outcome_r == 1, outcome_r == 2, outcome_r == 3
    count_met = np.bincount(g[met_r], minlength=n).tolist()
    count_missed = np.bincount(g[missed_r], minlength=n).tolist()
    count_open = np.bincount(g[open_r], minlength=n).tolist()
    names = ["total", "met", "missed", "met_pct", "open"]
    totals = [m + x for m, x in zip(count_met, count_missed, strict=True)]
    columns: list[list[Any]] = [
        totals,
        count_met,
        count_missed,
        [round(100.0 * m / t, 2) if t else None for m, t in zip(count_met, totals, strict=True)],
        count_open,
    ]
    for outcome_name, mask in (("met", met_r), ("missed", missed_r)):
        picked = rows[mask]
        for measure, column in (
            ("business", "business_elapsed_s"),
            ("calendar", "calendar_elapsed_s"),
        ):
            stats = _stats(table.numbers[column][picked], g[mask], n)
            for stat in _STATS:
                names.append(f"{outcome_name}_{measure}_{stat}_s")
                columns.append(stats[stat])
    result: list[dict[str, Any]] = []
    for key, values in zip(groups.keys, zip(*columns, strict=True), strict=True):
        row: dict[str, Any] = dict(key)
        row.update(zip(names, values, strict=True))
        if values[0] or values[4]:  # total or open
            result.append(row)
    return result


def _iso(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def sla_log(table: ClockTable) -> Iterator[dict[str, Any]]:
    """One row per clock, with the columns of ``LOG_COLUMNS`` (instants as ISO UTC text)."""
    for row in table.rows():
        out: dict[str, Any] = {}
        for column in LOG_COLUMNS:
            value = row[column]
            out[column] = _iso(value) if isinstance(value, datetime) or value is None else value
        yield out


def attribution(table: ClockTable) -> list[dict[str, Any]]:
    """Business time and breaches per group and assignee that held tickets while clocks ran."""
    if len(table.held_row) == 0:
        return []
    breached = table.state_is("breached")[table.held_row]
    key = np.stack([table.held_group.codes.astype(np.int64), table.held_assignee.codes])
    distinct, inverse = np.unique(key, axis=1, return_inverse=True)
    inverse = inverse.reshape(-1)
    n = distinct.shape[1]
    business = np.bincount(inverse, weights=table.held_s, minlength=n)
    breached_business = np.bincount(inverse[breached], weights=table.held_s[breached], minlength=n)
    clocks = np.bincount(inverse, minlength=n)
    breached_clocks = np.bincount(inverse[breached], minlength=n)
    rows: list[dict[str, Any]] = [
        {
            "group": table.held_group.labels[int(distinct[0, i])],
            "assignee": table.held_assignee.labels[int(distinct[1, i])],
            "business_s": float(business[i]),
            "clocks": int(clocks[i]),
            "breached_clocks": int(breached_clocks[i]),
            "breached_business_s": float(breached_business[i]),
        }
        for i in range(n)
    ]
    rows.sort(key=lambda r: (-float(r["breached_business_s"]), -float(r["business_s"])))
    return rows


def rate_outcomes(
    table: ClockTable, config: SlaConfig, now: datetime, tz: tzinfo = UTC
) -> list[dict[str, Any]]:
    """Each rate target's outcome per period: the share of clocks finished within its time.

    A clock counts in the period its clock started, once it is decided: stopped, or still
    running but already longer than the rate's time. Its time is its running business time when
    the rate target counts in the clock's own calendar, else the business time between its start
    and stop in the rate target's calendar.
    """
    result: list[dict[str, Any]] = []
    agreement_col, policy_col, metric_col = (
        table.text[k] for k in ("agreement", "policy", "metric")
    )
    priority_col, calendar_col = table.text["priority"], table.text["calendar"]
    for agreement in config.agreements:
        for policy in agreement.policies:
            for rate in policy.rate_targets:
                rows = np.flatnonzero(
                    _is(agreement_col, agreement.id)
                    & _is(policy_col, policy.id)
                    & _is(metric_col, rate.metric)
                    & ~table.state_is("cancelled")
                )
                if len(rows) == 0:
                    continue
                # The limit per priority label, gathered by code (NaN: not named by the rate).
                per_label = np.array(
                    [
                        np.nan if (x := rate.within_for(label)) is None else x
                        for label in priority_col.labels
                    ],
                    dtype=float,
                )
                limits = per_label[priority_col.codes[rows]]
                rows = rows[~np.isnan(limits)]  # a priority the rate does not name is not counted
                if len(rows) == 0:
                    continue
                within = per_label[priority_col.codes[rows]]
                elapsed = table.numbers["business_elapsed_s"][rows].copy()
                foreign = np.array([c != rate.calendar for c in calendar_col.labels], dtype=bool)
                other = foreign[calendar_col.codes[rows]]
                if other.any():
                    start = table.instants["start"][rows][other]
                    stop = table.instants["stop"][rows][other]
                    end = np.where(stop == NAT, _now_us(now), stop)
                    elapsed[other] = config.calendar(rate.calendar).between_many(
                        start / 1e6, end / 1e6
                    )
                stopped = table.instants["stop"][rows] != NAT
                decided = stopped | (elapsed > within)
                periods = _date_labels(table.instants["start"][rows], _PERIOD_KEY[rate.period], tz)
                period_of = [
                    None if label is None else _period_label(label, rate.period)
                    for label in periods.labels
                ]
                names = sorted({p for p in period_of if p is not None})
                bucket_of = np.array([-1 if p is None else names.index(p) for p in period_of])
                bucket = np.where(decided, bucket_of[periods.codes], -1)
                counted = bucket >= 0
                totals = np.bincount(bucket[counted], minlength=len(names))
                oks = np.bincount(bucket[counted & (elapsed <= within)], minlength=len(names))
                for k, label in enumerate(names):
                    if not totals[k]:
                        continue
                    ok, count = int(oks[k]), int(totals[k])
                    pct = 100.0 * ok / count
                    result.append(
                        {
                            "agreement": agreement.id,
                            "policy": policy.id,
                            "metric": rate.metric,
                            "period": label,
                            "clocks": count,
                            "within": ok,
                            "rate_pct": round(pct, 2),
                            "target_pct": rate.percent,
                            "outcome": "met" if pct >= rate.percent else "missed",
                        }
                    )
    return result


_PERIOD_KEY: Final = {
    "day": "day",
    "week": "week",
    "month": "month",
    "quarter": "month",
    "year": "month",
}


def _period_label(month_or_day: str, period: str) -> str:
    if period == "quarter":
        year, month = month_or_day.split("-")[:2]
        return f"{year}-Q{(int(month) - 1) // 3 + 1}"
    if period == "year":
        return month_or_day[:4]
    return month_or_day


def _now_us(now: datetime) -> int:
    return (now - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def _is(column: Categorical, label: str) -> npt.NDArray[np.bool_]:
    codes = [i for i, value in enumerate(column.labels) if value == label]
    return np.isin(column.codes, codes)


def compare(
    before: ClockTable, after: ClockTable, by: Sequence[str] = (), tz: tzinfo = UTC
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """What-if: met % per group under two configs, and every clock whose outcome changes.

    Clocks are matched on ticket, agreement, metric and cycle; a clock present on one side only
    changes from or to ``none``.
    """
    old = _matched(before)
    new = _matched(after)
    changes = []
    for key in sorted(
        set(old) | set(new), key=lambda k: (*tuple(_sortable(x) for x in k[:3]), k[3], k[4])
    ):
        a = old.get(key, {}).get("state", "none")
        b = new.get(key, {}).get("state", "none")
        if _outcome(a) != _outcome(b):
            changes.append(dict(zip(_MATCH, key[:4], strict=True)) | {"before": a, "after": b})
    left = {tuple(r.get(k) for k in by): r for r in compliance(before, by, tz)}
    right = {tuple(r.get(k) for k in by): r for r in compliance(after, by, tz)}
    summary = []
    for key in sorted(set(left) | set(right), key=lambda k: tuple(_sortable(x) for x in k)):
        a_row, b_row = left.get(key, {}), right.get(key, {})
        summary.append(
            dict(zip(by, key, strict=True))
            | {
                "total_before": a_row.get("total", 0),
                "met_pct_before": a_row.get("met_pct"),
                "total_after": b_row.get("total", 0),
                "met_pct_after": b_row.get("met_pct"),
            }
        )
    return summary, changes


_MATCH: Final = ("ticket", "agreement", "metric", "cycle")


def _matched(table: ClockTable) -> dict[tuple[Any, ...], Mapping[str, Any]]:
    """Clocks keyed by ticket, agreement, metric, cycle and their order within those: a restart
    makes two clocks of one cycle, and each is matched with its counterpart."""
    seen: dict[tuple[Any, ...], int] = {}
    result: dict[tuple[Any, ...], Mapping[str, Any]] = {}
    rows = sorted(
        compliance_rows(table),
        key=lambda r: (tuple(_sortable(r[k]) for k in _MATCH[:3]), r["cycle"], r["start"]),
    )
    for row in rows:
        base = tuple(row[k] for k in _MATCH)
        index = seen.get(base, 0)
        seen[base] = index + 1
        result[(*base, index)] = row
    return result


def _outcome(state: str) -> str:
    return {"met": "met", "breached": "missed"}.get(state, "none")


def compliance_rows(table: ClockTable) -> Iterator[Mapping[str, Any]]:
    """Rows of the clocks that reports decide on (not cancelled)."""
    for row in table.rows():
        if row["state"] != "cancelled":
            yield row
