"""Bearer tokens and roles: a viewer reads, an agent also posts events, an admin changes things.

Routes declare the role they need by the type of one parameter (``Viewer``, ``Agent``, ``Admin``),
so the role is visible in the route's signature and in the OpenAPI document.

A token found in the store is remembered for ``TOKEN_CACHE_S`` seconds, so that a client posting
events one by one does not cost a database read per request: a revoked token therefore keeps
working for at most that long in each API process. Unknown tokens are never remembered (a new
token works at once, and guesses cannot fill the cache).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Final

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from duly.api.errors import ApiError
from duly.service.context import Context
from duly.service.tokens import Identity, authenticate, may
from duly.store.database import PerDatabase

__all__ = ["TOKEN_CACHE_S", "Admin", "Agent", "Viewer", "authorize", "bearer_token"]

#: How long a token found in the store is trusted without asking again (and so how long a
#: revoked token may still work).
TOKEN_CACHE_S: Final = 5.0
_CACHE_SIZE: Final = 1024

_BEARER: Final = HTTPBearer(auto_error=False, description="A token made by `duly token create`.")
_CHALLENGE: Final = {"WWW-Authenticate": "Bearer"}


class _Tokens:
    """Tokens recently found in one database, with the monotonic time each stops being trusted."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: dict[str, tuple[Identity, float]] = {}

    def get(self, token: str) -> Identity | None:
        with self._lock:
            found = self._known.get(token)
        if found is None or found[1] <= time.monotonic():
            return None
        return found[0]

    def put(self, token: str, identity: Identity) -> None:
        with self._lock:
            if len(self._known) >= _CACHE_SIZE:
                self._known.clear()
            self._known[token] = (identity, time.monotonic() + TOKEN_CACHE_S)


_tokens: Final = PerDatabase(lambda _db: _Tokens())


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer TOKEN`` header (None for any other header)."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


async def authorize(context: Context, token: str | None, role: str) -> Identity:
    """Who ``token`` is, if that may act as ``role``; 401 or 403 otherwise.

    Async, so a remembered token is checked on the event loop without a trip to a worker
    thread; only a store lookup goes to one.
    """
    if token is None:
        raise ApiError(
            401,
            "authorization: send 'Authorization: Bearer TOKEN'",
            "authorization",
            _CHALLENGE,
        )
    cache = _tokens(context.db)
    identity = cache.get(token)
    if identity is None:
        identity = await run_in_threadpool(authenticate, context.db, token)
        if identity is not None:
            cache.put(token, identity)
    if identity is None:
        raise ApiError(401, "authorization: unknown token", "authorization", _CHALLENGE)
    if not may(identity, role):
        raise ApiError(
            403,
            f"authorization: this needs the {role} role; the token has {identity.role}",
            "authorization",
        )
    return identity


def _requires(role: str) -> Callable[..., Awaitable[Identity]]:
    async def check(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)],
    ) -> Identity:
        token = None if credentials is None else credentials.credentials
        return await authorize(request.app.state.context, token, role)

    return check


Viewer = Annotated[Identity, Depends(_requires("viewer"))]
Agent = Annotated[Identity, Depends(_requires("agent"))]
Admin = Annotated[Identity, Depends(_requires("admin"))]
