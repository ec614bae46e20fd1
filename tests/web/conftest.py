"""One demo dashboard server for the web tests, and Chromium driven by Playwright."""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from api.api_server import SetClock, serving
from duly.bootstrap import build_app
from duly.service.configs import ConfigCache
from duly.service.context import Context
from duly.service.demo import seed_demo
from duly.store.database import Database
from web.dashboard_server import (
    ARTIFACTS,
    CHROMIUM_ARGS,
    OVERDUE_TICKET,
    Dashboard,
    add_fresh_ticket,
    chromium,
    fire_alerts,
    make_tokens,
)


@pytest.fixture(scope="session")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    """``duly serve --demo``'s data behind the real app, the clock held at the seeding instant."""
    db = Database(f"sqlite:///{tmp_path_factory.mktemp('web') / 'duly.db'}")
    db.upgrade()
    clock = SetClock(datetime.now(UTC).replace(microsecond=0))
    ctx = Context(db, ConfigCache(), clock)
    admin = seed_demo(ctx)
    add_fresh_ticket(ctx)
    add_fresh_ticket(ctx, OVERDUE_TICKET, timedelta(hours=5))
    fire_alerts(ctx)
    tokens = make_tokens(ctx, admin, clock.now)
    try:
        with serving(build_app(ctx)) as url:
            running = Dashboard(url, ctx, clock, tokens)
            yield running
            for client in running.clients:
                client.close()
    finally:
        db.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = chromium()
    if executable is None:
        pytest.fail("Chromium is needed for the dashboard tests: apt-get install -y chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


class Session:
    """A browser tab signed in (or not), recording console errors and page crashes."""

    def __init__(self, context: BrowserContext, base_url: str) -> None:
        self.context = context
        self.base_url = base_url
        self.errors: list[str] = []
        self.page: Page = context.new_page()
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def open(self, path: str) -> Page:
        self.page.goto(self.base_url + path)
        self.page.wait_for_load_state("load")
        return self.page

    def screenshot(self, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}.png"), full_page=True)


@pytest.fixture
def tab(browser: Browser, dashboard: Dashboard) -> Iterator[Callable[[str | None], Session]]:
    """``tab(role)`` opens a tab signed in as ``role`` (``None``: signed out)."""
    contexts: list[BrowserContext] = []

    def open_tab(role: str | None = None) -> Session:
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        contexts.append(context)
        if role is not None:
            context.add_cookies(
                [{"name": "duly_session", "value": dashboard.tokens[role], "url": dashboard.url}]
            )
        return Session(context, dashboard.url)

    yield open_tab
    for context in contexts:
        context.close()
