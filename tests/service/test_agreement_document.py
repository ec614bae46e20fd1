"""The agreement as a readable document: words for every promise, review dates, the HTML fragment.

Most cases read the shipped examples/sla.yaml, whose `gold` agreement starts on 2026-01-01 and is
reviewed every 12 months, and whose `second-line` OLA is reviewed quarterly.
"""

import re
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from duly.config import load_config, load_config_text
from duly.core.agreements import BUILTIN_METRICS
from duly.service.agreement_document import (
    METRIC_DESCRIPTIONS,
    agreement_document,
    duration_words,
    next_review_on,
)
from duly.service.errors import NotFoundError

ROOT = Path(__file__).resolve().parents[2]
CONFIG = load_config(ROOT / "examples" / "sla.yaml")
TEMPLATES = ROOT / "src" / "duly" / "web" / "templates"
TODAY = date(2026, 3, 16)


def document(agreement_id: str = "gold", today: date = TODAY) -> dict:
    return agreement_document(CONFIG, agreement_id, today)


def one_agreement(extra: str) -> str:
    return (
        "agreements:\n"
        "  - id: deal\n" + extra + "    policies: [{id: all, targets: {resolution: 8h}}]\n"
    )


# --- review dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "next_on", "due"),
    [
        (date(2026, 3, 16), "2027-01-01", False),  # 291 days away
        (date(2026, 12, 1), "2027-01-01", False),  # 31 days away: not yet
        (date(2026, 12, 2), "2027-01-01", True),  # 30 days away: due
        (date(2027, 1, 1), "2027-01-01", True),  # the review day itself
        (date(2027, 1, 2), "2028-01-01", False),  # the next one, a year on
    ],
)
def test_the_next_review_is_the_first_anniversary_on_or_after_today(today, next_on, due):
    review = document("gold", today)["review"]
    assert review["next_on"] == next_on
    assert review["due"] is due
    assert review["interval_text"] == "every year"


def test_a_due_review_says_in_how_many_days():
    review = document("gold", date(2026, 12, 10))["review"]
    assert review["days_until"] == 22
    assert review["reason"] == "The review is due in 22 days, on 1 January 2027."


def test_a_quarterly_review_falls_every_three_months_from_the_start():
    review = document("second-line", date(2026, 3, 20))["review"]
    assert (review["next_on"], review["days_until"], review["due"]) == ("2026-04-01", 12, True)
    assert review["interval_text"] == "every 3 months"


def test_review_dates_are_counted_from_the_start_and_keep_to_the_months_last_day():
    start = date(2026, 1, 31)
    assert next_review_on(start, 1, date(2026, 2, 15)) == date(2026, 2, 28)
    assert next_review_on(start, 1, date(2026, 3, 1)) == date(2026, 3, 31)
    assert next_review_on(start, 12, date(2027, 2, 1)) == date(2028, 1, 31)


def test_an_agreement_not_yet_in_force_is_first_reviewed_one_interval_after_it_starts():
    assert next_review_on(date(2026, 1, 1), 6, date(2025, 6, 1)) == date(2026, 7, 1)


def test_a_review_interval_of_zero_months_is_refused():
    with pytest.raises(ValueError, match="more than 0"):
        next_review_on(date(2026, 1, 1), 0, TODAY)


def test_an_agreement_past_its_end_but_still_active_is_due_for_review():
    config = load_config_text(
        one_agreement("    effective: {from: 2025-01-01, to: 2025-12-31}\n    review: 12 months\n")
    )
    review = agreement_document(config, "deal", TODAY)["review"]
    assert review["due"] is True
    assert "ended on 31 December 2025 but is still marked active" in review["reason"]


def test_an_agreement_without_review_interval_has_no_next_review():
    review = agreement_document(load_config_text(one_agreement("")), "deal", TODAY)["review"]
    assert (review["next_on"], review["due"], review["interval_text"]) == (None, False, None)


def test_an_unknown_agreement_is_not_found_and_a_key_error():
    with pytest.raises(NotFoundError, match="no agreement 'platinum'"):
        agreement_document(CONFIG, "platinum", TODAY)
    with pytest.raises(KeyError):
        agreement_document(CONFIG, "platinum", TODAY)


# --- words ----------------------------------------------------------------------------------------


def test_every_built_in_metric_of_the_design_has_a_description():
    design = (ROOT / "docs" / "DESIGN.md").read_text(encoding="utf-8")
    in_table = re.findall(r"^\| `(\w+)` \|", design, flags=re.MULTILINE)
    assert set(in_table) == set(BUILTIN_METRICS)
    assert set(METRIC_DESCRIPTIONS) == set(BUILTIN_METRICS)


@pytest.mark.parametrize("agreement", [a.id for a in CONFIG.agreements])
def test_every_metric_an_agreement_uses_is_described(agreement):
    doc = document(agreement)
    used = {t["metric"] for p in doc["policies"] for t in p["targets"]}
    described = {m["metric"]: m["description"] for m in doc["metrics"]}
    assert used <= set(described)
    assert all(len(text) > 40 for text in described.values())


def test_a_custom_metric_is_described_by_its_conditions():
    (pickup,) = [m for m in document("second-line")["metrics"] if m["custom"]]
    assert pickup["metric"] == "second_line_pickup"
    assert pickup["description"].startswith("Starts when group is second-line and stops when")
    assert "measured again each time it starts" in pickup["description"]
    assert pickup["description"].endswith("while the second-line team holds the ticket.")


@pytest.mark.parametrize(
    ("seconds", "calendar", "words"),
    [
        (4 * 3600, "stockholm", "4 business hours (stockholm)"),
        (3600, "stockholm", "1 business hour (stockholm)"),
        (30 * 60, "stockholm", "30 business minutes (stockholm)"),
        (5400, "stockholm", "1 hour 30 minutes of business time (stockholm)"),
        (3 * 86400, "stockholm", "72 business hours (stockholm)"),
        (30 * 60, "24x7", "30 minutes (around the clock)"),
        (2 * 86400 + 3600, "24x7", "2 days 1 hour (around the clock)"),
    ],
)
def test_durations_are_given_in_words_with_their_calendar(seconds, calendar, words):
    assert duration_words(seconds, calendar, CONFIG.calendar(calendar)) == words


def test_the_targets_table_has_a_column_per_priority_most_urgent_first():
    emea = next(p for p in document()["policies"] if p["id"] == "emea")
    assert [c["label"] for c in emea["priorities"]] == ["high", "normal", "low"]
    resolution = next(t for t in emea["targets"] if t["metric"] == "resolution")
    assert resolution["cells"] == [
        "8 business hours (stockholm)",
        "16 business hours (stockholm)",
        "40 business hours (stockholm)",
    ]
    assert emea["applies_to"] == "every ticket no policy above applies to"
    assert emea["rate_targets"][0]["text"].startswith("95 % of resolution time measurements")


def test_the_summary_and_parties_say_who_promises_what():
    doc = document()
    assert doc["summary"]["kind_text"] == "Service level agreement (SLA)"
    assert doc["summary"]["owner"] == "head-of-support@example.com"
    assert {p["role"]: p["name"] for p in doc["parties"]} == {
        "customer": "Gold customers",
        "provider": "Example Support AB",
    }
    assert doc["effective"]["text"] == "In force from 1 January 2026 until further notice."
    assert document("second-line")["summary"]["kind_text"] == "Operational level agreement (OLA)"


def test_service_hours_give_the_week_holidays_and_exceptions_of_each_calendar_used():
    hours = {h["calendar"]: h for h in document()["service_hours"]}
    assert set(hours) == {"24x7", "new_york", "stockholm"}
    stockholm = hours["stockholm"]
    assert stockholm["week"] == [
        {"days": "Monday to Friday", "hours": "08:00\u201317:00"},
        {"days": "Saturday and Sunday", "hours": "closed"},
    ]
    assert stockholm["hours_per_week"] == "45 hours"
    holidays = [d["on"] for d in stockholm["holidays"]["dates"]]
    assert "2026-12-24" in holidays  # Christmas Eve, a de facto holiday
    assert all(day.startswith("2026-") for day in holidays)
    assert stockholm["exceptions"] == [
        {"on": "2026-04-30", "text": "Thursday 30 April 2026", "hours": "08:00\u201313:00"}
    ]
    assert "closed on" in stockholm["text"]
    assert hours["24x7"]["text"] == "Around the clock, every day of the year."


def test_pause_rules_name_the_statuses_in_words():
    rules = {(r["policy"], r["metric"]): r["text"] for r in document("bronze")["pause_rules"]}
    resolution = rules[("Stockholm business hours", "resolution")]
    assert resolution.startswith(
        "Paused while the ticket is waiting on the customer or waiting on a third party."
    )
    assert "At most 30 days of pauses count." in resolution
    assert "the earlier of the old and the new due time applies" in resolution
    assert rules[("Stockholm business hours", "first_reply")].startswith("Never paused.")


def test_credits_give_each_tier_with_its_amount_of_the_fee():
    credits = document()["credits"]
    assert credits["fee"] == "12,000 EUR a month"
    assert [t["text"] for t in credits["tiers"]] == [
        "Fewer than 90 % of resolution time targets met: 10 % of the monthly fee (1,200 EUR).",
        "Fewer than 95 % of resolution time targets met: 5 % of the monthly fee (600 EUR).",
    ]
    assert document("silver")["credits"]["tiers"][0]["amount"] is None
    assert document("bronze")["credits"] is None


def test_alert_rules_show_the_agreements_and_each_policy_of_its_own():
    doc = document()
    assert doc["alerts"]["breach"] == "support-leads, pager"
    assert doc["alerts"]["escalations"][0] == {"after": "1 hour", "notify": "team-lead"}
    urgent = next(p for p in doc["policies"] if p["id"] == "urgent")
    assert urgent["alerts"]["escalations"][0] == {"after": "15 minutes", "notify": "team-lead"}


# --- the HTML fragment ----------------------------------------------------------------------------


class _Outline(HTMLParser):
    """Collects the tags of a fragment, and the scope of each table header."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.th_scopes: list[str | None] = []
        self.styled = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        values = dict(attrs)
        if tag == "th":
            self.th_scopes.append(values.get("scope"))
        if "style" in values or tag == "style":
            self.styled += 1


def render(doc: dict) -> str:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
    )
    return environment.get_template("agreement_document.html").render(document=doc)


@pytest.mark.parametrize("agreement", [a.id for a in CONFIG.agreements])
def test_the_fragment_renders_every_agreement_as_semantic_html(agreement):
    html = render(document(agreement, date(2026, 12, 10)))
    outline = _Outline()
    outline.feed(html)
    outline.close()
    assert "html" not in outline.tags
    assert "body" not in outline.tags
    assert outline.tags[0] == "article"
    assert {"h2", "h3", "table", "dl", "dt", "dd"} <= set(outline.tags)
    assert outline.th_scopes
    assert all(s in ("row", "col") for s in outline.th_scopes)
    assert outline.styled == 0


def test_the_fragment_shows_the_targets_credits_and_a_due_review():
    html = render(document("gold", date(2026, 12, 10)))
    assert '<h2 id="agreement-gold-title">Gold support</h2>' in html
    assert "<td>8 business hours (stockholm)</td>" in html
    assert "10 % (1,200 EUR)" in html
    assert "Review due." in html
    assert "Review due." not in render(document("gold", TODAY))


def test_the_fragment_escapes_what_the_config_says():
    config = load_config_text(one_agreement("    name: <script>alert(1)</script>\n"))
    html = render(agreement_document(config, "deal", TODAY))
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
