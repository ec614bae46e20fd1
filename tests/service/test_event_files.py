"""Event files: help-desk exports become events, and every bad line is named with its reason."""

import gc
import gzip
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from duly.core.events import Event
from duly.service.event_files import (
    PROGRESS_EVERY,
    EventBatch,
    EventFileError,
    EventProblem,
    event_from_mapping,
    iter_event_files,
    read_events,
    write_events,
)

# The example of the issue, as a help desk would export it.
EXAMPLE = """\
{"id": "e-1", "ticket": "T-100", "at": "2026-03-02T08:15:00+01:00", "type": "ticket.created", "actor": "customer", "fields": {"priority": "high", "status": "new", "group": "billing", "organization": "acme", "channel": "email", "tags": ["vip"]}}
{"id": "e-2", "ticket": "T-100", "at": "2026-03-02T09:01:00+01:00", "type": "comment.added", "actor": "agent", "public": true}
{"id": "e-3", "ticket": "T-100", "at": "2026-03-02T09:02:00+01:00", "type": "ticket.updated", "actor": "agent", "fields": {"status": "pending"}}
{"id": "e-4", "ticket": "T-100", "at": "2026-03-03T10:00:00+01:00", "type": "ticket.rated", "actor": "customer", "score": 5}
"""  # noqa: E501

GOOD = {"id": "g-1", "ticket": "T-1", "at": "2026-03-02T08:00:00Z", "type": "ticket.created"}


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def jsonl(path: Path, *records: object) -> Path:
    """A JSON Lines file; strings are written as they are, anything else as JSON."""
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    return write_text(path, "\n".join(lines) + "\n")


def event(**changes: object) -> dict[str, object]:
    return {**GOOD, **changes}


# --------------------------------------------------------------------------- the event types


def test_the_four_events_of_the_example_read_into_events_in_utc(tmp_path):
    batch = read_events(write_text(tmp_path / "events.jsonl", EXAMPLE))

    assert batch.problems == []
    assert (batch.lines, batch.duplicates) == (4, 0)
    created, comment, updated, rated = batch.events
    assert created == Event(
        id="e-1",
        ticket="T-100",
        at=utc(2, 7, 15),
        type="ticket.created",
        actor="customer",
        fields={
            "priority": "high",
            "status": "new",
            "group": "billing",
            "organization": "acme",
            "channel": "email",
            "tags": ["vip"],
        },
    )
    assert created.public is None
    assert comment == Event("e-2", "T-100", utc(2, 8, 1), "comment.added", "agent", public=True)
    assert updated.fields == {"status": "pending"}
    assert (updated.type, updated.actor) == ("ticket.updated", "agent")
    assert (rated.type, rated.score, rated.at) == ("ticket.rated", 5, utc(3, 9))


def test_a_deleted_event_needs_only_its_id_ticket_time_and_type():
    deleted = event_from_mapping(event(type="ticket.deleted"))
    assert (deleted.type, deleted.actor, deleted.public, deleted.score) == (
        "ticket.deleted",
        None,
        None,
        None,
    )
    assert deleted.fields == {}


def test_a_comment_without_public_is_public_and_an_internal_note_says_so():
    plain = event_from_mapping(event(type="comment.added", actor="customer"))
    internal = event_from_mapping(event(type="comment.added", actor="agent", public=False))
    assert plain.public is True
    assert internal.public is False


def test_public_stays_unknown_on_other_events_unless_given():
    assert event_from_mapping(event(actor="agent")).public is None
    assert event_from_mapping(event(actor="agent", public=True)).public is True


def test_a_field_set_to_null_is_kept_as_cleared():
    updated = event_from_mapping(
        event(type="ticket.updated", fields={"assignee": None, "tags": None, "custom.sku": None})
    )
    assert dict(updated.fields) == {"assignee": None, "tags": None, "custom.sku": None}


def test_custom_fields_given_nested_or_dotted_become_dotted_keys():
    created = event_from_mapping(
        event(
            fields={"priority": "low", "custom": {"tier": "gold", "seats": 40}, "custom.sku": "X"}
        )
    )
    assert dict(created.fields) == {
        "priority": "low",
        "custom.tier": "gold",
        "custom.seats": 40,
        "custom.sku": "X",
    }


def test_a_custom_field_given_both_ways_is_refused():
    with pytest.raises(ValueError, match=r"^fields\.custom\.tier: given twice$"):
        event_from_mapping(event(fields={"custom": {"tier": "gold"}, "custom.tier": "silver"}))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-02T08:15:00+01:00", utc(2, 7, 15)),
        ("2026-03-02T08:15:00Z", utc(2, 8, 15)),
        ("2026-03-02T08:15:00-05:30", utc(2, 13, 45)),
        ("2026-03-02T08:15:00.250+00:00", utc(2, 8, 15) + timedelta(milliseconds=250)),
    ],
)
def test_a_time_with_any_offset_is_stored_as_the_same_instant_in_utc(text, expected):
    at = event_from_mapping(event(at=text)).at
    assert at == expected
    assert at.tzinfo is UTC


def test_an_aware_datetime_is_accepted_and_converted_to_utc():
    at = datetime(2026, 3, 2, 8, 15, tzinfo=timezone(timedelta(hours=2)))
    assert event_from_mapping(event(at=at)).at.tzinfo is UTC
    assert event_from_mapping(event(at=at)).at == utc(2, 6, 15)


def test_ids_exported_as_numbers_are_read_as_text():
    read = event_from_mapping(event(id=17, ticket=4711, fields={"assignee": 42}))
    assert (read.id, read.ticket, read.fields["assignee"]) == ("17", "4711", "42")


# --------------------------------------------------------------------------- bad lines

UNKNOWN_TYPE = (
    "type: unknown event type 'ticket.exploded' "
    "(expected one of ticket.created, ticket.updated, comment.added, ticket.rated, ticket.deleted)"
)
BAD_SCORE = "score: must be an integer from 1 to 5"
BAD_RECORDS = {
    "missing id": ({k: v for k, v in GOOD.items() if k != "id"}, "id: missing"),
    "empty id": (event(id=" "), "id: must not be empty"),
    "list as ticket": (event(ticket=["T-1"]), "ticket: must be a non-empty string, not a list"),
    "missing at": ({k: v for k, v in GOOD.items() if k != "at"}, "at: missing"),
    "naive at": (event(at="2026-03-02T08:15:00"), "at: '2026-03-02T08:15:00' has no UTC offset"),
    "at not a time": (event(at="yesterday"), "at: 'yesterday' is not an ISO 8601 date-time"),
    "at as a number": (
        event(at=1772438400),
        "at: must be an ISO 8601 date-time string, not a number",
    ),
    "missing type": ({k: v for k, v in GOOD.items() if k != "type"}, "type: missing"),
    "unknown type": (event(type="ticket.exploded"), UNKNOWN_TYPE),
    "unknown actor": (
        event(actor="robot"),
        "actor: unknown actor 'robot' (expected one of agent, customer, system)",
    ),
    "comment without actor": (
        event(type="comment.added"),
        "actor: missing; a comment.added event needs one of agent, customer, system",
    ),
    "public as text": (event(public="yes"), "public: must be true or false, not a string"),
    "score 0": (event(type="ticket.rated", score=0), BAD_SCORE),
    "score 6": (event(type="ticket.rated", score=6), BAD_SCORE),
    "score as text": (event(type="ticket.rated", score="5"), BAD_SCORE),
    "score as fraction": (event(type="ticket.rated", score=4.5), BAD_SCORE),
    "score as true": (event(type="ticket.rated", score=True), BAD_SCORE),
    "rated without score": (event(type="ticket.rated"), BAD_SCORE),
    "score on an update": (
        event(type="ticket.updated", score=3),
        "score: only ticket.rated events carry a score, not ticket.updated",
    ),
    "tags as text": (event(fields={"tags": "vip"}), "fields.tags: must be a list of strings"),
    "tags of numbers": (event(fields={"tags": [1, 2]}), "fields.tags: must be a list of strings"),
    "fields as a list": (
        event(fields=["priority"]),
        "fields: must be a mapping of field names to values, not a list",
    ),
    "priority as a list": (
        event(fields={"priority": ["high"]}),
        "fields.priority: must be a string or null, not a list",
    ),
    "unknown field": (
        event(fields={"prio": "high"}),
        "fields.prio: unknown field (expected priority, status, group, assignee, organization, "
        "requester, channel, tags or custom.NAME)",
    ),
    "custom as a list": (
        event(fields={"custom": ["tier"]}),
        "fields.custom: must be a mapping of custom field names to values, not a list",
    ),
    "custom value an object": (
        event(fields={"custom": {"tier": {"name": "gold"}}}),
        "fields.custom.tier: must be a string, number, true/false, list of strings or null, "
        "not an object",
    ),
    "custom without a name": (
        event(fields={"custom.": "x"}),
        "fields.custom.: a custom field needs a name",
    ),
    "unknown key": (
        event(subject="Printer on fire"),
        "subject: unknown key (expected id, ticket, at, type, actor, public, score, fields)",
    ),
    "not an object": ("just text", "event: must be an object, not a string"),
}


@pytest.mark.parametrize(("record", "reason"), BAD_RECORDS.values(), ids=BAD_RECORDS.keys())
def test_a_bad_line_is_reported_with_its_line_number_and_reason(tmp_path, record, reason):
    path = jsonl(
        tmp_path / "events.jsonl",
        GOOD,
        "",
        record if isinstance(record, dict) else json.dumps(record),
        event(id="g-2"),
    )

    batch = read_events(path)

    assert batch.problems == [EventProblem(str(path), 3, reason)]
    assert [e.id for e in batch.events] == ["g-1", "g-2"]
    assert batch.lines == 3  # the blank line is not a record, but it is counted in line numbers


@pytest.mark.parametrize(("record", "reason"), BAD_RECORDS.values(), ids=BAD_RECORDS.keys())
def test_event_from_mapping_names_the_field_and_the_reason(record, reason):
    with pytest.raises(ValueError, match=f"^{re.escape(reason)}$"):
        event_from_mapping(record)


def test_a_line_that_is_not_json_is_reported_with_the_decoder_reason(tmp_path):
    path = jsonl(tmp_path / "events.jsonl", GOOD, '{"id": "e-9", "ticket": ', event(id="g-2"))

    batch = read_events(path)

    [problem] = batch.problems
    assert problem.line == 2
    assert problem.reason.startswith("not valid JSON: Expecting value (column ")
    assert [e.id for e in batch.events] == ["g-1", "g-2"]


def test_two_objects_on_one_line_are_not_valid_json_lines(tmp_path):
    path = jsonl(tmp_path / "events.jsonl", json.dumps(GOOD) + " " + json.dumps(event(id="g-2")))
    [problem] = read_events(path).problems
    assert problem.reason.startswith("not valid JSON: Extra data")


def test_every_bad_line_is_reported_and_every_good_line_kept(tmp_path):
    path = jsonl(
        tmp_path / "events.jsonl",
        GOOD,
        event(id="b-1", at="2026-03-02T08:00:00"),
        event(id="g-2"),
        "{",
        event(id="g-3"),
    )

    batch = read_events(path)

    assert [(p.line, p.reason.split(":")[0]) for p in batch.problems] == [
        (2, "at"),
        (4, "not valid JSON"),
    ]
    assert [e.id for e in batch.events] == ["g-1", "g-2", "g-3"]
    assert (batch.lines, batch.duplicates) == (5, 0)


def test_strict_reading_stops_at_the_first_bad_line(tmp_path):
    path = jsonl(tmp_path / "events.jsonl", GOOD, event(id="b-1", type="nope"), "{")

    with pytest.raises(EventFileError) as raised:
        read_events(path, strict=True)

    assert [p.line for p in raised.value.problems] == [2]
    assert str(raised.value).startswith(f"{path}:2: type: unknown event type 'nope'")


def test_strict_reading_of_a_good_file_gives_every_event(tmp_path):
    batch = read_events(write_text(tmp_path / "events.jsonl", EXAMPLE), strict=True)
    assert len(batch.events) == 4


def test_a_problem_prints_as_file_colon_line_colon_reason():
    assert str(EventProblem("x.jsonl", 7, "id: missing")) == "x.jsonl:7: id: missing"
    assert str(EventProblem("x.jsonl", 0, "cannot read")) == "x.jsonl: cannot read"


# --------------------------------------------------------------------------- what a file holds


def test_a_duplicate_id_is_counted_and_the_first_copy_kept(tmp_path):
    path = jsonl(
        tmp_path / "events.jsonl",
        event(fields={"priority": "high"}),
        event(id="g-2"),
        event(fields={"priority": "low"}),
        event(fields={"priority": "urgent"}),
    )

    batch = read_events(path)

    assert batch.duplicates == 2
    assert [(e.id, e.fields.get("priority")) for e in batch.events] == [
        ("g-1", "high"),
        ("g-2", None),
    ]
    assert batch.problems == []


def test_events_keep_the_order_of_the_file_even_when_out_of_time_order(tmp_path):
    path = jsonl(
        tmp_path / "events.jsonl",
        event(id="late", type="ticket.updated", at="2026-03-05T10:00:00Z"),
        event(id="early", at="2026-03-01T10:00:00Z"),
        event(id="middle", type="ticket.updated", at="2026-03-03T10:00:00Z"),
    )
    assert [e.id for e in read_events(path).events] == ["late", "early", "middle"]


def test_blank_lines_and_a_missing_final_newline_are_fine(tmp_path):
    path = write_text(
        tmp_path / "events.ndjson",
        "\n\n" + json.dumps(GOOD) + "\n   \n" + json.dumps(event(id="g-2")),
    )
    batch = read_events(path)
    assert [e.id for e in batch.events] == ["g-1", "g-2"]
    assert batch.lines == 2


def test_a_file_with_a_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text(EXAMPLE, encoding="utf-8-sig")
    batch = read_events(path)
    assert (len(batch.events), batch.problems) == (4, [])


def test_bytes_that_are_not_utf8_are_a_problem_of_their_line(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_bytes(json.dumps(GOOD).encode() + b'\n{"id": "\xff"}\n')
    [problem] = read_events(path).problems
    assert problem.line == 2
    assert problem.reason.startswith("not valid JSON: 'utf-8' codec can't decode byte 0xff")


# --------------------------------------------------------------------------- JSON arrays


def test_a_json_file_that_is_one_array_is_read_too(tmp_path):
    records = [json.loads(line) for line in EXAMPLE.splitlines()]
    path = write_text(tmp_path / "events.json", json.dumps(records, indent=2))
    batch = read_events(path)
    assert batch.events == read_events(write_text(tmp_path / "same.jsonl", EXAMPLE)).events
    assert batch.lines == 4


def test_a_bad_element_of_a_json_array_is_reported_at_its_own_line(tmp_path):
    text = (
        "[\n"
        + json.dumps(GOOD)
        + ",\n\n"
        + json.dumps(event(id="b", actor="bot"))
        + ",\n"
        + json.dumps(event(id="g-2"))
        + "\n]\n"
    )
    batch = read_events(write_text(tmp_path / "events.json", text))
    assert [(p.line, p.reason[:6]) for p in batch.problems] == [(4, "actor:")]
    assert [e.id for e in batch.events] == ["g-1", "g-2"]


def test_a_json_array_broken_half_way_keeps_what_came_before(tmp_path):
    text = "[\n" + json.dumps(GOOD) + ",\n" + '{"id": ' + "\n]\n"
    batch = read_events(write_text(tmp_path / "events.json", text))
    assert [e.id for e in batch.events] == ["g-1"]
    [problem] = batch.problems
    assert problem.line == 4
    assert problem.reason.startswith("not valid JSON: Expecting value")


def test_a_json_array_without_commas_is_reported(tmp_path):
    text = "[" + json.dumps(GOOD) + "\n" + json.dumps(event(id="g-2")) + "]"
    [problem] = read_events(write_text(tmp_path / "events.json", text)).problems
    assert problem == EventProblem(
        str(tmp_path / "events.json"),
        2,
        "not valid JSON: expected ',' or ']' after an array element",
    )


def test_an_empty_json_array_has_no_events(tmp_path):
    batch = read_events(write_text(tmp_path / "events.json", " [ ]\n"))
    assert batch == EventBatch([], [], 0, 0)


# --------------------------------------------------------------------------- CSV

CSV_EXPORT = """\
id,ticket,at,type,actor,public,score,priority,status,tags,custom.tier,custom.note,cleared
e-1,T-7,2026-03-02T08:15:00+01:00,ticket.created,customer,,,high,new,vip; urgent ,gold,"two
lines",
e-2,T-7,2026-03-02T09:00:00+01:00,comment.added,agent,no,,,,,,,
e-3,T-7,2026-03-02T09:05:00+01:00,ticket.updated,agent,,,,pending,,,,assignee;custom.tier
e-4,T-7,2026-03-03T09:05:00+01:00,ticket.rated,customer,,4,,,,,,
e-5,T-7,2026-03-03T09:06:00+01:00,comment.added,customer,YES,,,,,,,
"""


def test_a_csv_export_reads_tags_custom_columns_and_empty_cells(tmp_path):
    batch = read_events(write_text(tmp_path / "events.csv", CSV_EXPORT))

    assert batch.problems == []
    created, comment, updated, rated, reply = batch.events
    assert dict(created.fields) == {
        "priority": "high",
        "status": "new",
        "tags": ["vip", "urgent"],
        "custom.tier": "gold",
        "custom.note": "two\nlines",
    }
    assert created.at == utc(2, 7, 15)
    assert (comment.public, comment.fields) == (False, {})
    assert dict(updated.fields) == {"status": "pending", "assignee": None, "custom.tier": None}
    assert (rated.score, rated.public) == (4, None)
    assert reply.public is True
    assert batch.lines == 5


@pytest.mark.parametrize(
    ("cell", "public"),
    [("true", True), ("1", True), ("Yes", True), ("false", False), ("0", False), ("no", False)],
)
def test_a_csv_public_cell_takes_the_usual_words_for_yes_and_no(tmp_path, cell, public):
    text = (
        f"id,ticket,at,type,actor,public\nc-1,T-1,2026-03-02T08:00:00Z,comment.added,agent,{cell}\n"
    )
    assert read_events(write_text(tmp_path / "events.csv", text)).events[0].public is public


def test_a_csv_cell_of_only_a_separator_is_an_empty_tag_list(tmp_path):
    text = "id,ticket,at,type,tags\nu-1,T-1,2026-03-02T08:00:00Z,ticket.updated,;\n"
    assert read_events(write_text(tmp_path / "events.csv", text)).events[0].fields == {"tags": []}


def test_csv_problems_carry_the_file_line_number_counting_the_header(tmp_path):
    text = CSV_EXPORT + (
        "b-1,T-7,2026-03-03T09:07:00,ticket.updated,agent,,,,,,,,\n"
        "\n"
        "b-2,T-7,2026-03-03T09:08:00Z,comment.added,agent,maybe,,,,,,,\n"
        "b-3,T-7,2026-03-03T09:09:00Z,ticket.rated,customer,,five,,,,,,\n"
        "b-4,T-7,2026-03-03T09:09:00Z,ticket.deleted,agent,,,,,,,,,surplus\n"
        "g-5,T-7,2026-03-03T09:09:00Z,ticket.deleted,agent,,,,,,,,,\n"
    )
    path = write_text(tmp_path / "events.csv", text)

    batch = read_events(path)

    assert [str(p) for p in batch.problems] == [
        f"{path}:8: at: '2026-03-03T09:07:00' has no UTC offset",
        f"{path}:10: public: 'maybe' is not one of true, false, 1, 0, yes, no",
        f"{path}:11: score: must be an integer from 1 to 5",
        f"{path}:12: the row has 14 cells but the header has 13",
    ]
    assert batch.events[-1].id == "g-5"
    assert batch.lines == 10


def test_a_csv_row_shorter_than_the_header_has_empty_cells_at_its_end(tmp_path):
    text = "id,ticket,at,type,actor,priority\nc-1,T-1,2026-03-02T08:00:00Z,ticket.created\n"
    created = read_events(write_text(tmp_path / "events.csv", text)).events[0]
    assert (created.actor, created.fields) == (None, {})


def test_an_unknown_csv_column_is_reported_on_the_header_line_and_ignored(tmp_path):
    text = (
        "id,ticket,at,type,subject\nc-1,T-1,2026-03-02T08:00:00Z,ticket.created,Printer on fire\n"
    )
    path = write_text(tmp_path / "events.csv", text)

    batch = read_events(path)

    [problem] = batch.problems
    assert problem.line == 1
    assert problem.reason.startswith("unknown column 'subject' is ignored (expected id, ticket")
    assert [e.id for e in batch.events] == ["c-1"]
    with pytest.raises(EventFileError, match="unknown column 'subject'"):
        read_events(path, strict=True)


def test_a_csv_without_the_columns_every_event_needs_cannot_be_read(tmp_path):
    path = write_text(
        tmp_path / "events.csv", "id,when,type\nc-1,2026-03-02T08:00:00Z,ticket.created\n"
    )
    with pytest.raises(EventFileError) as raised:
        read_events(path)
    assert (
        str(raised.value)
        == f"{path}:1: missing columns ticket, at (an event file needs id, ticket, at, type)"
    )


def test_an_empty_csv_file_has_no_events(tmp_path):
    assert read_events(write_text(tmp_path / "events.csv", "")) == EventBatch([], [], 0, 0)


# --------------------------------------------------------------------------- Parquet


def test_a_parquet_export_is_read_column_by_column(tmp_path):
    stockholm = pa.timestamp("s", tz="Europe/Stockholm")
    table = pa.table(
        {
            "id": pa.array([1, 2, 3], pa.int64()),
            "ticket": ["T-1", "T-1", "T-1"],
            "at": pa.array(
                [
                    datetime(2026, 3, 2, 8, tzinfo=UTC),
                    datetime(2026, 3, 2, 9, tzinfo=UTC),
                    datetime(2026, 3, 2, 10, tzinfo=UTC),
                ],
                stockholm,
            ),
            "type": ["ticket.created", "comment.added", "ticket.updated"],
            "actor": ["customer", "agent", None],
            "public": pa.array([None, False, None], pa.bool_()),
            "priority": ["high", None, None],
            "tags": pa.array([["vip"], None, []], pa.list_(pa.string())),
            "custom.seats": pa.array([40, None, None], pa.int64()),
            "cleared": pa.array([None, None, ["priority"]], pa.list_(pa.string())),
        }
    )
    path = tmp_path / "events.parquet"
    pq.write_table(table, path)

    batch = read_events(path)

    assert batch.problems == []
    created, comment, updated = batch.events
    assert (created.id, created.at, created.actor) == ("1", utc(2, 8), "customer")
    assert dict(created.fields) == {"priority": "high", "tags": ["vip"], "custom.seats": 40}
    assert (comment.public, comment.fields) == (False, {})
    assert dict(updated.fields) == {"tags": [], "priority": None}


def test_parquet_problems_carry_the_row_number(tmp_path):
    table = pa.table(
        {
            "id": ["p-1", "p-2", "p-3"],
            "ticket": ["T-1", "T-1", "T-1"],
            "at": pa.array([datetime(2026, 3, 2, 8)] * 3, pa.timestamp("s")),
            "type": ["ticket.created"] * 3,
        }
    )
    path = tmp_path / "events.parquet"
    pq.write_table(table, path)

    batch = read_events(path)

    assert [str(p) for p in batch.problems] == [
        f"{path}:{n}: at: '2026-03-02T08:00:00' has no UTC offset" for n in (1, 2, 3)
    ]
    assert batch.events == []


def test_a_parquet_file_with_text_cells_is_read_like_csv(tmp_path):
    table = pa.table(
        {
            "id": ["p-1"],
            "ticket": ["T-1"],
            "at": ["2026-03-02T08:00:00+01:00"],
            "type": ["ticket.rated"],
            "score": ["5"],
            "tags": ["a;b"],
            "subject": ["ignored"],
        }
    )
    path = tmp_path / "events.parquet"
    pq.write_table(table, path)

    batch = read_events(path)

    assert [(p.line, p.reason[:25]) for p in batch.problems] == [(0, "unknown column 'subject' ")]
    [rated] = batch.events
    assert (rated.score, rated.fields, rated.at) == (5, {"tags": ["a", "b"]}, utc(2, 7))


def test_a_file_named_parquet_that_is_not_parquet_is_an_event_file_error(tmp_path):
    path = write_text(tmp_path / "events.parquet", EXAMPLE)
    with pytest.raises(EventFileError, match=r"events\.parquet: not a Parquet file"):
        read_events(path)


# --------------------------------------------------------------------------- gzip


@pytest.mark.parametrize(
    ("name", "text"), [("events.jsonl.gz", EXAMPLE), ("events.csv.gz", CSV_EXPORT)]
)
def test_gzip_compressed_json_lines_and_csv_read_as_their_plain_files(tmp_path, name, text):
    path = tmp_path / name
    with gzip.open(path, "wt", encoding="utf-8", newline="") as stream:
        stream.write(text)
    plain = write_text(tmp_path / name.removesuffix(".gz"), text)
    assert read_events(path).events == read_events(plain).events
    assert read_events(path).events


def test_a_truncated_gzip_file_is_an_event_file_error(tmp_path):
    path = tmp_path / "events.jsonl.gz"
    path.write_bytes(gzip.compress(EXAMPLE.encode() * 50)[:200])
    with pytest.raises(EventFileError) as raised:
        read_events(path)
    [problem] = raised.value.problems
    assert problem.reason.startswith("cannot read: Compressed file ended")


# --------------------------------------------------------------------------- round trips

ROUND_TRIP_EVENTS = [
    Event(
        "r-1",
        "T-9",
        datetime(2026, 3, 2, 8, 15, tzinfo=timezone(timedelta(hours=1))),
        "ticket.created",
        "customer",
        fields={
            "priority": "high",
            "status": "new",
            "tags": ["vip", "emea"],
            "custom.tier": "gold",
            "requester": "ann@example.com",
        },
    ),
    Event("r-2", "T-9", utc(2, 8, 1), "comment.added", "agent", public=False),
    Event(
        "r-3",
        "T-9",
        utc(2, 8, 2),
        "ticket.updated",
        "agent",
        fields={"status": "pending", "assignee": None, "tags": []},
    ),
    Event("r-4", "T-9", utc(3, 9), "ticket.rated", "customer", score=2),
    Event(
        "r-5", "T-8", utc(1, 9), "ticket.created", fields={"group": "nordics", "custom.tier": None}
    ),
    Event("r-6", "T-9", utc(4, 9), "ticket.deleted", "system"),
]
ROUND_TRIP_SUFFIXES = ["jsonl", "ndjson", "json", "jsonl.gz", "csv", "csv.gz", "parquet"]


@pytest.mark.parametrize("suffix", ROUND_TRIP_SUFFIXES)
def test_reading_what_was_written_gives_the_same_events(tmp_path, suffix):
    path = tmp_path / f"events.{suffix}"
    write_events(path, ROUND_TRIP_EVENTS)

    batch = read_events(path, strict=True)

    assert batch.events == ROUND_TRIP_EVENTS
    assert [e.fields for e in batch.events] == [e.fields for e in ROUND_TRIP_EVENTS]
    assert (batch.lines, batch.duplicates) == (len(ROUND_TRIP_EVENTS), 0)


@pytest.mark.parametrize("suffix", ["jsonl", "parquet"])
def test_typed_custom_values_survive_json_lines_and_parquet(tmp_path, suffix):
    typed = {"custom.seats": 40, "custom.paid": True, "custom.ratio": 0.5, "custom.regions": ["eu"]}
    events = [
        Event("t-1", "T-1", utc(2, 8), "ticket.created", fields=typed),
        Event("t-2", "T-1", utc(2, 9), "ticket.updated", fields={"custom.seats": 41}),
    ]
    path = tmp_path / f"events.{suffix}"
    write_events(path, events)
    read = read_events(path, strict=True).events
    assert read == events
    assert type(read[0].fields["custom.seats"]) is int


def test_csv_carries_custom_values_as_text(tmp_path):
    path = tmp_path / "events.csv"
    write_events(
        path,
        [
            Event(
                "t-1",
                "T-1",
                utc(2, 8),
                "ticket.created",
                fields={"custom.seats": 40, "custom.paid": True},
            )
        ],
    )
    assert read_events(path).events[0].fields == {"custom.seats": "40", "custom.paid": "true"}


def test_written_json_lines_are_one_object_per_line_with_utc_times(tmp_path):
    path = tmp_path / "events.jsonl"
    write_events(path, ROUND_TRIP_EVENTS[:2])
    first, second = path.read_text(encoding="utf-8").splitlines()
    assert json.loads(first)["at"] == "2026-03-02T07:15:00+00:00"
    assert json.loads(second) == {
        "id": "r-2",
        "ticket": "T-9",
        "at": "2026-03-02T08:01:00+00:00",
        "type": "comment.added",
        "actor": "agent",
        "public": False,
    }


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"tags": ["a;b"]}, r"fields\.tags: 'a;b' cannot be written to a CSV list cell"),
        ({"tags": [" a"]}, r"fields\.tags: ' a' cannot be written"),
        ({"assignee": ""}, r"fields\.assignee: an empty value cannot be written to CSV"),
    ],
)
def test_writing_csv_refuses_a_value_it_would_read_back_differently(tmp_path, fields, message):
    path = tmp_path / "events.csv"
    with pytest.raises(ValueError, match=message):
        write_events(path, [Event("w-1", "T-1", utc(2, 8), "ticket.created", fields=fields)])
    assert list(tmp_path.iterdir()) == []


def test_writing_parquet_refuses_a_custom_column_of_mixed_types_and_leaves_no_file(tmp_path):
    events = [
        Event("w-1", "T-1", utc(2, 8), "ticket.created", fields={"custom.x": "text"}),
        Event("w-2", "T-1", utc(2, 9), "ticket.updated", fields={"custom.x": 5}),
    ]
    with pytest.raises(
        ValueError, match=r"^fields\.custom\.x: the values cannot share one Parquet column"
    ):
        write_events(tmp_path / "events.parquet", events)
    assert list(tmp_path.iterdir()) == []


def test_writing_replaces_an_existing_file_whole(tmp_path):
    path = tmp_path / "events.jsonl"
    write_events(path, ROUND_TRIP_EVENTS)
    write_events(path, ROUND_TRIP_EVENTS[:1])
    assert read_events(path).events == ROUND_TRIP_EVENTS[:1]


# --------------------------------------------------------------------------- files and progress


def test_progress_is_reported_every_ten_thousand_lines_and_at_the_end(tmp_path):
    line = json.dumps(GOOD) + "\n"
    path = write_text(tmp_path / "events.jsonl", line * (2 * PROGRESS_EVERY + 5))
    seen: list[int] = []

    batch = read_events(path, progress=seen.append)

    assert seen == [PROGRESS_EVERY, 2 * PROGRESS_EVERY, 2 * PROGRESS_EVERY + 5]
    assert (len(batch.events), batch.duplicates) == (1, 2 * PROGRESS_EVERY + 4)


def test_progress_of_csv_and_parquet_counts_rows(tmp_path):
    events = [
        Event(f"p-{i}", "T-1", utc(2, 8), "ticket.updated") for i in range(PROGRESS_EVERY + 1)
    ]
    for suffix in ("csv", "parquet"):
        path = tmp_path / f"events.{suffix}"
        write_events(path, events)
        seen: list[int] = []
        read_events(path, progress=seen.append)
        assert seen == [PROGRESS_EVERY, PROGRESS_EVERY + 1], suffix


def test_progress_of_an_empty_file_reports_zero_once(tmp_path):
    seen: list[int] = []
    read_events(write_text(tmp_path / "events.jsonl", ""), progress=seen.append)
    assert seen == [0]


def test_reading_pauses_the_cycle_collector_only_while_it_reads(tmp_path):
    path = write_text(tmp_path / "events.jsonl", (json.dumps(GOOD) + "\n") * PROGRESS_EVERY)
    during: list[bool] = []

    read_events(path, progress=lambda _: during.append(gc.isenabled()))
    assert during[0] is False  # reported after the first ten thousand lines, mid-read
    assert gc.isenabled()

    gc.disable()
    try:
        read_events(path)
        assert not gc.isenabled()  # a caller that turned it off keeps it off
    finally:
        gc.enable()


@pytest.mark.parametrize("name", ["events.txt", "events.parquet.gz", "events"])
def test_a_file_of_unknown_type_is_refused_by_name(tmp_path, name):
    path = write_text(tmp_path / name, EXAMPLE)
    with pytest.raises(EventFileError, match=r"unknown type of event file \(expected \.jsonl, "):
        read_events(path)
    with pytest.raises(EventFileError):
        write_events(tmp_path / name, [])


def test_a_missing_file_is_an_event_file_error_that_names_it(tmp_path):
    path = tmp_path / "missing.jsonl"
    with pytest.raises(EventFileError) as raised:
        read_events(path)
    assert str(raised.value) == f"{path}: cannot read: No such file or directory"


def test_a_suffix_in_capitals_is_still_recognised(tmp_path):
    assert len(read_events(write_text(tmp_path / "EVENTS.JSONL", EXAMPLE)).events) == 4


def test_a_directory_stands_for_its_event_files_in_name_order(tmp_path):
    for name in ("b.csv", "a.jsonl", "c.parquet", "README.md", ".a.jsonl.partial", "d.jsonl.gz"):
        (tmp_path / name).write_text("")
    (tmp_path / "sub.jsonl").mkdir()
    single = tmp_path / "elsewhere.txt"

    found = list(iter_event_files([tmp_path, single]))

    assert [p.name for p in found] == [
        "a.jsonl",
        "b.csv",
        "c.parquet",
        "d.jsonl.gz",
        "elsewhere.txt",
    ]
