"""docs/api.md cannot fall behind the app: every route is listed with its method."""

import re
from pathlib import Path

from duly.api.app import create_app
from duly.service.context import Context
from duly.store.database import Database

DOCS = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text(encoding="utf-8")


def routes():
    app = create_app(Context(Database("sqlite://")))
    found: list[tuple[str, str]] = []
    for path, operations in app.openapi()["paths"].items():
        found.extend((method.upper(), path) for method in operations)
    return found


def test_every_api_route_is_documented_with_its_method():
    found = routes()
    assert ("GET", "/api/v1/clocks") in found
    assert ("GET", "/healthz") in found
    for method, path in found:
        assert f"`{method} {path}`" in DOCS, f"{method} {path} is not in docs/api.md"


def test_the_openapi_pages_are_named_in_the_docs():
    for path in ("/docs", "/openapi.json", "/docs/oauth2-redirect"):
        assert f"`{path}`" in DOCS


def test_every_metric_the_api_exports_is_documented():
    source = (Path(__file__).resolve().parents[2] / "src/duly/api/metrics.py").read_text()
    names = set(re.findall(r'"(duly_[a-z_]+)"', source))
    assert names == {
        "duly_clocks",
        "duly_alert_deliveries",
        "duly_derive_backlog",
        "duly_events_ingested",
        "duly_request_duration_seconds",
    }
    for name in names:
        assert f"`{name}" in DOCS
