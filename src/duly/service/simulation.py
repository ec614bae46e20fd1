"""Synthetic ticket histories: seeded, realistic, and big enough to measure duly on.

A history is drawn ticket-lifecycle-first: every ticket walks the same template (created, first
reply, maybe waiting on the customer, maybe escalated, solved, maybe reopened, closed) with each
step present at a realistic rate and log-normal delays between steps. Everything is drawn as
columns with NumPy and assembled with Arrow, so a million tickets take seconds, not minutes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

__all__ = ["Mix", "synthetic_history", "write_history"]

PRIORITIES: Final = ("low", "normal", "high", "urgent")
TIERS: Final = ("gold", "silver", "bronze")
CHANNELS: Final = ("email", "web", "phone", "chat")


@dataclass(frozen=True)
class Mix:
    """How often each step of the lifecycle happens (shares of tickets)."""

    agent_created: float = 0.08
    first_reply: float = 0.95
    internal_note: float = 0.6
    reassigned: float = 0.3
    follow_up: float = 0.5
    waiting: float = 0.40
    customer_answers: float = 0.75
    escalated: float = 0.15
    priority_change: float = 0.03
    second_reply: float = 0.80
    solved: float = 0.92
    reopened: float = 0.05
    closed: float = 0.85
    organizations: int = 500
    agents: int = 60


# (type, actor, public, median delay after the previous step in seconds, sigma)
_STEPS: Final = (
    ("ticket.created", None, None, 0.0, 0.0),
    ("comment.added", "agent", True, 2 * 3600.0, 1.2),  # first reply
    ("comment.added", "agent", False, 1200.0, 1.0),  # internal note
    ("ticket.updated", "agent", None, 600.0, 1.0),  # reassigned to another agent
    ("ticket.updated", "agent", None, 60.0, 0.3),  # waiting on customer
    ("comment.added", "customer", True, 20 * 3600.0, 1.0),  # customer answers
    ("ticket.updated", "customer", None, 0.0, 0.0),  # back to open
    ("ticket.updated", "agent", None, 3 * 3600.0, 1.0),  # escalated to second line
    ("ticket.updated", "agent", None, 1800.0, 1.0),  # priority changed
    ("comment.added", "agent", True, 5 * 3600.0, 1.1),  # second reply
    ("comment.added", "customer", True, 6 * 3600.0, 1.0),  # customer follow-up
    ("comment.added", "agent", True, 3 * 3600.0, 1.0),  # answer to the follow-up
    ("ticket.updated", "agent", None, 300.0, 0.5),  # solved
    ("comment.added", "customer", True, 30 * 3600.0, 0.8),  # reopened by a customer reply
    ("ticket.updated", "customer", None, 0.0, 0.0),  # open again
    ("comment.added", "agent", True, 4 * 3600.0, 1.0),  # answer after reopen
    ("ticket.updated", "agent", None, 300.0, 0.5),  # solved again
    ("ticket.updated", "system", None, 5 * 86400.0, 0.1),  # closed automatically
)


def synthetic_history(
    tickets: int,
    seed: int = 1,
    start: datetime = datetime(2021, 1, 1, tzinfo=UTC),
    end: datetime = datetime(2026, 10, 1, tzinfo=UTC),
    mix: Mix = Mix(),
) -> pa.Table:
    """A seeded history of ``tickets`` tickets as an Arrow table in the event-file columns."""
    rng = np.random.default_rng(seed)
    n = tickets
    lo, hi = int(start.timestamp()), int(end.timestamp())
    created = rng.integers(lo, hi, n).astype(np.int64)
    solved = rng.random(n) < mix.solved
    waiting = rng.random(n) < mix.waiting
    reopened = solved & (rng.random(n) < mix.reopened)
    follow_up = rng.random(n) < mix.follow_up
    present = [
        np.ones(n, dtype=bool),
        rng.random(n) < mix.first_reply,
        rng.random(n) < mix.internal_note,
        rng.random(n) < mix.reassigned,
        waiting,
        waiting & (rng.random(n) < mix.customer_answers),
        waiting & (rng.random(n) < mix.customer_answers),
        rng.random(n) < mix.escalated,
        rng.random(n) < mix.priority_change,
        rng.random(n) < mix.second_reply,
        follow_up,
        follow_up,
        solved,
        reopened,
        reopened,
        reopened,
        reopened,
        solved & (rng.random(n) < mix.closed),
    ]
    present[6] = present[5]  # "back to open" goes with the customer's answer
    at = created.copy()
    times: list[npt.NDArray[np.int64]] = []
    for (_, _, _, median, sigma), mask in zip(_STEPS, present, strict=True):
        if median:
            delay = (median * rng.lognormal(0.0, sigma, n)).astype(np.int64) if sigma else median
            at = at + np.where(mask, delay, 0).astype(np.int64)
        times.append(at.copy())

    priority = rng.choice(len(PRIORITIES), n, p=[0.2, 0.55, 0.2, 0.05])
    new_priority = np.minimum(priority + 1, len(PRIORITIES) - 1)
    tier = rng.choice(len(TIERS), n, p=[0.15, 0.35, 0.5])
    organization = rng.integers(0, mix.organizations, n)
    channel = rng.integers(0, len(CHANNELS), n)
    agent = rng.integers(0, mix.agents, n)
    vip = rng.random(n) < 0.1
    by_agent = rng.random(n) < mix.agent_created

    pieces: list[pa.Table] = []
    ticket_ids = pc.binary_join_element_wise(
        pa.array(["T"] * n), pa.array(np.arange(n)).cast(pa.string()), ""
    )
    for step, ((kind, actor, public, _, _), mask) in enumerate(zip(_STEPS, present, strict=True)):
        rows = np.flatnonzero(mask)
        if len(rows) == 0:
            continue
        columns: dict[str, Any] = {
            "id": pc.binary_join_element_wise(
                ticket_ids.take(rows), pa.array([str(step)] * len(rows)), "/"
            ),
            "ticket": ticket_ids.take(rows),
            "at": pa.array(times[step][rows] * 1_000_000, pa.timestamp("us", tz="UTC")),
            "type": pa.array([kind] * len(rows)),
            "actor": pa.array(
                np.where(by_agent[rows], "agent", "customer") if step == 0 else [actor] * len(rows)
            ),
            "public": pa.array([public] * len(rows), pa.bool_()),
        }
        fields = _fields_of(
            step, rows, priority, new_priority, tier, organization, channel, agent, vip
        )
        for name in _FIELD_COLUMNS:
            columns[name] = fields.get(name, pa.nulls(len(rows), _FIELD_TYPES[name]))
        pieces.append(pa.table(columns))
    return pa.concat_tables(pieces)


_FIELD_COLUMNS: Final = (
    "priority",
    "status",
    "group",
    "assignee",
    "organization",
    "channel",
    "tags",
    "custom.tier",
)
_FIELD_TYPES: Final = {name: pa.string() for name in _FIELD_COLUMNS} | {
    "tags": pa.list_(pa.string())
}
_STATUS_AT: Final = {
    4: "Waiting on customer",
    6: "Open",
    12: "Resolved",
    14: "Open",
    16: "Resolved",
    17: "Closed",
}


def _fields_of(
    step: int,
    rows: npt.NDArray[np.intp],
    priority: npt.NDArray[np.int64],
    new_priority: npt.NDArray[np.int64],
    tier: npt.NDArray[np.int64],
    organization: npt.NDArray[np.int64],
    channel: npt.NDArray[np.int64],
    agent: npt.NDArray[np.int64],
    vip: npt.NDArray[np.bool_],
) -> dict[str, pa.Array]:
    n = len(rows)
    if step == 0:
        return {
            "priority": pa.array(np.array(PRIORITIES)[priority[rows]]),
            "status": pa.array(["New"] * n),
            "group": pa.array(["first-line"] * n),
            "organization": pa.array(np.char.add("org-", organization[rows].astype(str))),
            "channel": pa.array(np.array(CHANNELS)[channel[rows]]),
            "tags": pa.array(
                [["vip"] if v else [] for v in vip[rows].tolist()], pa.list_(pa.string())
            ),
            "custom.tier": pa.array(np.array(TIERS)[tier[rows]]),
        }
    if step == 1:
        return {
            "assignee": pa.array(np.char.add("agent-", agent[rows].astype(str))),
        }
    if step == 3:
        return {"assignee": pa.array(np.char.add("agent-", ((agent[rows] + 7) % 60).astype(str)))}
    if step == 7:
        return {"group": pa.array(["second-line"] * n)}
    if step == 8:
        return {"priority": pa.array(np.array(PRIORITIES)[new_priority[rows]])}
    if step in _STATUS_AT:
        return {"status": pa.array([_STATUS_AT[step]] * n)}
    return {}


def write_history(table: pa.Table, path: Path) -> None:
    """Write a synthetic history as Parquet, or as JSON Lines (the canonical event format)."""
    if path.suffix == ".parquet":
        pq.write_table(table, path)
        return
    if path.suffix not in (".jsonl", ".ndjson"):
        raise ValueError(f"{path}: write .parquet or .jsonl")
    columns = {name: table.column(name).to_pylist() for name in table.column_names}
    with path.open("w", encoding="utf-8") as out:
        for i in range(table.num_rows):
            event: dict[str, Any] = {
                "id": columns["id"][i],
                "ticket": columns["ticket"][i],
                "at": columns["at"][i].isoformat().replace("+00:00", "Z"),
                "type": columns["type"][i],
                "actor": columns["actor"][i],
            }
            if columns["public"][i] is not None:
                event["public"] = columns["public"][i]
            fields = {
                name: columns[name][i] for name in _FIELD_COLUMNS if columns[name][i] is not None
            }
            if fields:
                event["fields"] = fields
            out.write(json.dumps(event, separators=(",", ":")))
            out.write("\n")
