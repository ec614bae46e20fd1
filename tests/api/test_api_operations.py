"""/healthz, /metrics, the OpenAPI pages and errors for routes that do not exist."""

import httpx
from prometheus_client.parser import text_string_to_metric_families

from api.api_server import serving
from duly.api.app import create_app
from duly.service.context import Context
from duly.store.database import Database

EVENT = {
    "id": "M-1-1",
    "ticket": "M-1",
    "at": "2026-03-16T09:00:00Z",
    "type": "ticket.created",
    "actor": "customer",
    "fields": {"priority": "high", "status": "open"},
}


def samples(client):
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    found = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_healthz_needs_no_token_and_says_the_database_answers(server):
    answer = server.client().get("/healthz")
    assert answer.status_code == 200
    assert answer.json() == {
        "status": "ok",
        "database": "ok",
        "config_version": 0,
        "derive_backlog": 0,
    }


def test_healthz_is_503_when_the_database_does_not_answer(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'missing' / 'duly.db'}")
    with serving(create_app(Context(db))) as url:
        answer = httpx.get(f"{url}/healthz")
    db.dispose()
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "unavailable"
    assert answer.json()["error"]["field"] == "database"


def test_metrics_count_ingested_events_new_and_repeated(server):
    anonymous = server.client()
    before = samples(anonymous)
    new = ("duly_events_ingested_total", (("outcome", "new"),))
    repeated = ("duly_events_ingested_total", (("outcome", "duplicate"),))
    assert before[new] == 0
    agent = server.client("agent")
    agent.post("/api/v1/events", json=EVENT)
    agent.post("/api/v1/events", json=EVENT)
    after = samples(anonymous)
    assert after[new] == 1
    assert after[repeated] == 1
    timed = (
        "duly_request_duration_seconds_count",
        (("method", "POST"), ("route", "/api/v1/events")),
    )
    assert after[timed] == 2


def test_metrics_report_clocks_and_deliveries_by_state_from_the_store(loaded):
    # The report derives what is queued before it answers; the scrape reads what is stored.
    log = loaded.client("viewer").get("/api/v1/reports/log").json()["rows"]
    found = samples(loaded.client())
    clocks = {labels[0][1]: v for (name, labels), v in found.items() if name == "duly_clocks"}
    assert sum(clocks.values()) == len(log)
    assert clocks["met"] == sum(r["state"] == "met" for r in log)
    deliveries = {
        labels[0][1]: v for (name, labels), v in found.items() if name == "duly_alert_deliveries"
    }
    assert deliveries == {"pending": 0, "delivered": 0, "dead": 0}


def test_request_latency_is_labelled_by_route_template_not_by_path(loaded):
    viewer = loaded.client("viewer")
    viewer.get("/api/v1/tickets/T-1001")
    viewer.get("/api/v1/tickets/T-1002")
    viewer.get("/no/such/page")
    found = samples(loaded.client())
    template = ("method", "GET"), ("route", "/api/v1/tickets/{ticket}")
    assert found[("duly_request_duration_seconds_count", template)] == 2
    unmatched = ("method", "GET"), ("route", "unmatched")
    assert found[("duly_request_duration_seconds_count", unmatched)] == 1


def test_an_unknown_route_or_method_answers_in_the_error_shape(server):
    client = server.client("viewer")
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    wrong = client.delete("/api/v1/clocks")
    assert wrong.status_code == 405
    assert wrong.json()["error"]["code"] == "method_not_allowed"


def test_the_openapi_document_and_its_pages_are_served(server):
    client = server.client()
    document = client.get("/openapi.json").json()
    assert "/api/v1/clocks" in document["paths"]
    assert "HTTPBearer" in document["components"]["securitySchemes"]
    assert "swagger" in client.get("/docs").text.lower()
