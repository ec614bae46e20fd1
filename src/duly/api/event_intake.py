"""``POST /api/v1/events`` served without FastAPI's routing and dependency machinery.

A help desk posts an event per ticket change, so this one route carries most of the traffic.
Through FastAPI, routing, dependency solving and the middleware layers cost about three times
what storing the event does; this ASGI middleware answers the route directly, in the same
order of checks as the FastAPI route in ``duly.api.events`` (token, body, ``wait``, then the
events), with the same helpers and the same answers, and hands everything else to FastAPI.
The tests run the events suite against both.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from duly.api.auth import authorize, bearer_token
from duly.api.bodies import json_value, media_type
from duly.api.errors import ApiError, error_body, service_status
from duly.api.events import EVENTS_PATH, take_events
from duly.api.metrics import ApiMetrics
from duly.service.context import Context
from duly.service.errors import ServiceError

__all__ = ["EventIntake"]

_LOG: Final = logging.getLogger("duly.api")
#: The largest body taken: 10,000 events of a few kilobytes each, with room to spare.
MAX_BODY_BYTES: Final = 64 * 1024 * 1024
#: What pydantic reads as a boolean in a query string (``?wait=yes`` works as in FastAPI).
_TRUE: Final = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE: Final = frozenset({"0", "off", "f", "false", "n", "no"})


@dataclass(frozen=True)
class _Route:
    """What ``RequestTiming`` reads to label the request (FastAPI puts its route there)."""

    path: str


_ROUTE: Final = _Route(EVENTS_PATH)


class EventIntake:
    """ASGI middleware: answers ``POST /api/v1/events`` itself, passes on everything else."""

    def __init__(self, app: ASGIApp, context: Context, metrics: ApiMetrics) -> None:
        self.app = app
        self.context = context
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or scope["path"] != scope.get("root_path", "") + EVENTS_PATH
        ):
            await self.app(scope, receive, send)
            return
        scope["route"] = _ROUTE
        headers: dict[str, str] = {}
        try:
            answer: Any = await self._answer(scope, receive)
            status = 200
        except ApiError as exc:
            status, answer, headers = (
                exc.status,
                error_body(exc.code, exc.message, exc.field),
                exc.headers,
            )
        except ServiceError as exc:
            status, answer = service_status(exc), error_body(exc.code, exc.message, exc.field)
        except Exception:
            _LOG.exception("POST %s failed", EVENTS_PATH)
            status = 500
            answer = error_body("internal", "internal error; the server log has the details", None)
        await _send_json(send, status, answer, headers)

    async def _answer(self, scope: Scope, receive: Receive) -> dict[str, int]:
        found = _headers(scope)
        await authorize(self.context, bearer_token(found.get("authorization")), "agent")
        body = json_value(media_type(found.get("content-type", "")), await _body(receive))
        wait = _wait(scope)
        return await take_events(self.context, self.metrics, body, wait)


def _headers(scope: Scope) -> dict[str, str]:
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}


async def _body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ApiError(400, "body: the client went away before sending it all", "body")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise ApiError(413, f"body: larger than {MAX_BODY_BYTES // 2**20} MiB", "body")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _wait(scope: Scope) -> bool:
    values = [v for k, v in parse_qsl(scope["query_string"].decode("latin-1")) if k == "wait"]
    if not values:
        return False
    text = values[-1].strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ApiError(422, "wait: Input should be a valid boolean, unable to interpret input", "wait")


async def _send_json(send: Send, status: int, answer: Any, headers: dict[str, str]) -> None:
    body = json.dumps(answer, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode("ascii")),
        *((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
