"""Reading the store: the queue soonest due first, a page at a time, and reports over it.

Times are in UTC on Monday 2 March 2026. Targets are in the always-open ``24x7`` calendar: a
normal ticket's first reply is due 1h after it was created and its resolution 4h after; an
urgent ticket's 15 minutes and 1 hour.
"""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from duly.config.sla import load_config_text
from duly.core.reports import compliance
from duly.service.clock_rows import to_us
from duly.service.config_changes import put_config
from duly.service.configs import ConfigCache
from duly.service.errors import InvalidError
from duly.service.history import read_history
from duly.service.ingest import ingest
from duly.service.queries import clock_queue, compliance_report, decode_cursor, log_report
from duly.store.clocks import ClockFilter

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CONFIG = """\
agreements:
  - id: support
    policies:
      - id: urgent
        when: {field: priority, op: is, value: urgent}
        targets: {first_reply: 15m, resolution: 1h}
      - id: standard
        targets: {first_reply: 1h, resolution: 4h}
"""


def mon(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, 2, hour, minute, tzinfo=UTC)


def created(ticket: str, at: datetime, priority: str = "normal", group: str = "desk") -> dict:
    return {
        "id": f"{ticket}-created",
        "ticket": ticket,
        "at": at.isoformat(),
        "type": "ticket.created",
        "fields": {"priority": priority, "status": "new", "group": group},
    }


def replied(ticket: str, at: datetime) -> dict:
    return {
        "id": f"{ticket}-reply",
        "ticket": ticket,
        "at": at.isoformat(),
        "type": "comment.added",
        "actor": "agent",
    }


@pytest.fixture
def configs(db) -> ConfigCache:
    cache = ConfigCache()
    put_config(db, cache, CONFIG, "alice", mon(0))
    return cache


def every_page(db, configs, limit: int) -> list[list[dict]]:
    pages, cursor = [], None
    while True:
        page = clock_queue(db, configs, ClockFilter(), mon(12), limit=limit, cursor=cursor)
        pages.append(page["clocks"])
        cursor = page["next_cursor"]
        if cursor is None:
            return pages


def test_the_queue_is_ordered_by_due_then_by_id(db, configs):
    ingest(
        db,
        configs,
        [
            created("T-late", mon(9)),  # first reply 10:00, resolution 13:00
            created("T-early", mon(8)),  # first reply 09:00, resolution 12:00
            created("T-urgent", mon(9, 30), "urgent"),  # 09:45 and 10:30
        ],
        mon(9, 30),
    )

    clocks = clock_queue(db, configs, ClockFilter(), mon(9, 30))["clocks"]

    assert [(c["ticket"], c["metric"], c["due"]) for c in clocks] == [
        ("T-early", "first_reply", "2026-03-02T09:00:00Z"),
        ("T-urgent", "first_reply", "2026-03-02T09:45:00Z"),
        ("T-late", "first_reply", "2026-03-02T10:00:00Z"),
        ("T-urgent", "resolution", "2026-03-02T10:30:00Z"),
        ("T-early", "resolution", "2026-03-02T12:00:00Z"),
        ("T-late", "resolution", "2026-03-02T13:00:00Z"),
    ]


def test_clocks_due_at_the_same_instant_are_ordered_by_id(db, configs):
    # Ten tickets created at the same instant, sent in one batch in reverse name order.
    ingest(db, configs, [created(f"T-{n}", mon(8)) for n in range(9, -1, -1)], mon(8))

    clocks = clock_queue(db, configs, ClockFilter(metrics=("first_reply",)), mon(8))["clocks"]

    assert {c["due"] for c in clocks} == {"2026-03-02T09:00:00Z"}
    ids = [c["id"] for c in clocks]
    assert ids == sorted(ids)
    assert len(ids) == 10


def test_paging_with_the_cursor_returns_every_clock_exactly_once_in_order(db, configs):
    # 40 tickets, created five to a minute: 80 clocks with many ties in due.
    items = [created(f"T-{n:02d}", mon(8, n // 5)) for n in range(40)]
    ingest(db, configs, items, mon(9))

    pages = every_page(db, configs, limit=7)

    assert [len(p) for p in pages] == [7] * 11 + [3]
    walked = [c for page in pages for c in page]
    everything = clock_queue(db, configs, ClockFilter(), mon(12), limit=1000)["clocks"]
    assert len(everything) == 80
    assert [c["id"] for c in walked] == [c["id"] for c in everything]
    assert len({c["id"] for c in walked}) == 80
    assert [(c["due"], c["id"]) for c in walked] == sorted((c["due"], c["id"]) for c in walked)


def test_a_page_exactly_as_long_as_what_is_left_has_no_next_cursor(db, configs):
    ingest(db, configs, [created(f"T-{n}", mon(8)) for n in range(3)], mon(8))

    page = clock_queue(db, configs, ClockFilter(), mon(8), limit=6)

    assert len(page["clocks"]) == 6
    assert page["next_cursor"] is None


def test_filters_narrow_the_queue(db, configs):
    ingest(
        db,
        configs,
        [
            created("T-1", mon(8), "normal", "desk"),
            replied("T-1", mon(8, 30)),
            created("T-2", mon(8), "urgent", "desk"),
            created("T-3", mon(8), "normal", "network"),
        ],
        mon(9, 30),
    )

    def tickets_and_metrics(**where) -> list[tuple[str, str]]:
        clocks = clock_queue(db, configs, ClockFilter(**where), mon(9, 30))["clocks"]
        return sorted((c["ticket"], c["metric"]) for c in clocks)

    assert len(tickets_and_metrics()) == 6
    assert tickets_and_metrics(groups=("network",)) == [
        ("T-3", "first_reply"),
        ("T-3", "resolution"),
    ]
    assert tickets_and_metrics(priorities=("urgent",), metrics=("resolution",)) == [
        ("T-2", "resolution")
    ]
    assert tickets_and_metrics(states=("met",)) == [("T-1", "first_reply")]
    assert tickets_and_metrics(states=("breached",)) == [
        ("T-2", "first_reply"),
        ("T-2", "resolution"),
        ("T-3", "first_reply"),
    ]
    assert ("T-1", "first_reply") not in tickets_and_metrics(running_only=True)
    assert len(tickets_and_metrics(running_only=True)) == 5
    assert tickets_and_metrics(tickets=("T-1", "T-3"), policies=("urgent",)) == []
    assert tickets_and_metrics(agreements=("other",)) == []


@pytest.mark.parametrize("cursor", ["abc", "12", "1.x", "x.1"])
def test_a_cursor_the_api_did_not_make_is_refused(db, configs, cursor):
    with pytest.raises(InvalidError) as refused:
        clock_queue(db, configs, ClockFilter(), mon(9), cursor=cursor)
    assert refused.value.field == "cursor"


def test_a_cursor_reads_back_as_the_position_it_names():
    assert decode_cursor("1772438400000000.17") == (to_us(mon(8)), 17)
    assert decode_cursor(None) is None
    assert decode_cursor("") is None


@pytest.mark.parametrize("limit", [0, -1, 1001])
def test_a_limit_outside_1_to_1000_is_refused(db, configs, limit):
    with pytest.raises(InvalidError) as refused:
        clock_queue(db, configs, ClockFilter(), mon(9), limit=limit)
    assert refused.value.field == "limit"


def test_the_queue_shows_clocks_as_of_now(db, configs):
    ingest(db, configs, [created("T-1", mon(8))], mon(8))

    at_830 = clock_queue(db, configs, ClockFilter(metrics=("resolution",)), mon(8, 30))
    at_1230 = clock_queue(db, configs, ClockFilter(metrics=("resolution",)), mon(12, 30))

    (early,) = at_830["clocks"]
    (late,) = at_1230["clocks"]
    assert (early["state"], early["remaining_s"]) == ("active", 3.5 * 3600)
    assert (late["state"], late["remaining_s"]) == ("breached", -0.5 * 3600)
    assert late["breached_at"] == "2026-03-02T12:00:00Z"


# --- reports -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "now", [datetime(2026, 3, 16, 12, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)]
)
def test_the_compliance_report_over_stored_clocks_is_the_cores_over_the_same_events(db, now):
    configs = ConfigCache()
    text = (EXAMPLES / "sla.yaml").read_text(encoding="utf-8")
    # Sent before the first example event: every ticket is evaluated as of its latest event and
    # its running clocks are brought up to ``now`` when read.
    put_config(db, configs, text, "alice", datetime(2026, 3, 1, tzinfo=UTC))
    lines = (EXAMPLES / "events.jsonl").read_text(encoding="utf-8").splitlines()
    ingest(
        db, configs, [json.loads(s) for s in lines if s.strip()], datetime(2026, 3, 1, tzinfo=UTC)
    )
    history = read_history([EXAMPLES / "events.jsonl"])
    table = history.clocks(load_config_text(text), now)

    for by in (["agreement", "metric"], ["agreement", "policy", "priority"], []):
        stored = compliance_report(db, configs, now, by, UTC)
        assert stored == compliance(table, by, UTC), by
    assert sum(r["total"] + r["open"] for r in compliance_report(db, configs, now, [], UTC)) > 20


def test_the_log_report_has_a_row_per_stored_clock(db, configs):
    ingest(db, configs, [created("T-1", mon(8)), created("T-2", mon(9))], mon(9))

    rows = log_report(db, configs, mon(12), start_from=mon(8, 30))

    assert {(r["ticket"], r["metric"]) for r in rows} == {
        ("T-2", "first_reply"),
        ("T-2", "resolution"),
    }


def test_a_report_by_an_unknown_column_is_refused(db, configs):
    with pytest.raises(InvalidError) as refused:
        compliance_report(db, configs, mon(12), ["colour"], UTC)
    assert refused.value.field == "by"


def test_the_queue_of_an_old_clock_shows_it_breached_by_now(db, configs):
    ingest(db, configs, [created("T-1", mon(8))], mon(8))

    page = clock_queue(db, configs, ClockFilter(), mon(8) + timedelta(days=1))

    assert [c["state"] for c in page["clocks"]] == ["breached", "breached"]
