"""`duly report ...` and `duly whatif` over the shipped example config and events.

The expected clocks are worked out by hand from examples/sla.yaml (targets and calendars) and
examples/events.jsonl. Stockholm office hours are 08:00-17:00 local (07:00-16:00Z in March, before
summer time starts on 29 March); `--now 2026-03-16T12:00:00Z` is Monday 13:00 in Stockholm.
"""

import csv
import io
import json
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from duly.cli import app

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "examples" / "sla.yaml"
EVENTS = ROOT / "examples" / "events.jsonl"
NOW = "2026-03-16T12:00:00Z"
LOG_HEADER = (
    "ticket,agreement,policy,metric,cycle,priority,group,assignee,start,due,stop,state,"
    "breached_at,business_elapsed_s,calendar_elapsed_s,paused_s,remaining_s"
)
runner = CliRunner()


def run(*args: str | Path) -> Result:
    return runner.invoke(app, [str(a) for a in args])


def report(command: str, *args: str | Path, events: Path = EVENTS, config: Path = CONFIG) -> Result:
    return run("report", command, "-c", config, "-e", events, "--now", NOW, *args)


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


def log_rows(events: Path = EVENTS, config: Path = CONFIG) -> list[dict[str, str]]:
    result = ok(report("log", "--format", "csv", events=events, config=config))
    return list(csv.DictReader(io.StringIO(result.stdout)))


def clock(rows: list[dict[str, str]], ticket: str, agreement: str, metric: str) -> dict[str, str]:
    found = [
        r
        for r in rows
        if (r["ticket"], r["agreement"], r["metric"], r["cycle"])
        == (ticket, agreement, metric, "1")
    ]
    assert len(found) == 1, found
    return found[0]


# ------------------------------------------------------------------------------- report log


def test_the_log_csv_header_is_exactly_the_documented_columns():
    result = ok(report("log", "--format", "csv"))
    assert result.stdout.splitlines()[0] == LOG_HEADER


def test_csv_is_the_default_format_of_the_log():
    assert ok(report("log")).stdout.splitlines()[0] == LOG_HEADER


def test_every_log_row_has_a_value_or_an_empty_cell_for_every_column():
    result = ok(report("log", "--format", "csv"))
    parsed = list(csv.reader(io.StringIO(result.stdout)))
    assert len(parsed) > 1
    assert all(len(row) == 17 for row in parsed)


def test_a_gold_urgent_first_reply_answered_in_16_minutes_is_met():
    # T-1001: gold (tier gold), urgent -> policy "urgent": first_reply 30m around the clock (no
    # calendar: 24x7). Created 2026-03-02 08:15 +01:00 = 07:15Z, due 07:45Z; the first public
    # agent comment at 08:31 +01:00 = 07:31Z stops it after 16 min = 960 s; 1800 - 960 = 840 s
    # left. The assignee (anna) is set at 08:32, after the clock stopped.
    row = clock(log_rows(), "T-1001", "gold", "first_reply")
    assert row == {
        "ticket": "T-1001",
        "agreement": "gold",
        "policy": "urgent",
        "metric": "first_reply",
        "cycle": "1",
        "priority": "urgent",
        "group": "first-line",
        "assignee": "",
        "start": "2026-03-02T07:15:00Z",
        "due": "2026-03-02T07:45:00Z",
        "stop": "2026-03-02T07:31:00Z",
        "state": "met",
        "breached_at": "",
        "business_elapsed_s": "960.0",
        "calendar_elapsed_s": "960.0",
        "paused_s": "0.0",
        "remaining_s": "840.0",
    }


def test_a_silver_first_reply_created_just_before_closing_breaches_the_next_morning():
    # T-1002: silver, region emea -> policy "emea"; normal: first_reply 4h in Stockholm hours.
    # Created Mon 2026-03-02 16:50 CET (15:50Z): 10 min that day, then 3h50 from Tue 08:00:
    # due Tue 11:50 CET = 10:50Z. Its first public agent comment (listed before the creation in
    # the file) is Tue 13:20 CET = 12:20Z: 10 min + 5h20 = 5h30 = 19800 s of business time, a
    # real 20h30 = 73800 s, 14400 - 19800 = -5400 s left.
    row = clock(log_rows(), "T-1002", "silver", "first_reply")
    assert (row["policy"], row["priority"]) == ("emea", "normal")
    assert (row["start"], row["due"], row["stop"]) == (
        "2026-03-02T15:50:00Z",
        "2026-03-03T10:50:00Z",
        "2026-03-03T12:20:00Z",
    )
    assert (row["state"], row["breached_at"]) == ("breached", "2026-03-03T10:50:00Z")
    assert float(row["business_elapsed_s"]) == 19800.0
    assert float(row["calendar_elapsed_s"]) == 73800.0
    assert float(row["remaining_s"]) == -5400.0


def test_a_bronze_next_reply_still_unanswered_is_breached_and_running():
    # T-1004: bronze, low: next_reply "*": 16h in Stockholm hours. The customer writes Wed
    # 2026-03-11 08:30 CET (07:30Z): 8h30 that day, 7h30 on Thu: due Thu 15:30 CET = 14:30Z.
    # Nobody answers; by now (Mon 13:00 CET) it ran Wed 8h30 + Thu 9h + Fri 9h + Mon 5h = 31h30
    # = 113400 s, 57600 - 113400 = -55800 s left, and it has no stop.
    row = clock(log_rows(), "T-1004", "bronze", "next_reply")
    assert (row["priority"], row["assignee"]) == ("low", "lars")
    assert (row["start"], row["due"], row["stop"]) == (
        "2026-03-11T07:30:00Z",
        "2026-03-12T14:30:00Z",
        "",
    )
    assert (row["state"], row["breached_at"]) == ("breached", "2026-03-12T14:30:00Z")
    assert float(row["business_elapsed_s"]) == 113400.0
    assert float(row["remaining_s"]) == -55800.0


def test_duplicate_and_out_of_order_events_do_not_change_the_log(tmp_path):
    # examples/events.jsonl repeats T-1001-2 at its end and lists T-1002-2 before T-1002-1.
    lines = EVENTS.read_text(encoding="utf-8").splitlines()
    events = [json.loads(line) for line in lines if line.strip()]
    ids = [e["id"] for e in events]
    assert len(ids) > len(set(ids)), "the example should hold a duplicate"
    unique = list({e["id"]: e for e in reversed(events)}.values())
    unique.sort(key=lambda e: (e["ticket"], datetime.fromisoformat(e["at"]), e["id"]))
    assert [e["id"] for e in unique] != [e["id"] for e in events]
    clean = tmp_path / "clean.jsonl"
    clean.write_text("".join(json.dumps(e) + "\n" for e in unique), encoding="utf-8")

    original = ok(report("log", "--format", "csv"))
    tidied = ok(report("log", "--format", "csv", events=clean))
    assert tidied.stdout == original.stdout
    assert original.stderr == ""  # duplicates are not problems


def test_the_log_can_be_narrowed_to_agreements_and_metrics():
    rows = log_rows()
    narrowed = ok(
        report("log", "--agreement", "gold", "-a", "silver", "--metric", "first_reply")
    ).stdout
    expected = [
        r for r in rows if r["agreement"] in ("gold", "silver") and r["metric"] == "first_reply"
    ]
    assert list(csv.DictReader(io.StringIO(narrowed))) == expected
    # T-1001, T-1003, T-1006 (gold) and T-1002, T-1005 (silver)
    assert sorted(r["ticket"] for r in expected) == [
        "T-1001",
        "T-1002",
        "T-1003",
        "T-1005",
        "T-1006",
    ]


# ------------------------------------------------------------------------------- compliance


def counted_from_log(rows: list[dict[str, str]]) -> dict[tuple[str, str], Counter[str]]:
    counts: dict[tuple[str, str], Counter[str]] = {}
    for row in rows:
        counts.setdefault((row["agreement"], row["metric"]), Counter())[row["state"]] += 1
    return counts


def test_compliance_by_agreement_and_metric_agrees_with_the_log():
    rows = log_rows()
    result = ok(report("compliance", "--by", "agreement,metric", "--format", "json"))
    report_rows = json.loads(result.stdout)
    expected = counted_from_log(rows)
    assert [(r["agreement"], r["metric"]) for r in report_rows] == sorted(expected)
    for r in report_rows:
        states = expected[(r["agreement"], r["metric"])]
        met, missed = states["met"], states["breached"]
        assert (r["met"], r["missed"], r["total"]) == (met, missed, met + missed), r
        assert r["open"] == states["active"] + states["paused"]
        assert r["met_pct"] == (round(100 * met / (met + missed), 2) if met + missed else None)
        met_business = [
            float(x["business_elapsed_s"])
            for x in rows
            if (x["agreement"], x["metric"], x["state"]) == (r["agreement"], r["metric"], "met")
        ]
        if met_business:
            assert r["met_business_avg_s"] == pytest.approx(sum(met_business) / len(met_business))
            assert r["met_business_max_s"] == max(met_business)


def test_compliance_of_first_replies_by_agreement_matches_the_hand_count():
    result = ok(report("compliance", "--by", "agreement,metric", "--format", "json"))
    by_key = {(r["agreement"], r["metric"]): r for r in json.loads(result.stdout)}
    # gold first replies: T-1001 (16 of 30 min), T-1003 (45 of 60 min), T-1006 (20 min of 2h,
    # created Saturday night, answered Mon 08:20): all met.
    gold = by_key[("gold", "first_reply")]
    assert (gold["total"], gold["met"], gold["met_pct"]) == (3, 3, 100.0)
    # 960, 2700, 1200 s: avg 1620, median 1200, p90 1200 + 0.8 * 1500 = 2400
    assert gold["met_business_avg_s"] == 1620.0
    assert gold["met_business_median_s"] == 1200.0
    assert gold["met_business_p90_s"] == pytest.approx(2400.0)
    # silver first replies: T-1002 (5h30 of 4h) and T-1005 (70 min of 1h once it became urgent):
    # both missed.
    silver = by_key[("silver", "first_reply")]
    assert (silver["total"], silver["missed"], silver["met_pct"]) == (2, 2, 0.0)
    # bronze resolution: T-1004 still runs within its 10d: open, no total.
    bronze = by_key[("bronze", "resolution")]
    assert (bronze["total"], bronze["open"], bronze["met_pct"]) == (0, 1, None)


def test_compliance_as_csv_parses_into_the_same_rows_as_json():
    as_json = json.loads(
        ok(report("compliance", "--by", "agreement,metric", "--format", "json")).stdout
    )
    as_csv = list(
        csv.DictReader(
            io.StringIO(ok(report("compliance", "--by", "agreement,metric", "-f", "csv")).stdout)
        )
    )
    assert len(as_csv) == len(as_json)
    assert list(as_csv[0]) == list(as_json[0])
    for text, value in zip(as_csv, as_json, strict=True):
        assert (text["agreement"], text["metric"]) == (value["agreement"], value["metric"])
        assert int(text["total"]) == value["total"]
        assert int(text["met"]) == value["met"]
        assert text["met_pct"] == ("" if value["met_pct"] is None else str(value["met_pct"]))


def test_compliance_as_csv_leaves_no_rate_table_in_the_output():
    result = ok(report("compliance", "-f", "csv"))
    assert "Rate targets" not in result.stdout
    assert len(list(csv.DictReader(io.StringIO(result.stdout)))) == 1


def test_compliance_of_one_metric_has_one_row_per_agreement():
    result = ok(report("compliance", "--metric", "first_reply", "--by", "agreement", "-f", "json"))
    rows = json.loads(result.stdout)
    # first replies: bronze T-1004 missed; gold 3 met; the OLA 5 met; silver 2 missed
    assert [(r["agreement"], r["total"], r["met"]) for r in rows] == [
        ("bronze", 1, 0),
        ("gold", 3, 3),
        ("second-line", 5, 5),
        ("silver", 2, 0),
    ]


def test_compliance_as_a_table_is_followed_by_the_rate_targets():
    result = ok(report("compliance", "--by", "agreement"))
    assert "Rate targets" in result.stdout


def test_compliance_by_month_in_stockholm_puts_every_example_ticket_in_march():
    result = ok(report("compliance", "--by", "month", "--tz", "Europe/Stockholm", "-f", "json"))
    assert [r["month"] for r in json.loads(result.stdout)] == ["2026-03"]


# ------------------------------------------------------------------------------- attribution


def test_attribution_splits_the_logged_business_time_over_groups_and_assignees():
    rows = json.loads(ok(report("attribution", "--format", "json")).stdout)
    logged = sum(float(r["business_elapsed_s"]) for r in log_rows())
    assert sum(r["business_s"] for r in rows) == pytest.approx(logged)
    lars = next(r for r in rows if (r["group"], r["assignee"]) == ("first-line", "lars"))
    # T-1004 after lars took it (Tue 2026-03-10 14:01 CET): the next_reply clock, all 31h30 =
    # 113400 s of it (breached), and resolution: Tue 14:01-17:00 2h59 + Wed, Thu, Fri 9h each +
    # Mon 08:00-13:00 5h = 34h59 = 125940 s.
    assert lars == {
        "group": "first-line",
        "assignee": "lars",
        "business_s": 113400.0 + 125940.0,
        "clocks": 2,
        "breached_clocks": 1,
        "breached_business_s": 113400.0,
    }


def test_attribution_as_a_table_shows_durations_readably():
    result = ok(report("attribution"))
    lars = [line for line in result.stdout.splitlines() if "lars" in line]
    assert len(lars) == 1
    # 239340 s = 2d 18h 29m in all, 113400 s = 1d 7h 30m of it on the breached clock
    cells = [cell.strip() for cell in lars[0].strip("│ ").split("│")]
    assert cells == ["first-line", "lars", "2d 18h 29m", "2", "1", "1d 7h 30m"]


def test_attribution_of_one_agreement_counts_only_its_clocks():
    rows = json.loads(ok(report("attribution", "--agreement", "bronze", "-f", "json")).stdout)
    # bronze is T-1004 only. first-line/nobody: first_reply 31h30 = 113400 s (breached) and
    # resolution before lars took it, Thu 09:30-17:00 7h30 + Fri, Mon 9h + Tue 08:00-14:01 6h01 =
    # 31h31 = 113460 s. Both have 113400 s of breached time; the one with more time leads.
    assert [
        (r["assignee"], r["business_s"], r["clocks"], r["breached_business_s"]) for r in rows
    ] == [
        ("lars", 239340.0, 2, 113400.0),
        (None, 226860.0, 2, 113400.0),
    ]


# ------------------------------------------------------------------------------- rates


def test_rates_report_each_rate_target_with_decided_clocks_per_month():
    rows = json.loads(ok(report("rates", "--format", "json")).stdout)
    common = {"period": "2026-03"}
    assert rows == [
        # T-1003 (high): resolution 7h31 of New York hours <= 8h
        {
            "agreement": "gold",
            "policy": "americas",
            "metric": "resolution",
            **common,
            "clocks": 1,
            "within": 1,
            "rate_pct": 100.0,
            "target_pct": 95.0,
            "outcome": "met",
        },
        # T-1006 (normal): resolution 25 min <= 16h ("*"); T-1001 is in policy "urgent"
        {
            "agreement": "gold",
            "policy": "emea",
            "metric": "resolution",
            **common,
            "clocks": 1,
            "within": 1,
            "rate_pct": 100.0,
            "target_pct": 95.0,
            "outcome": "met",
        },
        # T-1002 (normal, 5h30 > 4h) and T-1005 (urgent, 70 min > 1h): 0 of 2
        {
            "agreement": "silver",
            "policy": "emea",
            "metric": "first_reply",
            **common,
            "clocks": 2,
            "within": 0,
            "rate_pct": 0.0,
            "target_pct": 90.0,
            "outcome": "missed",
        },
        # bronze's quarterly rate: T-1004's resolution runs at 66h30 of 5d: not decided, no row
    ]


# ------------------------------------------------------------------------------- whatif


def draft_with_faster_gold_urgent_replies(tmp_path: Path) -> Path:
    text = CONFIG.read_text(encoding="utf-8")
    old = "first_reply: {within: 30m, warn: [50%, 10m]}"
    assert text.count(old) == 1
    draft = tmp_path / "draft.yaml"
    # 15m: as strict as the OLA behind gold allows (an OLA may not be looser than its SLA).
    draft.write_text(
        text.replace(old, "first_reply: {within: 15m, warn: [50%, 5m]}"), encoding="utf-8"
    )
    return draft


def test_whatif_shows_the_clocks_a_stricter_draft_would_breach(tmp_path):
    draft = draft_with_faster_gold_urgent_replies(tmp_path)
    result = ok(run("whatif", "-c", CONFIG, "--draft", draft, "-e", EVENTS, "--now", NOW))
    # T-1001's first reply took 16 min: met within 30m, missed within 15m. Nothing else is urgent
    # and gold.
    assert "1 clocks change outcome" in result.stdout
    changed = [line for line in result.stdout.splitlines() if "T-1001" in line]
    assert len(changed) == 1
    cells = [cell.strip() for cell in changed[0].strip("│ ").split("│")]
    assert cells == ["T-1001", "gold", "first_reply", "1", "met", "breached"]


def test_whatif_summary_moves_one_clock_from_met_to_missed(tmp_path):
    draft = draft_with_faster_gold_urgent_replies(tmp_path)
    rows = log_rows()
    decided = [r for r in rows if r["state"] in ("met", "breached")]
    met = sum(r["state"] == "met" for r in decided)
    args = ("whatif", "-c", CONFIG, "--draft", draft, "-e", EVENTS, "--now", NOW, "-f", "csv")
    summary_header, summary_row, *rest = ok(run(*args)).stdout.splitlines()
    assert rest == []
    assert summary_header == "total_before,met_pct_before,total_after,met_pct_after"
    total = len(decided)
    before_pct, after_pct = round(100 * met / total, 2), round(100 * (met - 1) / total, 2)
    assert summary_row == f"{total},{before_pct},{total},{after_pct}"
    # One CSV document at a time: --changes prints the changed clocks instead.
    changes_header, change, *rest = ok(run(*args, "--changes")).stdout.splitlines()
    assert rest == []
    assert changes_header == "ticket,agreement,metric,cycle,before,after"
    assert change == "T-1001,gold,first_reply,1,met,breached"


def test_whatif_of_a_config_against_itself_changes_nothing():
    result = ok(run("whatif", "-c", CONFIG, "--draft", CONFIG, "-e", EVENTS, "--now", NOW))
    assert "0 clocks change outcome" in result.stdout


def test_whatif_as_json_is_one_json_document(tmp_path):
    draft = draft_with_faster_gold_urgent_replies(tmp_path)
    result = ok(
        run("whatif", "-c", CONFIG, "--draft", draft, "-e", EVENTS, "--now", NOW, "-f", "json")
    )
    document = json.loads(result.stdout)
    assert [c["ticket"] for c in document["changes"]] == ["T-1001"]
    assert len(document["summary"]) == 1


# ------------------------------------------------------------------------------- errors


def test_an_unknown_group_key_fails_naming_the_by_option():
    result = report("compliance", "--by", "agreement,team")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: --by: unknown key 'team'")
    assert "agreement" in result.stderr  # the keys one may use


def test_an_unknown_group_key_fails_whatif_too():
    result = run("whatif", "-c", CONFIG, "--draft", CONFIG, "-e", EVENTS, "--by", "tier")
    assert result.exit_code == 1
    assert "--by" in result.stderr


def test_an_unknown_time_zone_fails_naming_the_tz_option():
    result = report("compliance", "--tz", "Europe/Stokholm")
    assert result.exit_code == 1
    assert result.stderr == "error: --tz: unknown time zone 'Europe/Stokholm'\n"


def test_a_bad_now_fails_naming_the_now_option():
    result = run("report", "log", "-c", CONFIG, "-e", EVENTS, "--now", "2026-03-16T12:00:00")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: --now:")


def test_a_missing_events_file_fails_naming_the_file(tmp_path):
    missing = tmp_path / "nope.jsonl"
    result = report("log", events=missing)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert str(missing) in result.stderr


def test_an_invalid_config_fails_and_prints_its_problems(tmp_path):
    config = tmp_path / "sla.yaml"
    config.write_text(
        "agreements:\n  - id: gold\n    kind: gold\n"
        "    policies: [{id: all, targets: {first_reply: {within: 1x}}}]\n",
        encoding="utf-8",
    )
    result = report("compliance", config=config)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert f"error: {config} is not a valid config" in result.stderr
    assert f"{config}:3: agreements[0].kind: unknown kind 'gold'" in result.stderr
    assert f"{config}:4: agreements[0].policies[0].targets.first_reply.within" in result.stderr


def malformed_copy(tmp_path: Path) -> Path:
    """examples/events.jsonl with a line that is not JSON inserted as line 5."""
    lines = EVENTS.read_text(encoding="utf-8").splitlines(keepends=True)
    lines.insert(4, '{"id": "T-1001-x", "ticket": \n')
    events = tmp_path / "events.jsonl"
    events.write_text("".join(lines), encoding="utf-8")
    return events


def test_a_malformed_event_line_is_a_warning_with_file_and_line_and_the_report_still_runs(
    tmp_path,
):
    events = malformed_copy(tmp_path)
    result = ok(report("log", events=events))
    assert result.stderr.startswith(f"warning: {events}:5: ")
    assert len(result.stderr.splitlines()) == 1
    # the bad line is skipped; every other event is read, so the log is the example's
    assert result.stdout == ok(report("log")).stdout


def test_strict_makes_a_malformed_event_line_fail_the_report(tmp_path):
    events = malformed_copy(tmp_path)
    result = report("log", "--strict", events=events)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: {events}:5: ")


def test_strict_has_no_effect_on_a_clean_file():
    assert ok(report("log", "--strict")).stdout == ok(report("log")).stdout


def test_a_report_without_events_is_a_usage_error():
    result = run("report", "log", "-c", CONFIG)
    assert result.exit_code == 2
    assert "--events" in result.output


def report_json(command: str, *args: str) -> Any:
    return json.loads(ok(report(command, "--format", "json", *args)).stdout)


def test_json_reports_are_valid_json_lists():
    for command in ("compliance", "rates", "attribution", "log"):
        assert isinstance(report_json(command), list), command
