"""Importing a ServiceNow incident audit log (a real sample of the UCI log) into duly events."""

import csv
import gzip
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest

from duly.config import load_config
from duly.core.clocks import evaluate_ticket
from duly.core.events import Event, in_replay_order
from duly.service.event_files import EventFileError, read_events
from duly.service.importers import (
    IMPORT_KINDS,
    AuditLogError,
    ImportStats,
    import_log,
    import_servicenow_log,
)

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = Path(__file__).parent / "fixtures" / "uci_incident_sample.csv"
EXAMPLE_CONFIG = ROOT / "examples" / "servicenow" / "sla.yaml"
HEADER = SAMPLE.read_text(encoding="utf-8").splitlines()[0].split(",")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def imported(source: Path = SAMPLE, **options) -> tuple[list[Event], ImportStats]:
    stats = ImportStats()
    events = list(import_servicenow_log(source, stats=stats, **options))
    return events, stats


def by_ticket(events: list[Event]) -> dict[str, list[Event]]:
    tickets: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        tickets[event.ticket].append(event)
    return dict(tickets)


def by_id(events: list[Event]) -> dict[str, Event]:
    return {event.id: event for event in events}


def write_log(path: Path, rows: list[dict[str, str]]) -> Path:
    """A log with the sample's header; cells not given are missing (``?``)."""
    defaults = {"incident_state": "Active", "sys_mod_count": "0", "priority": "3 - Moderate"}
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(HEADER)
        for row in rows:
            cells = {**defaults, **row}
            writer.writerow([cells.get(name, "?") for name in HEADER])
    return path


def incident(number: str, opened: str, *updates: tuple[int, str, str]) -> list[dict[str, str]]:
    """Rows of one incident: (sys_mod_count, sys_updated_at, incident_state) each."""
    return [
        {
            "number": number,
            "opened_at": opened,
            "sys_mod_count": str(mod),
            "sys_updated_at": updated,
            "incident_state": state,
        }
        for mod, updated, state in updates
    ]


# --------------------------------------------------------------------------- the real sample


def test_each_incident_gives_a_creation_a_response_and_one_update_per_changing_row():
    events, stats = imported()
    counts = {
        ticket: [e.type for e in ticket_events].count("ticket.updated")
        for ticket, ticket_events in by_ticket(events).items()
    }
    assert counts == {
        "INC0000045": 2,
        "INC0000130": 4,
        "INC0000131": 3,
        "INC0000137": 2,
        "INC0000357": 4,
        "INC0000548": 4,
        "INC0013624": 3,
        "INC0028089": 2,
    }
    for ticket_events in by_ticket(events).values():
        types = [e.type for e in ticket_events]
        assert types.count("ticket.created") == 1
        assert types.count("comment.added") == 1
    assert stats.incidents == 8
    assert stats.events == len(events) == 40
    assert stats.events_by_type == {"ticket.created": 8, "ticket.updated": 24, "comment.added": 8}


def test_every_row_is_a_creation_an_update_unchanged_or_skipped():
    _, stats = imported()
    assert stats.rows == 41
    assert stats.unchanged == 7
    assert stats.rows == (
        stats.incidents
        + stats.events_by_type["ticket.updated"]
        + stats.unchanged
        + stats.skipped_rows
    )


def test_the_created_event_is_the_first_row_at_opened_at_in_duly_fields():
    created = by_id(imported()[0])["INC0000045/opened"]
    assert created.type == "ticket.created"
    assert created.ticket == "INC0000045"
    assert created.at == at("2016-02-29 01:16")  # opened_at, not the first row's 01:23
    assert created.actor == "customer"
    assert dict(created.fields) == {
        "status": "New",
        "priority": "moderate",
        "group": "Group 56",
        "channel": "Phone",
        "requester": "Caller 2403",
        "custom.category": "Category 55",
        "custom.impact": "medium",
        "custom.urgency": "medium",
    }  # assigned_to is '?': left out


def test_an_update_carries_only_the_fields_that_changed():
    events = by_id(imported()[0])
    # INC0000548 drops from 1 - Critical to 3 - Moderate, then goes back, status untouched
    assert dict(events["INC0000548/0001"].fields) == {
        "priority": "moderate",
        "custom.impact": "medium",
        "custom.urgency": "medium",
    }
    assert dict(events["INC0000548/0002"].fields) == {
        "priority": "critical",
        "custom.impact": "high",
        "custom.urgency": "high",
    }
    assert dict(events["INC0000130/0001"].fields) == {"group": "Group 73"}
    assert dict(events["INC0000130/0002"].fields) == {
        "status": "Active",
        "assignee": "Resolver 198",
    }


def test_a_value_that_becomes_missing_is_cleared():
    events = by_id(imported()[0])
    assert dict(events["INC0000357/0003"].fields) == {"assignee": None}


def test_updates_are_at_sys_updated_at_and_carry_no_actor():
    update = by_id(imported()[0])["INC0000045/0002"]
    assert update.at == at("2016-02-29 08:53")
    assert update.actor is None
    assert update.type == "ticket.updated"


def test_ids_are_number_and_padded_sys_mod_count_and_unique():
    events, _ = imported()
    assert [e.id for e in by_ticket(events)["INC0000045"]] == [
        "INC0000045/opened",
        "INC0000045/0002",
        "INC0000045/response",
        "INC0000045/0004",
    ]
    assert len({e.id for e in events}) == len(events)


def test_importing_again_gives_the_same_events():
    assert imported()[0] == imported()[0]


def test_a_gzip_log_gives_the_same_events_as_the_plain_one(tmp_path):
    compressed = tmp_path / "log.csv.gz"
    compressed.write_bytes(gzip.compress(SAMPLE.read_bytes()))
    assert imported(compressed)[0] == imported()[0]


def test_gzip_is_told_by_content_not_by_name(tmp_path):
    misnamed = tmp_path / "log.csv"
    misnamed.write_bytes(gzip.compress(SAMPLE.read_bytes()))
    assert imported(misnamed)[0] == imported()[0]


def test_events_of_a_ticket_come_out_in_the_order_the_engine_replays_them():
    for ticket_events in by_ticket(imported()[0]).values():
        assert in_replay_order(ticket_events) == ticket_events


def test_resolved_and_closed_in_the_same_minute_replay_as_resolved_then_closed():
    # INC0013624 is resolved (sys_mod_count 9) and closed (10) at 11:21: unpadded ids would
    # sort "/10" before "/9" and leave the ticket resolved for ever
    ticket = by_ticket(imported()[0])["INC0013624"]
    replayed = [e for e in in_replay_order(ticket) if "status" in e.fields]
    assert [(e.id, e.fields["status"]) for e in replayed[-2:]] == [
        ("INC0013624/0009", "Resolved"),
        ("INC0013624/0010", "Closed"),
    ]
    assert replayed[-1].at == replayed[-2].at == at("2016-04-18 11:21")


def test_the_response_comes_when_the_incident_first_leaves_new():
    events = by_id(imported()[0])
    response = events["INC0000130/response"]
    assert response.type == "comment.added"
    assert (response.actor, response.public) == ("agent", True)
    assert response.at == events["INC0000130/0002"].at == at("2016-03-01 14:13")  # New -> Active


def test_an_incident_opened_out_of_new_is_responded_to_at_creation():
    events = by_id(imported()[0])
    # INC0000548's first row is already Active: the desk took it on while the caller was on the line
    assert events["INC0000548/opened"].fields["status"] == "Active"
    assert events["INC0000548/response"].at == events["INC0000548/opened"].at


def test_the_junk_state_rows_are_skipped_and_counted_with_their_lines():
    events, stats = imported()
    reason = "incident_state is -100 (a junk state of the log)"
    assert stats.skipped == {reason: 2}
    assert stats.skipped_lines == {reason: [38, 39]}
    statuses = [e.fields.get("status") for e in by_ticket(events)["INC0028089"]]
    assert "-100" not in statuses
    assert statuses == ["New", "Resolved", None, "Closed"]


def test_a_first_row_dated_before_opened_at_does_not_move_the_creation():
    events = by_ticket(imported()[0])
    # INC0000130's first row is dated 07:27, before it was opened at 09:41
    assert events["INC0000130"][0].at == at("2016-02-29 09:41")
    assert all(e.at >= at("2016-02-29 09:41") for e in events["INC0000130"])


def test_a_repeated_stale_row_does_not_delay_the_rows_after_it():
    # INC0000137 opens with a stale row dated 11:10 (sys_mod_count 1, again at 09:52); the
    # incident was resolved at 11:03 and stays resolved at 11:03
    events = by_id(imported()[0])
    assert events["INC0000137/0002"].at == at("2016-02-29 11:03")
    assert events["INC0000137/0002"].fields == {"status": "Resolved"}


# --------------------------------------------------------------------------- clamping


def test_a_later_row_dated_before_opened_at_is_moved_to_opened_at(tmp_path):
    log = write_log(
        tmp_path / "log.csv",
        incident(
            "INC1",
            "1/3/2016 10:00",
            (0, "1/3/2016 10:01", "New"),
            (1, "1/3/2016 09:30", "Active"),
            (2, "1/3/2016 11:00", "Resolved"),
        ),
    )
    events, stats = imported(log)
    assert by_id(events)["INC1/0001"].at == at("2016-03-01 10:00")
    assert stats.clamped == {"sys_updated_at before opened_at": 1}


def test_a_row_dated_before_the_row_above_is_moved_to_its_time(tmp_path):
    log = write_log(
        tmp_path / "log.csv",
        incident(
            "INC1",
            "1/3/2016 10:00",
            (0, "1/3/2016 10:00", "New"),
            (1, "1/3/2016 12:00", "Active"),
            (2, "1/3/2016 11:00", "Resolved"),
        ),
    )
    events, stats = imported(log)
    assert by_id(events)["INC1/0002"].at == at("2016-03-01 12:00")
    assert stats.clamped == {"sys_updated_at before the row above": 1}
    assert in_replay_order(events) == events


def test_a_repeated_sys_mod_count_gets_a_suffix(tmp_path):
    log = write_log(
        tmp_path / "log.csv",
        incident(
            "INC1",
            "1/3/2016 10:00",
            (0, "1/3/2016 10:00", "New"),
            (1, "1/3/2016 11:00", "Active"),
            (1, "1/3/2016 11:00", "Resolved"),
        ),
    )
    events, _ = imported(log)
    assert [e.id for e in events if e.type == "ticket.updated"] == ["INC1/0001", "INC1/0001.2"]
    assert in_replay_order(events) == events


# --------------------------------------------------------------------------- time zones


def test_times_are_utc_by_default():
    created = by_id(imported()[0])["INC0000045/opened"]
    assert created.at.utcoffset() is not None
    assert created.at == datetime(2016, 2, 29, 1, 16, tzinfo=UTC)


def test_times_are_read_as_wall_clock_times_of_the_given_zone():
    events = by_id(imported(timezone="Europe/Stockholm")[0])
    assert events["INC0000045/opened"].at == at("2016-02-29 00:16")  # CET, UTC+1
    assert events["INC0013624/0010"].at == at("2016-04-18 09:21")  # CEST, UTC+2
    assert events["INC0000045/opened"].at.tzinfo == UTC


def test_only_times_move_with_the_zone():
    utc, _ = imported()
    sao_paulo, _ = imported(timezone="America/Sao_Paulo")
    assert [(e.id, dict(e.fields)) for e in utc] == [(e.id, dict(e.fields)) for e in sao_paulo]
    assert by_id(sao_paulo)["INC0000045/opened"].at == at("2016-02-29 04:16")  # UTC-3


def test_a_time_in_the_skipped_hour_takes_the_offset_before_the_change(tmp_path):
    # Stockholm: 2016-03-27 02:00 CET jumps to 03:00 CEST; 02:30 does not exist
    log = write_log(
        tmp_path / "log.csv",
        incident(
            "INC1",
            "27/3/2016 01:30",
            (0, "27/3/2016 01:30", "New"),
            (1, "27/3/2016 02:30", "Active"),
            (2, "27/3/2016 03:30", "Resolved"),
        ),
    )
    events = by_id(imported(log, timezone="Europe/Stockholm")[0])
    assert events["INC1/opened"].at == at("2016-03-27 00:30")
    assert events["INC1/0001"].at == at("2016-03-27 01:30")  # 02:30+01:00
    assert events["INC1/0002"].at == at("2016-03-27 01:30")  # 03:30+02:00, the same instant


def test_a_time_in_the_repeated_hour_is_its_first_occurrence(tmp_path):
    # Stockholm: 2016-10-30 03:00 CEST goes back to 02:00 CET; 02:30 happens twice
    log = write_log(
        tmp_path / "log.csv",
        incident("INC1", "30/10/2016 02:30", (0, "30/10/2016 02:30", "New")),
    )
    events = by_id(imported(log, timezone="Europe/Stockholm")[0])
    assert events["INC1/opened"].at == at("2016-10-30 00:30")  # 02:30+02:00


def test_iso_times_are_read_too(tmp_path):
    log = write_log(
        tmp_path / "log.csv",
        incident(
            "INC1",
            "2016-03-01 10:00",
            (0, "2016-03-01 10:00:00", "New"),
            (1, "2016-03-01T10:05:30", "Active"),
        ),
    )
    events = by_id(imported(log)[0])
    assert events["INC1/opened"].at == at("2016-03-01 10:00")
    assert events["INC1/0001"].at == at("2016-03-01 10:05:30")


def test_an_unknown_time_zone_is_refused_at_once():
    with pytest.raises(ValueError, match=r"timezone: unknown time zone 'Europe/Stokholm'"):
        import_servicenow_log(SAMPLE, timezone="Europe/Stokholm")


# --------------------------------------------------------------------------- bad rows and logs


def test_rows_that_cannot_be_read_are_skipped_with_their_reason(tmp_path):
    rows = [
        *incident("INC1", "1/3/2016 10:00", (0, "1/3/2016 10:00", "New")),
        {**incident("INC1", "1/3/2016 10:00", (1, "31/2/2016 10:00", "Active"))[0]},
        {**incident("INC1", "1/3/2016 10:00", (2, "1/3/2016 11:00", "Active"))[0]},
        {**incident("INC1", "1/3/2016 10:00", (3, "1/3/2016 12:00", "Resolved"))[0]},
        {**incident("INC2", "?", (0, "1/3/2016 10:00", "New"))[0]},
        {**incident("?", "1/3/2016 10:00", (0, "1/3/2016 10:00", "New"))[0]},
        {**incident("INC3", "1/3/2016 10:00", (0, "1/3/2016 10:00", "?"))[0]},
        *incident("INC1", "1/3/2016 10:00", (4, "1/3/2016 13:00", "Closed")),
    ]
    rows[2]["sys_mod_count"] = "x"
    log = write_log(tmp_path / "log.csv", rows)
    events, stats = imported(log)
    assert stats.skipped == {
        "sys_updated_at is missing or not a date": 1,
        "sys_mod_count is not a whole number": 1,
        "opened_at is missing or not a date": 1,
        "number is missing": 1,
        "incident_state is missing": 1,
        "the incident's rows are not together (it appeared earlier in the file)": 1,
    }
    assert stats.skipped_lines["sys_updated_at is missing or not a date"] == [3]
    assert [e.id for e in events] == ["INC1/opened", "INC1/0003", "INC1/response"]
    assert stats.incidents == 1


def test_a_row_of_the_wrong_width_is_skipped(tmp_path):
    log = write_log(
        tmp_path / "log.csv",
        incident("INC1", "1/3/2016 10:00", (0, "1/3/2016 10:00", "New")),
    )
    with log.open("a", encoding="utf-8") as stream:
        stream.write("INC1,Active,true\n")
    _, stats = imported(log)
    assert stats.skipped == {"the row has a different number of cells than the header": 1}


def test_an_incident_whose_only_rows_are_junk_gives_no_events(tmp_path):
    rows = incident("INC1", "1/3/2016 10:00", (0, "1/3/2016 10:00", "-100"))
    events, stats = imported(write_log(tmp_path / "log.csv", rows))
    assert events == []
    assert stats.incidents == 0
    assert stats.skipped_rows == 1


def test_blank_lines_are_not_rows(tmp_path):
    log = write_log(
        tmp_path / "log.csv",
        incident("INC1", "1/3/2016 10:00", (0, "1/3/2016 10:00", "New")),
    )
    log.write_text(log.read_text(encoding="utf-8") + "\n\n", encoding="utf-8")
    _, stats = imported(log)
    assert stats.rows == 1
    assert stats.skipped == {}


def test_only_the_first_five_lines_of_a_reason_are_kept(tmp_path):
    rows = incident("INC1", "1/3/2016 10:00", *[(i, "1/3/2016 10:00", "-100") for i in range(7)])
    _, stats = imported(write_log(tmp_path / "log.csv", rows))
    reason = "incident_state is -100 (a junk state of the log)"
    assert stats.skipped == {reason: 7}
    assert stats.skipped_lines == {reason: [2, 3, 4, 5, 6]}


def test_a_time_with_an_offset_is_not_a_time_of_the_log(tmp_path):
    rows = incident(
        "INC1",
        "1/3/2016 10:00",
        (0, "1/3/2016 10:00", "New"),
        (1, "2016-03-01T11:00+01:00", "Active"),
    )
    _, stats = imported(write_log(tmp_path / "log.csv", rows))
    assert stats.skipped == {"sys_updated_at is missing or not a date": 1}


def test_a_log_that_is_not_csv_is_refused_with_its_line(tmp_path):
    log = write_log(
        tmp_path / "log.csv",
        incident("INC1", "1/3/2016 10:00", (0, "1/3/2016 10:00", "New")),
    )
    with log.open("a", encoding="utf-8") as stream:
        stream.write("INC1," + "x" * (csv.field_size_limit() + 1) + "\n")
    with pytest.raises(AuditLogError, match=r"log.csv:3: not valid CSV"):
        list(import_servicenow_log(log))


def test_a_log_without_its_columns_is_refused(tmp_path):
    log = tmp_path / "log.csv"
    log.write_text("number,incident_state,opened_at\nINC1,New,1/3/2016 10:00\n", encoding="utf-8")
    with pytest.raises(AuditLogError, match=r"missing columns sys_mod_count, sys_updated_at"):
        list(import_servicenow_log(log))


def test_an_empty_log_is_refused(tmp_path):
    log = tmp_path / "log.csv"
    log.write_text("", encoding="utf-8")
    with pytest.raises(AuditLogError, match="the file is empty"):
        list(import_servicenow_log(log))


def test_a_missing_log_is_refused(tmp_path):
    with pytest.raises(AuditLogError, match="cannot read file"):
        list(import_servicenow_log(tmp_path / "nowhere.csv"))


def test_a_log_that_is_not_text_is_refused(tmp_path):
    log = tmp_path / "log.csv"
    log.write_bytes(b"number,incident_state\n\xff\xfe\n")
    with pytest.raises(AuditLogError, match="not UTF-8 text"):
        list(import_servicenow_log(log))


def test_optional_columns_may_be_absent(tmp_path):
    log = tmp_path / "log.csv"
    log.write_text(
        "number,incident_state,sys_mod_count,opened_at,sys_updated_at\n"
        "INC1,New,0,1/3/2016 10:00,1/3/2016 10:00\n"
        "INC1,Active,1,1/3/2016 10:00,1/3/2016 10:30\n",
        encoding="utf-8",
    )
    events = by_id(imported(log)[0])
    assert dict(events["INC1/opened"].fields) == {"status": "New"}
    assert dict(events["INC1/0001"].fields) == {"status": "Active"}


# --------------------------------------------------------------------------- import_log


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet", ".jsonl.gz"])
def test_an_imported_event_file_reads_back_as_the_same_events(tmp_path, suffix):
    destination = tmp_path / f"events{suffix}"
    stats = import_log(SAMPLE, destination)
    batch = read_events(destination, strict=True)
    assert batch.events == imported()[0]
    assert stats.events == len(batch.events) == 40
    assert stats == imported()[1]


def test_import_log_passes_the_time_zone_on(tmp_path):
    destination = tmp_path / "events.jsonl"
    import_log(SAMPLE, destination, timezone="Europe/Stockholm")
    first = read_events(destination, strict=True).events[0]
    assert first.at == at("2016-02-29 00:16")


def test_import_log_reports_progress_in_rows(tmp_path):
    seen: list[int] = []
    import_log(SAMPLE, tmp_path / "events.jsonl", progress=seen.append)
    assert seen == [41]


def test_import_log_reports_progress_every_so_many_rows(tmp_path, monkeypatch):
    monkeypatch.setattr("duly.service.importers.PROGRESS_EVERY", 10)
    seen: list[int] = []
    import_log(SAMPLE, tmp_path / "events.jsonl", progress=seen.append)
    assert seen == [10, 20, 30, 40, 41]


def test_import_log_refuses_an_unknown_kind(tmp_path):
    with pytest.raises(ValueError, match=r"unknown kind of log 'zendesk' \(expected servicenow\)"):
        import_log(SAMPLE, tmp_path / "events.jsonl", kind="zendesk")
    assert list(IMPORT_KINDS) == ["servicenow"]


def test_import_log_refuses_an_unknown_destination_type_and_writes_nothing(tmp_path):
    with pytest.raises(EventFileError, match="unknown type of event file"):
        import_log(SAMPLE, tmp_path / "events.txt")
    assert list(tmp_path.iterdir()) == []


def test_a_log_that_fails_midway_leaves_no_event_file(tmp_path):
    log = tmp_path / "log.csv.gz"
    log.write_bytes(gzip.compress(SAMPLE.read_bytes())[:-200])  # cut short
    with pytest.raises(AuditLogError, match="cannot read the file"):
        import_log(log, tmp_path / "events.jsonl")
    assert [p.name for p in tmp_path.iterdir()] == ["log.csv.gz"]


# --------------------------------------------------------------------------- with the example


def test_the_example_config_maps_every_state_of_the_log():
    config = load_config(EXAMPLE_CONFIG)
    states = {
        "New",
        "Active",
        "Awaiting User Info",
        "Awaiting Evidence",
        "Awaiting Vendor",
        "Awaiting Problem",
        "Resolved",
        "Closed",
    }
    assert set(config.statuses) == states
    assert set(config.priorities) == {"critical", "high", "moderate", "low"}


def test_the_example_config_measures_first_reply_and_pauses_resolution_while_awaiting_the_user():
    config = load_config(EXAMPLE_CONFIG)
    tickets = by_ticket(imported()[0])
    now = datetime(2017, 3, 1, tzinfo=UTC)
    clocks = {c.metric: c for c in evaluate_ticket(tickets["INC0000131"], config, now)}
    # opened Active at 09:41 on Monday 29 Feb, awaiting the user 09:45 - Thu 3 Mar 09:27
    assert clocks["first_reply"].state == "met"
    assert clocks["first_reply"].business_elapsed_s == 0
    assert clocks["resolution"].state == "met"
    assert clocks["resolution"].business_elapsed_s == 4 * 60
    assert clocks["resolution"].stop == at("2016-03-03 09:27")
    late = {c.metric: c for c in evaluate_ticket(tickets["INC0000130"], config, now)}
    # New from Monday 09:41 until Tuesday 14:13: 7h19m + 5h13m of business time > 8h
    assert late["first_reply"].state == "breached"
    assert late["first_reply"].business_elapsed_s == (7 * 60 + 19 + 5 * 60 + 13) * 60
