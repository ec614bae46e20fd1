"""GET /agreements, /agreements/{agreement_id} and /calendars: the config in force, as data."""

from api.api_server import EXAMPLE_CONFIG, NOW
from duly.config import load_config


def test_agreements_list_every_agreement_of_the_config_with_policies_and_targets(loaded):
    config = load_config(EXAMPLE_CONFIG)
    answer = loaded.client("viewer").get("/api/v1/agreements")
    assert answer.status_code == 200
    agreements = answer.json()["agreements"]
    assert [a["id"] for a in agreements] == [a.id for a in config.agreements]
    gold = next(a for a in agreements if a["id"] == "gold")
    model = next(a for a in config.agreements if a.id == "gold")
    assert gold["kind"] == model.kind
    assert gold["level"] == model.level
    assert gold["owner"] == model.owner
    assert model.effective_from is not None
    assert gold["effective_from"] == model.effective_from.isoformat()
    assert gold["scope"] == "custom field tier is gold"
    assert [p["id"] for p in gold["policies"]] == [p.id for p in model.policies]
    urgent = gold["policies"][0]
    assert urgent["when"] == "priority is urgent"
    first_reply = next(t for t in urgent["targets"] if t["metric"] == "first_reply")
    assert first_reply["within_s"] == {"*": 1800.0}
    assert first_reply["calendar"] == "24x7"
    assert gold["config_version"] == 1


def test_one_agreement_by_id_and_an_unknown_one_is_404(loaded):
    viewer = loaded.client("viewer")
    listed = viewer.get("/api/v1/agreements").json()["agreements"]
    assert viewer.get("/api/v1/agreements/gold").json() == listed[0]
    missing = viewer.get("/api/v1/agreements/platinum")
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "agreement: no agreement 'platinum'"


def test_calendars_summarise_hours_and_list_this_years_holidays(loaded):
    config = load_config(EXAMPLE_CONFIG)
    calendars = loaded.client("viewer").get("/api/v1/calendars").json()["calendars"]
    by_name = {c["name"]: c for c in calendars}
    assert set(by_name) == {*config.calendars, "24x7"}
    stockholm = by_name["stockholm"]
    assert stockholm["timezone"] == "Europe/Stockholm"
    assert "mon-fri 08:00-17:00" in stockholm["summary"]
    assert stockholm["week"]["sat"] == []
    expected = sorted(d.isoformat() for d in config.calendars["stockholm"].holidays)
    assert stockholm["holidays"] == [d for d in expected if d.startswith(str(NOW.year))]
    assert stockholm["holidays"]
    assert by_name["24x7"]["summary"] == "UTC: always open"


def test_before_any_config_there_are_no_agreements_and_only_24x7(server):
    viewer = server.client("viewer")
    assert viewer.get("/api/v1/agreements").json() == {"agreements": []}
    assert [c["name"] for c in viewer.get("/api/v1/calendars").json()["calendars"]] == ["24x7"]


def test_the_catalogue_needs_a_token(server):
    for path in ("/api/v1/agreements", "/api/v1/agreements/gold", "/api/v1/calendars"):
        assert server.client().get(path).status_code == 401
