"""The dashboard in Chromium: every page loads cleanly, the queue is in due order and ticks,
filters narrow it, and only admins are offered changes. Screenshots go to test-artifacts/."""

import re
from datetime import datetime

import pytest

from web.dashboard_server import FRESH_TICKET, dead_letter_one

PAGES = {
    "queue": ("/", "Queue"),
    "ticket": (f"/tickets/{FRESH_TICKET}", f"Ticket {FRESH_TICKET}"),
    "compliance": ("/compliance", "Compliance"),
    "compliance-by-week": ("/compliance?period=week&split=metric&split=priority", "Compliance"),
    "agreements": ("/agreements", "Agreements"),
    "agreement": ("/agreements/gold", "Gold support"),
    "alerts": ("/alerts", "Alerts"),
    "monthly-report-form": ("/reports/monthly", "Monthly report"),
}


def seconds(text: str) -> int:
    """``12m 03s`` -> 723 (the countdown's format below an hour)."""
    found = re.fullmatch(r"(\d+)m (\d+)s", text.strip())
    assert found, f"not a countdown under an hour: {text!r}"
    return int(found[1]) * 60 + int(found[2])


@pytest.mark.parametrize("name", list(PAGES))
def test_each_page_loads_without_console_errors(tab, name):
    path, heading = PAGES[name]
    session = tab("admin")
    page = session.open(path)
    assert page.locator("h1").first.inner_text() == heading
    page.wait_for_timeout(300)  # let the scripts run a tick
    session.screenshot(name)
    assert session.errors == []


def test_the_signin_page_loads_without_console_errors(tab):
    session = tab(None)
    page = session.open("/signin")
    assert page.get_by_label("API token").is_visible()
    session.screenshot("signin")
    assert session.errors == []


def test_the_queue_shows_the_demo_clocks_soonest_due_first(tab, dashboard):
    page = tab("viewer").open("/")
    dues = page.locator("#queue time.due").evaluate_all("els => els.map(e => e.dateTime)")
    tickets = page.locator("#queue tbody tr").evaluate_all("rs => rs.map(r => r.dataset.ticket)")
    assert len(dues) > 20
    instants = [datetime.fromisoformat(d.replace("Z", "+00:00")) for d in dues]
    assert instants == sorted(instants)
    api = dashboard.api().get("/api/v1/clocks", params={"running": "true", "limit": 50}).json()
    assert tickets == [c["ticket"] for c in api["clocks"]]
    assert dues == [c["due"] for c in api["clocks"]]


def test_a_countdown_ticks_down_every_second(tab):
    page = tab("viewer").open("/?metric=first_reply&agreement=gold&priority=urgent")
    countdown = page.locator(f'#queue tr[data-ticket="{FRESH_TICKET}"] .countdown')
    before = seconds(countdown.inner_text())
    page.wait_for_timeout(2200)
    after = seconds(countdown.inner_text())
    assert 1 <= before - after <= 4


def test_a_filter_narrows_the_queue_to_matching_clocks(tab, dashboard):
    page = tab("viewer").open("/")
    everyone = page.locator("#queue tbody tr").count()
    page.get_by_label("Metric").select_option("resolution")
    page.get_by_label("Priority").select_option("urgent")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"metric=resolution"))
    rows = page.locator("#queue tbody tr")
    metrics = rows.evaluate_all("rs => rs.map(r => r.dataset.metric)")
    assert 0 < len(metrics) < everyone
    assert set(metrics) == {"resolution"}
    priorities = page.locator("#queue tbody tr td:nth-child(7)").all_inner_texts()
    assert set(priorities) == {"urgent"}
    query = {"running": "true", "metric": "resolution", "priority": "urgent", "limit": 1000}
    api = dashboard.api().get("/api/v1/clocks", params=query).json()["clocks"]
    assert len(metrics) == min(len(api), 50)


def test_each_queue_row_links_to_its_ticket_page_with_its_clocks_drawn(tab, dashboard):
    session = tab("viewer")
    page = session.open("/?agreement=gold&priority=urgent")
    page.locator(f'#queue tr[data-ticket="{FRESH_TICKET}"] a').first.click()
    page.wait_for_url(f"**/tickets/{FRESH_TICKET}")
    clocks = dashboard.api().get(f"/api/v1/tickets/{FRESH_TICKET}").json()["clocks"]
    assert page.locator("#clock-timeline g.lane").count() == len(clocks) > 0
    assert page.locator("#events li").count() == 1
    assert session.errors == []


def test_a_viewer_is_offered_no_retry_even_for_a_dead_delivery(tab, dashboard):
    dead = dead_letter_one(dashboard.ctx)
    page = tab("viewer").open("/alerts?delivery=dead")
    assert page.locator(f'#alerts tr[data-alert="{dead}"]').count() == 1
    assert page.get_by_role("button", name=re.compile("Retry")).count() == 0
    assert page.locator("form[action*='retry']").count() == 0


def test_an_admin_retries_a_dead_delivery_from_the_alerts_page(tab, dashboard):
    dead = dead_letter_one(dashboard.ctx)
    # Earlier tests may have failed another delivery of the same alert: all go back.
    dead_count = delivery_states(dashboard, dead).count("dead")
    assert dead_count >= 1
    session = tab("admin")
    page = session.open("/alerts?delivery=dead")
    page.get_by_role("button", name=f"Retry the dead deliveries of alert {dead}").click()
    page.wait_for_url(re.compile(rf"retried={dead}"))
    noun = "delivery" if dead_count == 1 else "deliveries"
    status = page.locator("#retry-status").inner_text()
    assert f"{dead_count} dead {noun} queued again" in status
    assert "dead" not in delivery_states(dashboard, dead)
    session.screenshot("alerts-after-retry")
    assert session.errors == []


def delivery_states(dashboard, alert_id):
    alerts = dashboard.api().get("/api/v1/alerts", params={"limit": 1000}).json()["alerts"]
    return [d["state"] for a in alerts if a["id"] == alert_id for d in a["deliveries"]]


def test_signing_in_with_a_bad_token_fails_with_a_message(tab):
    session = tab(None)
    page = session.open("/")
    assert "/signin" in page.url
    page.get_by_label("API token").fill("duly_not-a-token")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text().startswith("That token is not known")
    assert "/signin" in page.url
    assert session.context.cookies() == []
    session.screenshot("signin-refused")


def test_signing_in_with_a_good_token_opens_the_page_asked_for(tab, dashboard):
    session = tab(None)
    page = session.open("/agreements")
    page.get_by_label("API token").fill(dashboard.tokens["viewer"])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/agreements")
    assert page.locator("h1").inner_text() == "Agreements"
    (cookie,) = session.context.cookies()
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert page.evaluate("document.cookie") == ""


def test_the_monthly_report_is_shown_for_the_agreement_and_month_picked(tab, dashboard):
    session = tab("viewer")
    page = session.open("/reports/monthly")
    month = dashboard.clock.now.strftime("%Y-%m")
    page.get_by_label("Agreement").select_option("gold")
    page.get_by_label("Month").fill(month)
    page.get_by_role("button", name="Show report").click()
    page.wait_for_url(re.compile(rf"agreement=gold&month={month}"))
    report = page.frame_locator("iframe.report")
    report.locator("body").wait_for()
    assert "Gold support" in report.locator("body").inner_text()
    session.screenshot("monthly-report")
    assert session.errors == []
