"""Bearer tokens and roles: a viewer reads, an agent also posts events, an admin changes things.

Routes declare the role they need by the type of one parameter (``Viewer``, ``Agent``, ``Admin``),
so the role is visible in the route's signature and in the OpenAPI document.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Final

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from duly.api.errors import ApiError
from duly.service.context import Context
from duly.service.tokens import Identity, authenticate, may

__all__ = ["Admin", "Agent", "Viewer"]

_BEARER: Final = HTTPBearer(auto_error=False, description="A token made by `duly token create`.")
_CHALLENGE: Final = {"WWW-Authenticate": "Bearer"}


def _requires(role: str) -> Callable[..., Identity]:
    def check(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)],
    ) -> Identity:
        if credentials is None:
            raise ApiError(
                401,
                "authorization: send 'Authorization: Bearer TOKEN'",
                "authorization",
                _CHALLENGE,
            )
        context: Context = request.app.state.context
        identity = authenticate(context.db, credentials.credentials)
        if identity is None:
            raise ApiError(401, "authorization: unknown token", "authorization", _CHALLENGE)
        if not may(identity, role):
            raise ApiError(
                403,
                f"authorization: this needs the {role} role; the token has {identity.role}",
                "authorization",
            )
        return identity

    return check


Viewer = Annotated[Identity, Depends(_requires("viewer"))]
Agent = Annotated[Identity, Depends(_requires("agent"))]
Admin = Annotated[Identity, Depends(_requires("admin"))]
