"""The customer's monthly report: the compliance figures of one agreement and month, as HTML.

Most cases use the shipped examples (events in March 2026). Silver misses both of its first
replies that month, so its credit tier "first reply met below 80 %: 5 %" applies; gold meets
every target and owes nothing.
"""

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from duly.config import load_config, load_config_text
from duly.core.clock_table import Categorical, ClockTable, concat_tables, only
from duly.core.clocks import Clock
from duly.core.reports import compliance
from duly.service.config_changes import put_config
from duly.service.configs import ConfigCache
from duly.service.errors import InvalidError, NotFoundError
from duly.service.history import read_history
from duly.service.ingest import ingest
from duly.service.monthly_report import (
    NoPdfConverterError,
    month_bounds,
    monthly_report,
    pdf_converter,
    render_monthly_document,
    render_monthly_html,
    write_pdf,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CONFIG = load_config(EXAMPLES / "sla.yaml")
NOW = datetime(2026, 3, 31, 12, tzinfo=UTC)
STOCKHOLM = ZoneInfo("Europe/Stockholm")
TABLE = read_history([EXAMPLES / "events.jsonl"]).clocks(CONFIG, NOW)
COUNTS = ("total", "met", "missed", "met_pct", "open")


def report(agreement: str = "silver", month: str = "2026-03", tz=STOCKHOLM, table=TABLE) -> dict:
    return monthly_report(table, CONFIG, agreement, month, tz, now=NOW)


# --- the figures ----------------------------------------------------------------------------------


@pytest.mark.parametrize("agreement", [a.id for a in CONFIG.agreements])
@pytest.mark.parametrize("tz", [UTC, STOCKHOLM])
def test_the_figures_are_the_compliance_reports_for_that_agreement_and_month(agreement, tz):
    by = ["month", "policy", "metric", "priority"]
    expected = [
        {key: row[key] for key in ("policy", "metric", "priority", *COUNTS)}
        for row in compliance(only(TABLE, "agreement", [agreement]), by, tz)
        if row["month"] == "2026-03"
    ]
    got = report(agreement, tz=tz)
    assert expected  # every example agreement has clocks in March
    assert sorted(
        (
            {key: row[key] for key in ("policy", "metric", "priority", *COUNTS)}
            for row in got["results"]
        ),
        key=json.dumps,
    ) == sorted(expected, key=json.dumps)
    (month,) = [
        row
        for row in compliance(only(TABLE, "agreement", [agreement]), ["month"], tz)
        if row["month"] == "2026-03"
    ]
    assert {key: got["summary"][key] for key in COUNTS} == {key: month[key] for key in COUNTS}


def test_clocks_of_other_months_and_agreements_are_left_out():
    # Silver's March clocks copied into February, and copied again under another agreement's id,
    # change nothing in silver's March.
    march = only(TABLE, "agreement", ["silver"])
    four_weeks = 28 * 86_400 * 1_000_000
    february = replace(
        march, instants={**march.instants, "start": march.instants["start"] - four_weeks}
    )
    labels = tuple(
        "gold" if label == "silver" else label for label in march.text["agreement"].labels
    )
    other = replace(
        march, text={**march.text, "agreement": Categorical(march.text["agreement"].codes, labels)}
    )
    mixed = concat_tables([march, february, other])
    assert report("silver", table=mixed)["summary"] == report("silver", table=march)["summary"]
    assert report("silver", "2026-02", table=mixed)["summary"]["total"] == 6


def test_each_result_shows_its_target_in_words():
    rows = {(r["metric"], r["priority"]): r for r in report("silver")["results"]}
    assert rows[("first_reply", "urgent")]["target"] == "1 business hour (stockholm)"
    assert rows[("first_reply", "normal")]["target"] == "4 business hours (stockholm)"
    assert rows[("resolution", "normal")]["target"] == "24 business hours (stockholm)"


def test_breaches_name_the_ticket_and_how_late_it_was():
    breaches = report("silver")["breaches"]
    assert len(breaches) == report("silver")["summary"]["missed"] == 4
    first = breaches[0]
    # T-1002: a normal ticket created Mon 2 March 16:50 Stockholm; 4 business hours run out on
    # Tuesday at 11:50 and the first reply came at 13:20, 1h 30m late (both in office hours).
    assert (first["ticket"], first["metric"]) == ("T-1002", "first_reply")
    assert (first["due_text"], first["stop_text"]) == ("3 Mar 11:50", "3 Mar 13:20")
    assert first["late_business_s"] == first["late_calendar_s"] == 5400.0
    assert first["late_text"] == "1h 30m"
    assert {b["ticket"] for b in breaches} == {"T-1002", "T-1005"}


def test_a_breach_still_running_is_late_until_now():
    start = datetime(2026, 3, 30, 9, tzinfo=UTC)
    running = Clock(
        ticket="T-9",
        agreement="silver",
        policy="emea",
        metric="first_reply",
        cycle=1,
        priority="urgent",
        calendar="24x7",
        target_s=3600.0,
        start=start,
        due=start + timedelta(hours=1),
        stop=None,
        state="breached",
        breached_at=start + timedelta(hours=1),
        business_elapsed_s=27 * 3600.0,
        calendar_elapsed_s=27 * 3600.0,
        paused_s=0.0,
        remaining_s=-26 * 3600.0,
    )
    (breach,) = report("silver", table=ClockTable.from_clocks([running]))["breaches"]
    # Due at 10:00 UTC on 30 March; now is 12:00 on 31 March: 26 hours late, still open.
    assert breach["still_open"] is True
    assert breach["stop_text"] == "still open"
    assert breach["late_text"] == "1d 2h"


def test_the_credit_owed_follows_the_first_tier_the_month_falls_under():
    credits = report("silver")["credits"]
    # Silver: 0 of 2 first replies met, below 80 %: 5 % of a fee billed elsewhere.
    assert (credits["owed"], credits["credit_pct"], credits["amount"]) == (True, 5.0, None)
    assert credits["text"].startswith("5 % of the monthly fee is owed: 0 of 2 first reply")
    assert [t["applies"] for t in credits["tiers"]] == [True, False]
    gold = report("gold")["credits"]
    assert (gold["owed"], gold["amount"], gold["amount_text"]) == (False, 0.0, "0 EUR")
    assert gold["text"] == "No service credit is owed for this month."
    assert report("bronze")["credits"] is None


def test_the_monthly_rate_targets_are_judged_for_the_month():
    (rate,) = report("silver")["rates"]
    assert (rate["metric"], rate["target_pct"], rate["clocks"], rate["within"]) == (
        "first_reply",
        90.0,
        2,
        0,
    )
    assert rate["outcome"] == "missed"


def test_the_series_has_a_point_per_day_of_the_month():
    series = report("silver")["series"]
    assert [p["day"] for p in (series[0], series[-1])] == ["2026-03-01", "2026-03-31"]
    assert len(series) == 31
    days = {p["day"]: p for p in series}
    assert sum(p["total"] for p in series) == report("silver")["summary"]["total"]
    assert days["2026-03-01"]["met_pct"] is None  # a Sunday without tickets


def test_the_month_is_counted_in_the_time_zone_given():
    assert month_bounds("2026-03", STOCKHOLM) == (
        datetime(2026, 2, 28, 23, tzinfo=UTC),
        datetime(2026, 3, 31, 22, tzinfo=UTC),
    )
    assert month_bounds("2026-12") == (
        datetime(2026, 12, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    )


@pytest.mark.parametrize("month", ["2026-3", "2026-13", "March", "2026/03"])
def test_a_month_not_written_yyyy_mm_is_refused(month):
    with pytest.raises(InvalidError, match="write it like 2026-03"):
        report(month=month)


def test_an_unknown_agreement_is_not_found():
    with pytest.raises(NotFoundError, match="no agreement 'platinum'"):
        report("platinum")


# --- the document ---------------------------------------------------------------------------------


class _Resources(HTMLParser):
    """Every tag, and every address a tag refers to (src, href, and the like)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.addresses: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "xlink:href", "action", "data", "poster") and value:
                self.addresses.append((tag, value))


def parsed(html: str) -> _Resources:
    parser = _Resources()
    parser.feed(html)
    parser.close()
    return parser


def test_the_document_is_standalone_with_no_scripts_or_external_assets():
    html = render_monthly_document(report("silver"))
    page = parsed(html)
    assert html.startswith("<!doctype html>")
    assert {"html", "head", "style", "body", "svg", "table"} <= set(page.tags)
    assert "script" not in page.tags
    assert "link" not in page.tags
    assert page.addresses == []
    assert "http" not in html.lower().replace("http-equiv", "")
    assert "@import" not in html


def test_with_a_ticket_url_only_breached_tickets_are_linked():
    html = render_monthly_document(report("silver"), "https://desk.example.com/tickets/{id}")
    assert parsed(html).addresses == [
        ("a", "https://desk.example.com/tickets/T-1002"),
        ("a", "https://desk.example.com/tickets/T-1002"),
        ("a", "https://desk.example.com/tickets/T-1005"),
        ("a", "https://desk.example.com/tickets/T-1005"),
    ]


def test_a_ticket_url_without_id_gets_the_id_appended_and_quoted():
    broken = replace_ticket(report("silver"), "T 1002/a")
    html = render_monthly_document(broken, "https://desk.example.com/t/")
    assert ("a", "https://desk.example.com/t/T%201002%2Fa") in parsed(html).addresses


def replace_ticket(data: dict, ticket: str) -> dict:
    data["breaches"][0]["ticket"] = ticket
    return data


def test_a_ticket_url_that_is_not_http_is_refused():
    with pytest.raises(InvalidError, match="ticket_url"):
        render_monthly_document(report("silver"), "javascript:alert(1)//{id}")


def test_the_document_shows_the_parties_period_results_and_credit():
    html = render_monthly_document(report("silver"))
    assert "<title>Silver support: service report for 1\u201331 March 2026</title>" in html
    assert "From Example Support AB" in html
    assert "to Silver customers" in html
    assert "5 % of the monthly fee is owed" in html
    assert "33.33\u00a0%" in html  # 2 of 6 met
    assert ">T-1005<" in html
    assert "No target was missed." in render_monthly_document(report("gold"))


def test_the_document_escapes_what_the_config_says():
    config = load_config_text(
        "agreements:\n"
        "  - id: deal\n"
        "    name: <img src=x onerror=alert(1)>\n"
        "    policies: [{id: all, targets: {resolution: 8h}}]\n"
    )
    html = render_monthly_document(monthly_report(TABLE, config, "deal", "2026-03"))
    assert "<img" not in html
    assert parsed(html).addresses == []


# --- over the store -------------------------------------------------------------------------------


def test_the_store_backed_report_is_the_one_over_the_same_events(db):
    configs = ConfigCache()
    text = (EXAMPLES / "sla.yaml").read_text(encoding="utf-8")
    put_config(db, configs, text, "alice", datetime(2026, 3, 1, tzinfo=UTC))
    lines = (EXAMPLES / "events.jsonl").read_text(encoding="utf-8").splitlines()
    ingest(
        db, configs, [json.loads(s) for s in lines if s.strip()], datetime(2026, 3, 1, tzinfo=UTC)
    )

    for agreement in ("gold", "silver"):
        stored = render_monthly_html(db, configs, agreement, "2026-03", NOW, tz=STOCKHOLM)
        assert stored == render_monthly_document(report(agreement))
    with pytest.raises(NotFoundError):
        render_monthly_html(db, configs, "platinum", "2026-03", NOW)


# --- PDF ------------------------------------------------------------------------------------------


def test_without_chromium_on_the_path_no_pdf_is_written(tmp_path, monkeypatch):
    html = tmp_path / "report.html"
    html.write_text(render_monthly_document(report("silver")), encoding="utf-8")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(NoPdfConverterError, match="no PDF converter is installed"):
        write_pdf(html, tmp_path / "report.pdf")
    assert not (tmp_path / "report.pdf").exists()


@pytest.mark.skipif(pdf_converter() is None, reason="Chromium is not installed")
def test_chromium_prints_the_report_to_a_pdf(tmp_path):
    html = tmp_path / "report.html"
    html.write_text(render_monthly_document(report("silver")), encoding="utf-8")
    write_pdf(html, tmp_path / "report.pdf")
    assert (tmp_path / "report.pdf").read_bytes().startswith(b"%PDF")
