"""The dashboard over plain HTTP: who gets in, what a viewer may not do, forms that only this
dashboard can send, and compliance figures that are the API's to the digit."""

from html.parser import HTMLParser

import pytest

from duly.service.monthly_report import render_monthly_html
from web.dashboard_server import dead_letter_one

PAGES = ["/", "/compliance", "/agreements", "/agreements/gold", "/alerts", "/reports/monthly"]


class _TableRows(HTMLParser):
    """The ``data-key`` and ``data-col`` cells of each body row of the compliance table."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, str]] = []
        self._cell: str | None = None
        self._in_table = False

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        if tag == "table" and found.get("id") == "compliance-table":
            self._in_table = True
        elif self._in_table and tag == "tr" and self.rows is not None:
            self.rows.append({})
        elif self._in_table and tag == "td":
            self._cell = found.get("data-key") or found.get("data-col")
            if found.get("data-col") == "met_pct":
                self.rows[-1]["met_pct"] = found.get("data-value") or ""
                self._cell = None

    def handle_endtag(self, tag):
        if tag == "table":
            self._in_table = False
        if tag == "td":
            self._cell = None

    def handle_data(self, data):
        if self._in_table and self._cell and data.strip():
            self.rows[-1][self._cell] = data.strip()


def table_rows(html: str) -> list[dict[str, str]]:
    parser = _TableRows()
    parser.feed(html)
    return [row for row in parser.rows if row]


@pytest.mark.parametrize("path", PAGES)
def test_a_page_without_a_session_sends_the_person_to_sign_in_and_back(dashboard, path):
    answer = dashboard.client().get(path)
    assert answer.status_code == 303
    expected = "/signin" if path == "/" else f"/signin?next={path.replace('/', '%2F')}"
    assert answer.headers["location"] == expected


def test_an_unknown_token_in_the_cookie_is_forgotten_and_sent_to_sign_in(dashboard):
    answer = dashboard.client(token="duly_revoked-or-made-up").get("/alerts")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/signin")
    assert 'duly_session=""' in answer.headers["set-cookie"]


def test_signing_in_keeps_the_token_in_an_httponly_same_site_strict_cookie(dashboard):
    form = {"token": dashboard.tokens["viewer"], "next": "/alerts"}
    answer = dashboard.client().post("/signin", data=form)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/alerts"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"duly_session={dashboard.tokens['viewer']};")
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Path=/" in cookie


def test_signing_in_with_a_bad_token_is_refused_with_a_message_and_no_cookie(dashboard):
    answer = dashboard.client().post("/signin", data={"token": "duly_wrong", "next": "/"})
    assert answer.status_code == 401
    assert "That token is not known" in answer.text
    assert "set-cookie" not in answer.headers


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil"])
def test_signing_in_never_sends_a_person_to_another_site(dashboard, target):
    answer = dashboard.client().post(
        "/signin", data={"token": dashboard.tokens["viewer"], "next": target}
    )
    assert answer.headers["location"] == "/"


def test_signing_out_forgets_the_cookie(dashboard):
    client = dashboard.client("viewer")
    page = client.get("/agreements").text
    csrf = page.split('name="csrf" value="')[1].split('"')[0]
    answer = client.post("/signout", data={"csrf": csrf})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/signin"
    assert 'duly_session=""' in answer.headers["set-cookie"]


def test_signing_out_from_a_form_another_site_made_is_refused(dashboard):
    answer = dashboard.client("viewer").post("/signout", data={"csrf": "guessed"})
    assert answer.status_code == 403
    assert "set-cookie" not in answer.headers


def retry_states(dashboard, alert_id):
    alerts = dashboard.api().get("/api/v1/alerts", params={"limit": 1000}).json()["alerts"]
    return [d["state"] for a in alerts if a["id"] == alert_id for d in a["deliveries"]]


@pytest.mark.parametrize("role", ["viewer", "agent"])
def test_only_an_admin_may_retry_an_alert_and_others_get_403(dashboard, role):
    dead = dead_letter_one(dashboard.ctx)
    client = dashboard.client(role)
    page = client.get("/alerts?delivery=dead")
    assert page.status_code == 200
    assert "Retry" not in page.text
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    answer = client.post(f"/alerts/{dead}/retry", data={"csrf": csrf})
    assert answer.status_code == 403
    assert "needs the admin role" in answer.text
    assert "dead" in retry_states(dashboard, dead)


def test_a_retry_without_the_dashboards_form_token_is_refused(dashboard):
    dead = dead_letter_one(dashboard.ctx)
    answer = dashboard.client("admin").post(f"/alerts/{dead}/retry", data={"csrf": "forged"})
    assert answer.status_code == 403
    assert "dead" in retry_states(dashboard, dead)


def test_an_admin_retry_queues_the_dead_deliveries_again(dashboard):
    dead = dead_letter_one(dashboard.ctx)
    client = dashboard.client("admin")
    page = client.get("/alerts?delivery=dead").text
    assert f'action="/alerts/{dead}/retry"' in page
    csrf = page.split('name="csrf" value="')[1].split('"')[0]
    # Earlier tests may have failed another delivery of the same alert: all go back.
    dead_count = retry_states(dashboard, dead).count("dead")
    assert dead_count >= 1
    answer = client.post(f"/alerts/{dead}/retry", data={"csrf": csrf})
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/alerts?retried={dead}&requeued={dead_count}"
    assert "dead" not in retry_states(dashboard, dead)
    shown = client.get(answer.headers["location"]).text
    noun = "delivery" if dead_count == 1 else "deliveries"
    assert f"{dead_count} dead {noun} queued again" in shown


def test_retrying_an_alert_that_does_not_exist_is_a_404_page(dashboard):
    client = dashboard.client("admin")
    csrf = client.get("/alerts").text.split('name="csrf" value="')[1].split('"')[0]
    answer = client.post("/alerts/999999/retry", data={"csrf": csrf})
    assert answer.status_code == 404
    assert "no alert 999999" in answer.text


COMPLIANCE_ASKS = [
    ({"period": "month"}, {"by": "month,agreement"}),
    (
        {"period": "week", "split": ["metric", "priority"], "agreement": "gold"},
        {"by": "week,metric,priority", "agreement": "gold"},
    ),
    (
        {
            "period": "month",
            "split": ["agreement", "metric"],
            "metric": "first_reply",
            "tz": "Europe/Stockholm",
        },
        {"by": "month,agreement,metric", "metric": "first_reply", "tz": "Europe/Stockholm"},
    ),
]


@pytest.mark.parametrize(("page_query", "api_query"), COMPLIANCE_ASKS)
def test_the_compliance_table_shows_the_apis_figures(dashboard, page_query, api_query):
    page = dashboard.client("viewer").get("/compliance", params=page_query)
    assert page.status_code == 200
    api = dashboard.api().get("/api/v1/reports/compliance", params=api_query).json()["rows"]
    keys = api_query["by"].split(",")
    expected = [
        {k: str(r[k]) for k in keys}
        | {c: str(r[c]) for c in ("total", "met", "missed", "open")}
        | {"met_pct": "" if r["met_pct"] is None else str(r["met_pct"])}
        for r in api
    ]
    assert len(expected) > 0
    assert table_rows(page.text) == expected


@pytest.mark.parametrize(("page_query", "api_query"), COMPLIANCE_ASKS)
def test_the_compliance_csv_is_the_apis_csv(dashboard, page_query, api_query):
    csv = dashboard.client("viewer").get("/compliance.csv", params=page_query)
    assert csv.status_code == 200
    assert csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in csv.headers["content-disposition"]
    api = dashboard.api().get("/api/v1/reports/compliance", params=api_query | {"format": "csv"})
    assert csv.text == api.text


def test_the_compliance_page_links_its_csv_with_the_same_choices(dashboard):
    page = dashboard.client("viewer").get(
        "/compliance", params={"period": "week", "split": ["metric"], "agreement": "gold"}
    )
    assert (
        'href="/compliance.csv?period=week&amp;split=metric&amp;agreement=gold&amp;tz=UTC"'
        in page.text
    )


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"period": "year"}, "period"),
        ({"split": "team"}, "split"),
        ({"tz": "Mars/Olympus"}, "tz"),
        ({"from": "16/03/2026"}, "from"),
    ],
)
def test_a_wrong_compliance_choice_is_a_page_naming_the_field(dashboard, query, field):
    answer = dashboard.client("viewer").get("/compliance", params=query)
    assert answer.status_code == 422
    assert f"{field}: " in answer.text


def test_an_unknown_ticket_is_a_404_page(dashboard):
    answer = dashboard.client("viewer").get("/tickets/NO-SUCH-TICKET")
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert "no ticket &#39;NO-SUCH-TICKET&#39;" in answer.text


def test_an_unknown_agreement_is_a_404_page(dashboard):
    answer = dashboard.client("viewer").get("/agreements/platinum")
    assert answer.status_code == 404
    assert "no agreement &#39;platinum&#39;" in answer.text


def test_a_queue_cursor_the_dashboard_did_not_make_is_refused(dashboard):
    answer = dashboard.client("viewer").get("/", params={"cursor": "not-a-cursor"})
    assert answer.status_code == 422
    assert "cursor: not a cursor" in answer.text


def test_the_queue_pages_on_with_a_cursor_showing_every_clock_once(dashboard):
    client = dashboard.client("viewer")
    api = dashboard.api().get("/api/v1/clocks", params={"running": "true", "limit": 1000}).json()
    expected = [f'data-ticket="{c["ticket"]}" data-metric="{c["metric"]}"' for c in api["clocks"]]
    shown: list[str] = []
    href: str | None = "/?limit=20"
    while href:
        page = client.get(href).text
        shown += [
            'data-ticket="' + row.split('data-ticket="')[1].split(">")[0]
            for row in page.split("<tr class=")[1:]
        ]
        href = (
            page.split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&")
            if 'rel="next"' in page
            else None
        )
    assert len(api["clocks"]) > 40
    assert shown == expected


def test_a_queue_page_size_out_of_range_is_refused(dashboard):
    answer = dashboard.client("viewer").get("/", params={"limit": 5000})
    assert answer.status_code == 422
    assert "limit: must be from 1 to 1000" in answer.text


def test_the_agreements_page_lists_the_catalogue_with_reviews(dashboard):
    page = dashboard.client("viewer").get("/agreements").text
    for agreement in dashboard.api().get("/api/v1/agreements").json()["agreements"]:
        assert f'data-agreement="{agreement["id"]}"' in page
    assert 'id="reviews-due"' in page


def test_every_page_forbids_inline_scripts_and_framing_by_other_sites(dashboard):
    answer = dashboard.client("viewer").get("/")
    policy = answer.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'self'" in policy
    assert answer.headers["cache-control"] == "no-store"


def test_the_dashboards_static_files_are_served(dashboard):
    assert "countdown" in dashboard.client().get("/static/dashboard.js").text
    assert dashboard.client().get("/static/dashboard.css").status_code == 200


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"agreement": "platinum", "month": "2026-02"}, "no agreement"),
        ({"agreement": "gold", "month": "2026-13"}, "is not a month"),
    ],
)
def test_a_wrong_monthly_report_choice_is_refused_by_name(dashboard, query, message):
    answer = dashboard.client("viewer").get("/reports/monthly", params=query)
    assert answer.status_code == 422
    assert message in answer.text


def test_the_monthly_report_document_is_the_services_report_linking_to_ticket_pages(dashboard):
    month = dashboard.clock.now.strftime("%Y-%m")
    query = {"agreement": "gold", "month": month}
    answer = dashboard.client("viewer").get("/reports/monthly/document", params=query)
    assert answer.status_code == 200
    ctx = dashboard.ctx
    expected = render_monthly_html(
        ctx.db, ctx.configs, "gold", month, ctx.now(), ticket_url=f"{dashboard.url}/tickets/{{id}}"
    )
    assert answer.text == expected
    page = dashboard.client("viewer").get("/reports/monthly", params=query).text
    assert 'src="/reports/monthly/document?agreement=gold&amp;month=' in page


def test_the_monthly_report_document_refuses_a_wrong_month(dashboard):
    query = {"agreement": "gold", "month": "March"}
    answer = dashboard.client("viewer").get("/reports/monthly/document", params=query)
    assert answer.status_code == 422
    assert "is not a month" in answer.text
