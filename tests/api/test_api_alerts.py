"""GET /alerts and POST /alerts/{alert_id}/retry; the alert channels the server keeps."""

import pytest

from api.api_server import NOW
from duly.service.clock_rows import to_us
from duly.store import alerts as outbox

ALERTS = "/api/v1/alerts"


#: An urgent gold ticket nobody answered: its first reply warns, breaches and escalates by NOW.
UNANSWERED = {
    "id": "G-1-1",
    "ticket": "G-1",
    "at": "2026-03-16T10:30:00Z",
    "type": "ticket.created",
    "actor": "customer",
    "fields": {"priority": "urgent", "status": "New", "custom": {"tier": "gold"}},
}


@pytest.fixture
def fired(loaded):
    """Due crossings fired as alerts (as the monitor would), the first delivery dead-lettered.

    The event is posted with ``wait``, so its crossings are stored when the answer comes.
    """
    answer = loaded.client("agent").post("/api/v1/events?wait=true", json=UNANSWERED)
    assert answer.json()["new"] == 1
    with loaded.ctx.db.write() as connection:
        ids = outbox.fire_due_crossings(connection, to_us(NOW), limit=10_000)
        claimed = outbox.claim_deliveries(connection, "test", to_us(NOW), 60_000_000, limit=1)
        outbox.record_attempt(
            connection,
            claimed[0].delivery_id,
            "test",
            now_us=to_us(NOW),
            delivered=False,
            error="HTTP 500",
        )
    assert len(ids) > 3
    loaded.dead_alert = claimed[0].alert.id
    return loaded


def all_alerts(client, query=""):
    answer = client.get(f"{ALERTS}?limit=1000{query}")
    assert answer.status_code == 200, answer.text
    return answer.json()["alerts"]


def deliveries(client, alert_id):
    alert = next(a for a in all_alerts(client) if a["id"] == alert_id)
    return [d["state"] for d in alert["deliveries"]]


def test_alerts_are_listed_newest_first_with_their_deliveries(fired):
    alerts = all_alerts(fired.client("viewer"))
    ids = [a["id"] for a in alerts]
    assert ids == sorted(ids, reverse=True)
    assert {a["kind"] for a in alerts} <= {"warning", "breach", "escalation"}
    assert any(a["deliveries"] for a in alerts)
    assert all(a["fired_at"] == "2026-03-16T12:00:00Z" for a in alerts)


def test_alert_pages_return_every_alert_exactly_once(fired):
    viewer = fired.client("viewer")
    expected = [a["id"] for a in all_alerts(viewer)]
    seen: list[int] = []
    cursor = None
    while True:
        page = viewer.get(ALERTS, params={"limit": 2} | ({"cursor": cursor} if cursor else {}))
        seen.extend(a["id"] for a in page.json()["alerts"])
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == expected


def test_alert_filters_narrow_the_list(fired):
    viewer = fired.client("viewer")
    everything = all_alerts(viewer)
    breaches = all_alerts(viewer, "&kind=breach")
    assert breaches
    assert breaches == [a for a in everything if a["kind"] == "breach"]
    ticket = everything[-1]["ticket"]
    assert all_alerts(viewer, f"&ticket={ticket}") == [
        a for a in everything if a["ticket"] == ticket
    ]
    dead = all_alerts(viewer, "&delivery=dead")
    assert [a["id"] for a in dead] == [fired.dead_alert]


def test_an_admin_retries_an_alerts_dead_deliveries(fired):
    viewer = fired.client("viewer")
    assert "dead" in deliveries(viewer, fired.dead_alert)
    answer = fired.client("admin").post(f"{ALERTS}/{fired.dead_alert}/retry")
    assert answer.status_code == 200
    assert answer.json() == {"requeued": 1}
    assert all_alerts(viewer, "&delivery=dead") == []
    assert "dead" not in deliveries(viewer, fired.dead_alert)
    again = fired.client("admin").post(f"{ALERTS}/{fired.dead_alert}/retry")
    assert again.json() == {"requeued": 0}


def test_a_viewer_or_an_agent_cannot_retry_an_alert(fired):
    for role in ("viewer", "agent"):
        answer = fired.client(role).post(f"{ALERTS}/{fired.dead_alert}/retry")
        assert answer.status_code == 403
    assert "dead" in deliveries(fired.client("viewer"), fired.dead_alert)


def test_retrying_an_unknown_alert_is_404_and_a_non_number_is_422(server):
    admin = server.client("admin")
    missing = admin.post(f"{ALERTS}/999/retry")
    assert missing.status_code == 404
    assert missing.json()["error"]["field"] == "id"
    wrong = admin.post(f"{ALERTS}/first/retry")
    assert wrong.status_code == 422
    assert wrong.json()["error"]["field"] == "alert_id"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("kind=alarm", "kind"),
        ("delivery=lost", "delivery"),
        ("limit=0", "limit"),
        ("cursor=abc", "cursor"),
    ],
)
def test_bad_alert_parameters_are_refused_naming_the_field(server, query, field):
    answer = server.client("viewer").get(f"{ALERTS}?{query}")
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == field


CHANNELS = "/api/v1/channels"
WEBHOOK = {"kind": "webhook", "url": "https://hooks.example.com/duly"}


def test_an_admin_creates_reads_lists_and_deletes_a_channel(server):
    admin, viewer = server.client("admin"), server.client("viewer")
    created = admin.put(f"{CHANNELS}/ops", json=WEBHOOK)
    assert created.status_code == 200
    secret = created.json()["secret"]
    assert secret.startswith("whsec_")
    shown = viewer.get(f"{CHANNELS}/ops").json()
    assert shown["name"] == "ops"
    assert shown["url"] == WEBHOOK["url"]
    assert shown["kind"] == "webhook"
    assert secret not in str(shown)
    admin.put(f"{CHANNELS}/audit", json={"kind": "log"})
    listed = viewer.get(CHANNELS).json()["channels"]
    assert [c["name"] for c in listed] == ["audit", "ops"]
    deleted = admin.delete(f"{CHANNELS}/ops")
    assert deleted.status_code == 204
    assert viewer.get(f"{CHANNELS}/ops").status_code == 404
    assert admin.delete(f"{CHANNELS}/ops").status_code == 404


def test_putting_a_channel_again_replaces_it(server):
    admin = server.client("admin")
    admin.put(f"{CHANNELS}/ops", json=WEBHOOK)
    admin.put(f"{CHANNELS}/ops", json={"kind": "log"})
    assert server.client("viewer").get(f"{CHANNELS}/ops").json()["kind"] == "log"


@pytest.mark.parametrize(
    ("name", "body", "field"),
    [
        ("ops", {"kind": "webhook", "url": "ftp://example.com"}, "url"),
        ("ops", {"kind": "sms"}, "kind"),
        ("ops", {"kind": "log", "colour": "red"}, "colour"),
        ("ops", ["log"], "channel"),
        ("-bad-", {"kind": "log"}, "name"),
    ],
)
def test_a_bad_channel_is_refused_naming_the_field_and_nothing_is_stored(server, name, body, field):
    answer = server.client("admin").put(f"{CHANNELS}/{name}", json=body)
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == field
    assert server.client("viewer").get(CHANNELS).json() == {"channels": []}


def test_a_channel_body_that_is_not_json_is_refused(server):
    admin = server.client("admin")
    malformed = admin.put(
        f"{CHANNELS}/ops", content=b"{kind: log}", headers={"Content-Type": "application/json"}
    )
    assert malformed.status_code == 400
    as_text = admin.put(
        f"{CHANNELS}/ops", content=b"kind=log", headers={"Content-Type": "text/plain"}
    )
    assert as_text.status_code == 415
    assert server.client("viewer").get(CHANNELS).json() == {"channels": []}


def test_only_an_admin_changes_or_deletes_channels(server):
    server.client("admin").put(f"{CHANNELS}/ops", json={"kind": "log"})
    for role in ("viewer", "agent"):
        client = server.client(role)
        assert client.put(f"{CHANNELS}/ops", json=WEBHOOK).status_code == 403
        assert client.delete(f"{CHANNELS}/ops").status_code == 403
    assert server.client("viewer").get(f"{CHANNELS}/ops").json()["kind"] == "log"
