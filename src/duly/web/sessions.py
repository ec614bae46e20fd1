"""Dashboard sessions: the API token kept in a cookie, the role it carries, and form tokens.

The browser holds the token a person pasted at ``/signin`` in an HttpOnly, SameSite=Strict
cookie, so page scripts cannot read it and other sites cannot send it. Every page checks it
against the store, so a revoked token stops working at the next page. Forms that change
something carry a CSRF token derived from the cookie (an HMAC keyed by it): a page on another
site can neither read the cookie nor compute the token.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Annotated, Final
from urllib.parse import parse_qs, quote

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from duly.service.context import Context
from duly.service.tokens import Identity, authenticate, may

__all__ = [
    "COOKIE",
    "Ctx",
    "Session",
    "SignInRequiredError",
    "SignedIn",
    "csrf_token",
    "form_of",
    "safe_next",
]

COOKIE: Final = "duly_session"
_CSRF_MESSAGE: Final = b"duly dashboard form"
#: Dashboard forms are a few fields; anything larger is not one of ours.
_FORM_LIMIT: Final = 16_384


class SignInRequiredError(Exception):
    """No valid session: the dashboard answers with a redirect to ``/signin``."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def csrf_token(token: str) -> str:
    return hmac.new(token.encode("utf-8"), _CSRF_MESSAGE, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Session:
    """Who is signed in, and the form token their pages embed."""

    identity: Identity
    csrf: str

    @property
    def is_admin(self) -> bool:
        """Only admins see controls that change something (retrying alerts)."""
        return may(self.identity, "admin")

    def accepts(self, form: dict[str, str]) -> bool:
        return hmac.compare_digest(form.get("csrf", ""), self.csrf)


def safe_next(path: str | None) -> str:
    """Where to go after signing in: a path on this site only, never another host."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path


def _here(request: Request) -> str:
    query = f"?{request.url.query}" if request.url.query else ""
    return quote(request.url.path + query, safe="/?=&-_.~")


def _context(request: Request) -> Context:
    context: Context = request.app.state.context
    return context


async def _session(request: Request) -> Session:
    token = request.cookies.get(COOKIE)
    identity: Identity | None = None
    if token:
        identity = await run_in_threadpool(authenticate, _context(request).db, token)
    if token is None or identity is None:
        raise SignInRequiredError(_here(request) if request.method == "GET" else "/")
    return Session(identity, csrf_token(token))


async def form_of(request: Request) -> dict[str, str]:
    """A URL-encoded form body (the only kind dashboard forms send), first value per field."""
    body = await request.body()
    if len(body) > _FORM_LIMIT:
        return {}
    fields = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items()}


Ctx = Annotated[Context, Depends(_context)]
SignedIn = Annotated[Session, Depends(_session)]
