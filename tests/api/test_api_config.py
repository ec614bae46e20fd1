"""PUT/GET /config, versions and previews: every version kept, a bad one refused whole."""

from api.api_server import EXAMPLE_CONFIG, YAML

BASIC = """agreements:
  - id: basic
    policies:
      - id: all
        targets:
          first_reply: {within: 1h}
"""
STRICTER = BASIC.replace("1h", "1m")


def versions(server):
    return server.client("viewer").get("/api/v1/config/versions").json()["versions"]


def test_an_admin_sends_a_config_and_reads_it_back_with_its_version(server):
    admin = server.client("admin")
    answer = admin.put("/api/v1/config", content=BASIC, headers=YAML)
    assert answer.status_code == 200
    assert answer.json() == {"version": 1, "tickets": 0, "clocks": 0}
    assert answer.headers["Duly-Config-Version"] == "1"
    current = server.client("viewer").get("/api/v1/config")
    assert current.status_code == 200
    assert current.headers["content-type"].startswith("application/yaml")
    assert current.headers["Duly-Config-Version"] == "1"
    assert current.text == BASIC


def test_config_versions_increment_and_keep_who_sent_them(server):
    admin = server.client("admin")
    admin.put("/api/v1/config", content=BASIC, headers=YAML)
    second = admin.put("/api/v1/config", content=STRICTER, headers={"Content-Type": "text/yaml"})
    assert second.json()["version"] == 2
    listed = versions(server)
    assert [v["version"] for v in listed] == [2, 1]
    assert {v["created_by"] for v in listed} == {"alice"}
    assert listed[0]["created_at"] == "2026-03-16T12:00:00+00:00"
    first = server.client("viewer").get("/api/v1/config/versions/1")
    assert first.text == BASIC
    assert first.headers["Duly-Config-Version"] == "1"
    assert server.client("viewer").get("/api/v1/config").text == STRICTER


def test_an_invalid_config_is_rejected_whole_with_its_field_and_line(server):
    admin = server.client("admin")
    admin.put("/api/v1/config", content=BASIC, headers=YAML)
    answer = admin.put("/api/v1/config", content=BASIC.replace("1h", "soon"), headers=YAML)
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "invalid"
    assert error["field"] == "agreements[0].policies[0].targets.first_reply.within"
    assert "config.yaml:6:" in error["message"]
    assert "soon" in error["message"]
    assert [v["version"] for v in versions(server)] == [1]
    assert server.client("viewer").get("/api/v1/config").text == BASIC


def test_text_that_is_not_yaml_is_a_400_naming_the_line(server):
    answer = server.client("admin").put(
        "/api/v1/config", content="agreements:\n  - id: [unclosed\n", headers=YAML
    )
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "malformed"
    assert error["field"] == "body"
    assert "line 3" in error["message"]
    assert versions(server) == []


def test_an_empty_config_is_refused_and_nothing_is_stored(server):
    answer = server.client("admin").put("/api/v1/config", content="  \n", headers=YAML)
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == "config"
    assert versions(server) == []


def test_a_config_sent_as_json_is_an_unsupported_media_type(server):
    answer = server.client("admin").put("/api/v1/config", json={"agreements": []})
    assert answer.status_code == 415
    assert answer.json()["error"]["field"] == "content-type"
    assert versions(server) == []


def test_a_config_that_is_not_utf8_is_a_400(server):
    answer = server.client("admin").put("/api/v1/config", content=b"\xff\xfe", headers=YAML)
    assert answer.status_code == 400
    assert answer.json()["error"]["field"] == "body"


def test_reevaluate_takes_only_all(loaded):
    admin = loaded.client("admin")
    text = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    wrong = admin.put("/api/v1/config?reevaluate=some", content=text, headers=YAML)
    assert wrong.status_code == 422
    assert wrong.json()["error"]["field"] == "reevaluate"
    assert [v["version"] for v in versions(loaded)] == [1]
    right = admin.put("/api/v1/config?reevaluate=all", content=text, headers=YAML)
    assert right.status_code == 200
    tickets = {row["ticket"] for row in admin.get("/api/v1/reports/log").json()["rows"]}
    assert right.json()["version"] == 2
    assert right.json()["tickets"] >= len(tickets) > 0


def test_a_viewer_or_an_agent_cannot_change_the_config(server):
    for role in ("viewer", "agent"):
        answer = server.client(role).put("/api/v1/config", content=BASIC, headers=YAML)
        assert answer.status_code == 403
        assert answer.json()["error"]["code"] == "forbidden"
        assert "admin" in answer.json()["error"]["message"]
    assert versions(server) == []


def test_no_token_or_an_unknown_one_gets_401_with_a_bearer_challenge(server):
    for client in (server.client(), server.client(token="duly_not-a-real-token")):
        answer = client.get("/api/v1/config/versions")
        assert answer.status_code == 401
        assert answer.headers["WWW-Authenticate"] == "Bearer"
        assert answer.json()["error"]["field"] == "authorization"
    answer = server.client().put("/api/v1/config", content=BASIC, headers=YAML)
    assert answer.status_code == 401
    assert versions(server) == []


def test_reading_a_config_before_any_or_an_unknown_version_is_404(server):
    viewer = server.client("viewer")
    assert viewer.get("/api/v1/config").json()["error"]["code"] == "not_found"
    missing = viewer.get("/api/v1/config/versions/7")
    assert missing.status_code == 404
    assert missing.json()["error"]["field"] == "version"
    wrong = viewer.get("/api/v1/config/versions/seven")
    assert wrong.status_code == 422
    assert wrong.json()["error"]["field"] == "version"


def test_a_preview_shows_what_would_change_and_stores_nothing(loaded):
    viewer = loaded.client("viewer")
    before = viewer.get("/api/v1/clocks?limit=1000").json()
    answer = viewer.post("/api/v1/config/preview?by=agreement", content=BASIC, headers=YAML)
    assert answer.status_code == 200
    preview = answer.json()
    summary = {row["agreement"]: row for row in preview["summary"]}
    assert summary["basic"]["total_before"] == 0
    assert summary["basic"]["total_after"] > 0
    assert summary["gold"]["total_after"] == 0
    assert {c["after"] for c in preview["changes"] if c["agreement"] == "gold"} == {"none"}
    assert [v["version"] for v in versions(loaded)] == [1]
    assert viewer.get("/api/v1/clocks?limit=1000").json() == before


def test_a_preview_refuses_an_unknown_group_key_and_a_bad_draft(loaded):
    viewer = loaded.client("viewer")
    answer = viewer.post("/api/v1/config/preview?by=colour", content=BASIC, headers=YAML)
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == "by"
    bad = viewer.post("/api/v1/config/preview", content=BASIC.replace("1h", "x"), headers=YAML)
    assert bad.status_code == 422
    assert bad.json()["error"]["field"].endswith("first_reply.within")
