"""POST /events: one event or a batch, all or nothing, a repeated id changes nothing.

Every test runs twice: through the event intake that serves the route, and through the
FastAPI route that documents it. Both must give the same answers.
"""

import json

import httpx
import pytest

from api.api_server import example_events, serving
from duly.api import event_intake as event_intake_module
from duly.api.app import create_app
from duly.store import clocks as stored
from duly.store.events import count_events

CREATED = {
    "id": "X-1-1",
    "ticket": "X-1",
    "at": "2026-03-16T09:00:00Z",
    "type": "ticket.created",
    "actor": "customer",
    "fields": {"priority": "high", "status": "open"},
}


@pytest.fixture(params=["intake", "fastapi"])
def event_intake(request: pytest.FixtureRequest) -> bool:
    return bool(request.param == "intake")


def ticket_status(server, name):
    return server.client("viewer").get(f"/api/v1/tickets/{name}").status_code


def test_an_agent_posts_one_event_and_its_ticket_appears(server):
    answer = server.client("agent").post("/api/v1/events", json=CREATED)
    assert answer.status_code == 200
    assert answer.json() == {"new": 1, "duplicates": 0}
    ticket = server.client("viewer").get("/api/v1/tickets/X-1").json()
    assert ticket["events"] == 1
    assert ticket["priority"] == "high"
    assert ticket["status"] == "open"


def test_posting_the_same_events_again_counts_duplicates_and_changes_nothing(loaded):
    viewer = loaded.client("viewer")
    clocks = viewer.get("/api/v1/clocks?limit=1000").json()
    ticket = viewer.get("/api/v1/tickets/T-1001").json()
    events = example_events()
    answer = loaded.client("agent").post("/api/v1/events", json=events)
    assert answer.status_code == 200
    assert answer.json() == {"new": 0, "duplicates": len(events)}
    assert viewer.get("/api/v1/clocks?limit=1000").json() == clocks
    assert viewer.get("/api/v1/tickets/T-1001").json() == ticket


def test_a_batch_with_one_bad_event_is_refused_whole_naming_its_index_and_field(server):
    bad = {**CREATED, "id": "X-2-1", "ticket": "X-2", "at": "yesterday"}
    answer = server.client("agent").post("/api/v1/events", json=[CREATED, bad])
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "invalid"
    assert error["field"] == "[1].at"
    assert error["message"].startswith("event[1]: at:")
    assert ticket_status(server, "X-1") == 404
    assert ticket_status(server, "X-2") == 404


def test_an_unknown_event_type_is_refused_naming_the_type(server):
    answer = server.client("agent").post("/api/v1/events", json={**CREATED, "type": "x"})
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == "type"
    assert ticket_status(server, "X-1") == 404


def test_a_json_value_that_is_not_an_event_is_refused(server):
    answer = server.client("agent").post("/api/v1/events", json=42)
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == "event"


def test_a_viewer_cannot_post_events(server):
    answer = server.client("viewer").post("/api/v1/events", json=CREATED)
    assert answer.status_code == 403
    assert answer.json()["error"] == {
        "code": "forbidden",
        "message": "authorization: this needs the agent role; the token has viewer",
        "field": "authorization",
    }
    assert ticket_status(server, "X-1") == 404


def test_an_admin_may_post_events_too(server):
    assert server.client("admin").post("/api/v1/events", json=CREATED).json()["new"] == 1


def test_posting_events_without_a_token_is_401(server):
    answer = server.client().post("/api/v1/events", json=CREATED)
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == "Bearer"
    assert ticket_status(server, "X-1") == 404


def test_malformed_json_is_a_400_naming_the_body(server):
    answer = server.client("agent").post(
        "/api/v1/events",
        content=b'{"id": "X-1-1", "ticket": ',
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "malformed"
    assert error["field"] == "body"
    assert "line 1 column 27" in error["message"]


def test_events_sent_as_form_data_are_an_unsupported_media_type(server):
    answer = server.client("agent").post("/api/v1/events", data={"id": "X-1-1"})
    assert answer.status_code == 415
    assert answer.json()["error"]["code"] == "unsupported_media_type"
    assert ticket_status(server, "X-1") == 404


def test_more_events_than_one_request_may_carry_is_413_and_nothing_is_stored(server):
    events = [{**CREATED, "id": f"X-1-{i}"} for i in range(10_001)]
    answer = server.client("agent").post("/api/v1/events", json=events)
    assert answer.status_code == 413
    error = answer.json()["error"]
    assert error == {
        "code": "too_large",
        "message": "events: at most 10000 events per request, not 10001",
        "field": "events",
    }
    assert ticket_status(server, "X-1") == 404


def test_a_batch_of_exactly_the_limit_is_taken(server):
    events = [{**CREATED, "id": f"X-1-{i}"} for i in range(10_000)]
    answer = server.client("agent").post("/api/v1/events", json=events)
    assert answer.json() == {"new": 10_000, "duplicates": 0}


def test_a_full_batch_half_stored_already_stores_the_other_half_only(server):
    # Large batches take PostgreSQL's look-up-and-copy way in, small ones a single INSERT.
    events = [{**CREATED, "id": f"X-1-{i}"} for i in range(15_000)]
    client = server.client("agent")
    assert client.post("/api/v1/events", json=events[:10_000]).json()["new"] == 10_000
    answer = client.post("/api/v1/events", json=events[5_000:])
    assert answer.json() == {"new": 5_000, "duplicates": 5_000}
    with server.ctx.db.read() as connection:
        assert count_events(connection) == 15_000


def queued(server) -> int:
    return server.client().get("/healthz").json()["derive_backlog"]


#: An urgent gold ticket under the example config: a first-reply and a resolution clock.
GOLD = {
    "id": "G-9-1",
    "ticket": "G-9",
    "at": "2026-03-16T10:30:00Z",
    "type": "ticket.created",
    "actor": "customer",
    "fields": {"priority": "urgent", "status": "New", "custom": {"tier": "gold"}},
}


def test_an_event_is_queued_for_deriving_and_a_read_derives_it_first(loaded):
    answer = loaded.client("agent").post("/api/v1/events", json=GOLD)
    assert answer.json() == {"new": 1, "duplicates": 0}
    # This test server runs no deriver thread: the ticket waits in the queue...
    assert queued(loaded) == 1
    with loaded.ctx.db.read() as connection:
        assert stored.ticket(connection, "G-9") is None
    # ...and the read derives it before answering.
    clocks = loaded.client("viewer").get("/api/v1/clocks?ticket=G-9").json()["clocks"]
    assert {c["metric"] for c in clocks} == {"first_reply", "resolution"}
    assert queued(loaded) == 0


def test_wait_answers_once_the_clocks_are_stored(loaded):
    answer = loaded.client("agent").post("/api/v1/events?wait=true", json=GOLD)
    assert answer.json() == {"new": 1, "duplicates": 0}
    assert queued(loaded) == 0
    with loaded.ctx.db.read() as connection:
        metrics = {c.metric for c in stored.clocks_of(connection, "G-9")}
    assert metrics == {"first_reply", "resolution"}


def test_wait_must_be_a_boolean(loaded):
    answer = loaded.client("agent").post("/api/v1/events?wait=soon", json=GOLD)
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == "wait"
    assert queued(loaded) == 0
    assert ticket_status(loaded, "G-9") == 404


def test_wait_accepts_what_fastapi_reads_as_a_boolean(loaded):
    answer = loaded.client("agent").post("/api/v1/events?wait=YES", json=GOLD)
    assert answer.json() == {"new": 1, "duplicates": 0}
    assert queued(loaded) == 0


REFUSALS = [
    # (role, query, body, content type): what a client can get wrong, one thing at a time.
    (None, "", json.dumps(CREATED).encode(), "application/json"),
    ("nobody", "", json.dumps(CREATED).encode(), "application/json"),
    ("viewer", "", json.dumps(CREATED).encode(), "application/json"),
    ("agent", "", b'{"id": "X-1-1", "ticket": ', "application/json"),
    ("agent", "", b"\xff\xfe", "application/json"),
    ("agent", "", b"id=X-1-1", "application/x-www-form-urlencoded"),
    ("agent", "", json.dumps(CREATED).encode(), ""),
    ("agent", "?wait=soon", json.dumps(CREATED).encode(), "application/json"),
    ("agent", "?wait=soon", b"{", "application/json"),
    ("agent", "", json.dumps([CREATED] * 10_001).encode(), "application/json"),
    ("agent", "", json.dumps({**CREATED, "at": "yesterday"}).encode(), "application/json"),
    (
        "agent",
        "",
        json.dumps([CREATED, {**CREATED, "actor": "robot"}]).encode(),
        "application/json",
    ),
    ("agent", "", b"[]", "application/json"),
]


def test_the_intake_and_the_fastapi_route_refuse_alike(server, event_intake):
    """The same requests against the served app and one without the intake, on one database."""
    if not event_intake:
        pytest.skip("compares both paths itself; run once, from the intake's side")
    plain = create_app(server.ctx, event_intake=False)
    with serving(plain) as other:
        for role, query, body, content_type in REFUSALS:
            headers = {"Content-Type": content_type} if content_type else {}
            if role == "nobody":
                headers["Authorization"] = "Bearer not-a-token"
            elif role is not None:
                headers["Authorization"] = f"Bearer {server.tokens[role]}"
            answers = [
                httpx.post(f"{url}/api/v1/events{query}", content=body, headers=headers)
                for url in (server.url, other)
            ]
            first, second = answers
            case = (role, query, body[:40], content_type)
            assert first.status_code == second.status_code, case
            assert first.json() == second.json(), case
            assert first.headers.get("www-authenticate") == second.headers.get(
                "www-authenticate"
            ), case
    assert ticket_status(server, "X-1") == 404


def test_a_body_over_the_intakes_limit_is_413_and_nothing_is_stored(
    server, event_intake, monkeypatch
):
    if not event_intake:
        pytest.skip("the limit is the intake's; FastAPI's route reads whatever it is sent")
    monkeypatch.setattr(event_intake_module, "MAX_BODY_BYTES", 1000)
    events = [{**CREATED, "id": f"X-1-{i}"} for i in range(20)]
    answer = server.client("agent").post("/api/v1/events", json=events)
    assert answer.status_code == 413
    assert answer.json()["error"] == {
        "code": "too_large",
        "message": "body: larger than 0 MiB",
        "field": "body",
    }
    assert ticket_status(server, "X-1") == 404
