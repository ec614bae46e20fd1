"""GET /reports/compliance and /reports/log: the figures the CLI gives, as JSON or CSV."""

import csv
import io
from zoneinfo import ZoneInfo

import pytest

from api.api_server import EXAMPLE_CONFIG, EXAMPLE_EVENTS, NOW
from duly.config import load_config
from duly.core.reports import LOG_COLUMNS, compliance
from duly.service.history import read_history

COMPLIANCE = "/api/v1/reports/compliance"
LOG = "/api/v1/reports/log"


@pytest.mark.parametrize(
    ("by", "tz"),
    [(("agreement", "metric"), "UTC"), (("month", "priority"), "Europe/Stockholm"), ((), "UTC")],
)
def test_compliance_through_the_api_equals_the_cli_report_over_the_same_events(loaded, by, tz):
    history = read_history([EXAMPLE_EVENTS])
    table = history.clocks(load_config(EXAMPLE_CONFIG), NOW)
    expected = compliance(table, by, ZoneInfo(tz))
    answer = loaded.client("viewer").get(COMPLIANCE, params={"by": ",".join(by), "tz": tz})
    assert answer.status_code == 200
    rows = answer.json()["rows"]
    assert len(rows) == len(expected) > 0
    for row, wanted in zip(rows, expected, strict=True):
        assert row == pytest.approx(wanted)


def test_the_log_as_csv_has_the_log_columns_and_one_row_per_clock(loaded):
    viewer = loaded.client("viewer")
    rows = viewer.get(LOG).json()["rows"]
    answer = viewer.get(LOG, params={"format": "csv"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    reader = csv.DictReader(io.StringIO(answer.text))
    assert tuple(reader.fieldnames or ()) == LOG_COLUMNS
    parsed = list(reader)
    assert len(parsed) == len(rows) > 0
    assert [r["ticket"] for r in parsed] == [r["ticket"] for r in rows]
    assert [r["state"] for r in parsed] == [r["state"] for r in rows]
    by_accept = viewer.get(LOG, headers={"Accept": "text/csv"})
    assert by_accept.text == answer.text


def test_an_empty_log_as_csv_still_has_its_header(server):
    answer = server.client("viewer").get(LOG, params={"format": "csv"})
    assert answer.text.strip() == ",".join(LOG_COLUMNS)


def test_compliance_as_csv_parses_with_the_group_keys_first(loaded):
    viewer = loaded.client("viewer")
    rows = viewer.get(COMPLIANCE, params={"by": "agreement"}).json()["rows"]
    answer = viewer.get(COMPLIANCE, params={"by": "agreement"}, headers={"Accept": "text/csv"})
    reader = csv.DictReader(io.StringIO(answer.text))
    assert (reader.fieldnames or [])[:6] == [
        "agreement",
        "total",
        "met",
        "missed",
        "met_pct",
        "open",
    ]
    parsed = list(reader)
    assert [(r["agreement"], int(r["met"])) for r in parsed] == [
        (r["agreement"], r["met"]) for r in rows
    ]
    empty = viewer.get(COMPLIANCE, params={"by": "agreement", "agreement": "none"})
    assert empty.json() == {"rows": []}
    empty_csv = viewer.get(
        COMPLIANCE, params={"by": "agreement", "agreement": "none", "format": "csv"}
    )
    assert empty_csv.text.strip() == "agreement,total,met,missed,met_pct,open"


def test_report_filters_narrow_the_clocks(loaded):
    viewer = loaded.client("viewer")
    everything = viewer.get(LOG).json()["rows"]
    gold = viewer.get(LOG, params={"agreement": "gold"}).json()["rows"]
    assert gold == [r for r in everything if r["agreement"] == "gold"]
    replies = viewer.get(LOG, params=[("metric", "first_reply"), ("metric", "next_reply")])
    assert {r["metric"] for r in replies.json()["rows"]} == {"first_reply", "next_reply"}
    late = viewer.get(LOG, params={"from": "2026-03-09T00:00:00Z"}).json()["rows"]
    assert late == [r for r in everything if r["start"] >= "2026-03-09T00:00:00Z"]
    assert 0 < len(late) < len(everything)
    early = viewer.get(LOG, params={"to": "2026-03-09", "tz": "Europe/Stockholm"}).json()["rows"]
    assert early == [r for r in everything if r["start"] < "2026-03-08T23:00:00Z"]
    compliance_gold = viewer.get(COMPLIANCE, params={"agreement": "gold"}).json()["rows"]
    assert compliance_gold[0]["total"] == sum(r["state"] in ("met", "breached") for r in gold)


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        (COMPLIANCE, "by=colour", "by"),
        (COMPLIANCE, "tz=Mars/Olympus", "tz"),
        (COMPLIANCE, "from=yesterday", "from"),
        (COMPLIANCE, "to=2026-03-01T10:00:00", "to"),
        (COMPLIANCE, "format=xml", "format"),
        (LOG, "from=2026-13-01", "from"),
        (LOG, "format=pdf", "format"),
    ],
)
def test_bad_report_parameters_are_refused_naming_the_field(server, path, query, field):
    answer = server.client("viewer").get(f"{path}?{query}")
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["field"] == field
    assert error["message"].startswith(f"{field}: ")


def test_reports_need_a_token(server):
    assert server.client().get(COMPLIANCE).status_code == 401
    assert server.client().get(LOG).status_code == 401
