"""`duly deadline` and `duly between` on the shipped example calendars."""

import json
from pathlib import Path

from typer.testing import CliRunner

from duly.cli import app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "calendars.yaml"
runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def test_help_lists_the_calendar_commands():
    result = run("--help")
    assert result.exit_code == 0
    assert "deadline" in result.output
    assert "between" in result.output


def test_deadline_over_swedish_christmas_lands_on_the_first_working_monday():
    # Wed 23 Dec 15:30 leaves 1h30 that day; 24 Dec to 3 Jan are holidays, closed days or weekend;
    # the remaining 7h run Mon 4 Jan 08:00-12:00 and 13:00-16:00.
    result = run(
        "deadline",
        "--calendar",
        f"{EXAMPLE}:stockholm_office",
        "--start",
        "2026-12-23T15:30:00+01:00",
        "--add",
        "8h30m",
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "2027-01-04T16:00:00+01:00"


def test_deadline_as_json_gives_local_and_utc_times():
    result = run(
        "deadline",
        "-c",
        f"{EXAMPLE}:kathmandu_support",
        "--start",
        "2026-11-20T15:30:00Z",
        "--add",
        "PT8H",
        "--json",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    # Friday 21:15 in Kathmandu is after hours; Sunday 10:00-17:00 holds 7h; Monday 10:00 + 1h.
    assert data["deadline"] == "2026-11-23T11:00:00+05:45"
    assert data["deadline_utc"] == "2026-11-23T05:15:00+00:00"
    assert data["business_seconds"] == 8 * 3600


def test_between_prints_business_time_readably_and_as_json():
    args = [
        "between",
        "-c",
        f"{EXAMPLE}:stockholm_office",
        "--start",
        "2026-12-23T15:30:00+01:00",
        "--end",
        "2027-01-04T10:00:00+01:00",
    ]
    plain = run(*args)
    assert plain.exit_code == 0, plain.output
    assert plain.output.strip() == "3h 30m (12600 business seconds)"
    data = json.loads(run(*args, "--json").output)
    assert data["business_seconds"] == 12600
    assert data["calendar_seconds"] == (11 * 24 + 18.5) * 3600


def test_a_start_without_offset_is_refused_not_guessed():
    result = run(
        "deadline", "-c", f"{EXAMPLE}:always", "--start", "2026-11-20T15:30:00", "--add", "1h"
    )
    assert result.exit_code == 1
    assert "--start" in result.output
    assert "no UTC offset" in result.output


def test_an_unreadable_duration_names_the_option():
    result = run(
        "deadline", "-c", f"{EXAMPLE}:always", "--start", "2026-11-20T15:30:00Z", "--add", "8x"
    )
    assert result.exit_code == 1
    assert "--add: cannot read duration '8x'" in result.output


def test_a_file_of_many_calendars_needs_a_name(tmp_path):
    result = run(
        "between", "-c", str(EXAMPLE), "--start", "2026-01-01T00:00Z", "--end", "2026-01-02T00:00Z"
    )
    assert result.exit_code == 1
    assert "name one with FILE:NAME" in result.output
    assert "stockholm_office" in result.output


def test_an_unknown_calendar_name_lists_the_ones_there_are():
    result = run(
        "between",
        "-c",
        f"{EXAMPLE}:nope",
        "--start",
        "2026-01-01T00:00Z",
        "--end",
        "2026-01-02T00:00Z",
    )
    assert result.exit_code == 1
    assert "calendars.nope: no such calendar" in result.output


def test_an_invalid_calendar_file_reports_file_field_and_reason(tmp_path):
    bad = tmp_path / "cal.yaml"
    bad.write_text(
        "calendars:\n  desk:\n    timezone: Nowhere/City\n    week: {mon: ['09:00-17:00']}\n"
    )
    result = run(
        "between", "-c", f"{bad}:desk", "--start", "2026-01-01T00:00Z", "--end", "2026-01-02T00:00Z"
    )
    assert result.exit_code == 1
    assert f"{bad}: calendars.desk.timezone: unknown time zone 'Nowhere/City'" in result.output


def test_a_single_calendar_file_needs_no_name(tmp_path):
    one = tmp_path / "desk.yaml"
    one.write_text("timezone: UTC\nweek: {mon: ['09:00-17:00']}\n")
    result = run(
        "between",
        "-c",
        str(one),
        "--start",
        "2026-11-23T00:00Z",
        "--end",
        "2026-11-24T00:00Z",
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["business_seconds"] == 8 * 3600
