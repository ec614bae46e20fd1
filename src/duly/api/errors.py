"""Every refusal as ``{"error": {"code", "message", "field"}}`` with the status that fits it.

Clients handle one shape whatever refused them: a service rule, FastAPI's own parameter
validation, an unknown route, or the auth check.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from duly.service.errors import ConflictError, InvalidError, NotFoundError, ServiceError

__all__ = ["ApiError", "error_body", "install_error_handlers", "service_status"]

#: The status of each service refusal; an unknown code is the client's fault too.
_SERVICE_STATUS: Final = {
    InvalidError.code: 422,
    NotFoundError.code: 404,
    ConflictError.code: 409,
}
#: Stable codes for statuses Starlette raises itself (unknown route, wrong method).
_HTTP_CODES: Final = {
    400: "malformed",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
}


class ApiError(Exception):
    """A refusal decided at the edge (auth, body format, size), before any use case runs."""

    def __init__(
        self,
        status: int,
        message: str,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = _HTTP_CODES.get(status, "error")
        self.message = message
        self.field = field
        self.headers = dict(headers or {})


def error_body(code: str, message: str, field: str | None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "field": field or None}}


def _respond(
    status: int,
    code: str,
    message: str,
    field: str | None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(error_body(code, message, field), status_code=status, headers=headers)


async def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return _respond(exc.status, exc.code, exc.message, exc.field, exc.headers)


def service_status(exc: ServiceError) -> int:
    """The HTTP status of a service refusal."""
    return _SERVICE_STATUS.get(exc.code, 422)


async def _service_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    return _respond(service_status(exc), exc.code, exc.message, exc.field)


def _field_of(location: Sequence[Any]) -> str:
    """``("query", "limit")`` -> ``limit``; ``("body", "items", 0)`` -> ``items[0]``."""
    parts = list(
        location[1:]
        if location and location[0] in ("query", "path", "header", "body")
        else location
    )
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "body"


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0]
    field = _field_of(first.get("loc", ()))
    message = f"{field}: {first.get('msg', 'invalid value')}"
    return _respond(422, "invalid", message, field)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "error")
    headers = dict(exc.headers or {})
    return _respond(exc.status_code, code, str(exc.detail), None, headers)


async def _unexpected(_request: Request, _exc: Exception) -> JSONResponse:
    # The traceback goes to the server log (Starlette re-raises after answering); the client
    # gets the same shape as every other error and nothing of the internals.
    return _respond(500, "internal", "internal error; the server log has the details", None)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
