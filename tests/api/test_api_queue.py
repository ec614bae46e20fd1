"""GET /clocks (the queue by due) and GET /tickets/{ticket}: order, pages, filters, as of now."""

from datetime import timedelta

CLOCKS = "/api/v1/clocks"


def all_clocks(client, query=""):
    answer = client.get(f"{CLOCKS}?limit=1000{query}")
    assert answer.status_code == 200, answer.text
    assert answer.json()["next_cursor"] is None
    return answer.json()["clocks"]


def test_the_queue_is_ordered_by_due_soonest_first(loaded):
    clocks = all_clocks(loaded.client("viewer"))
    log = loaded.client("viewer").get("/api/v1/reports/log").json()["rows"]
    assert len(clocks) == len(log) > 10
    dues = [c["due"] for c in clocks]
    assert dues == sorted(dues)


def test_cursor_pages_return_every_clock_exactly_once_in_order(loaded):
    viewer = loaded.client("viewer")
    expected = [c["id"] for c in all_clocks(viewer)]
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 4} | ({"cursor": cursor} if cursor else {})
        page = viewer.get(CLOCKS, params=params).json()
        assert len(page["clocks"]) <= 4
        seen.extend(c["id"] for c in page["clocks"])
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected
    assert pages == -(-len(expected) // 4)


def test_filters_narrow_the_queue(loaded):
    viewer = loaded.client("viewer")
    everything = all_clocks(viewer)
    gold = all_clocks(viewer, "&agreement=gold")
    assert gold
    assert gold == [c for c in everything if c["agreement"] == "gold"]
    finished = all_clocks(viewer, "&state=met,breached")
    assert finished == all_clocks(viewer, "&state=met&state=breached")
    assert {c["state"] for c in finished} == {"met", "breached"}
    running = all_clocks(viewer, "&running=true")
    assert running
    assert all(c["stop"] is None for c in running)
    assert len(running) < len(everything)
    narrow = all_clocks(viewer, "&agreement=gold&metric=first_reply&priority=urgent")
    assert narrow
    assert all(
        (c["agreement"], c["metric"], c["priority"]) == ("gold", "first_reply", "urgent")
        for c in narrow
    )
    ticket = all_clocks(viewer, "&ticket=T-1001")
    assert {c["ticket"] for c in ticket} == {"T-1001"}
    group = everything[0]["group"]
    assert all(c["group"] == group for c in all_clocks(viewer, f"&group={group}"))
    assert all_clocks(viewer, "&assignee=nobody-at-all") == []
    policy = all_clocks(viewer, "&policy=urgent")
    assert policy
    assert {c["policy"] for c in policy} == {"urgent"}


def test_the_queue_orders_only_by_due(loaded):
    answer = loaded.client("viewer").get(f"{CLOCKS}?order=priority")
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "invalid"
    assert error["field"] == "order"
    assert error["message"].startswith("order: ")
    assert loaded.client("viewer").get(f"{CLOCKS}?order=due").status_code == 200


def test_bad_queue_parameters_are_refused_naming_the_field(loaded):
    viewer = loaded.client("viewer")
    for query, field in (
        ("state=actve", "state"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=ten", "limit"),
        ("cursor=not-a-cursor", "cursor"),
        ("running=perhaps", "running"),
    ):
        answer = viewer.get(f"{CLOCKS}?{query}")
        assert answer.status_code == 422, query
        assert answer.json()["error"]["field"] == field, query


def test_a_ticket_shows_its_clocks_as_of_the_servers_now(loaded):
    viewer = loaded.client("viewer")
    clock = all_clocks(viewer, "&state=active&running=true")[0]
    ticket = viewer.get(f"/api/v1/tickets/{clock['ticket']}").json()
    before = next(c for c in ticket["clocks"] if c["id"] == clock["id"])
    assert before["state"] == "active"
    loaded.clock.now += timedelta(days=60)
    ticket = viewer.get(f"/api/v1/tickets/{clock['ticket']}").json()
    after = next(c for c in ticket["clocks"] if c["id"] == clock["id"])
    assert after["state"] == "breached"
    assert after["breached_at"] == before["due"]
    assert after["calendar_elapsed_s"] == before["calendar_elapsed_s"] + 60 * 86_400


def test_an_unknown_ticket_is_404_naming_it(loaded):
    answer = loaded.client("viewer").get("/api/v1/tickets/T-404")
    assert answer.status_code == 404
    assert answer.json()["error"] == {
        "code": "not_found",
        "message": "ticket: no ticket 'T-404'",
        "field": "ticket",
    }
