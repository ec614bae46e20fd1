"""Request bodies read by hand: raw YAML for configs, JSON that may be an object or an array.

FastAPI's body models cannot take YAML, and a list of events needs no model (the service
validates each event and names the field at fault), so these read the bytes, check the media
type and the syntax, and leave the meaning to the service.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Final

import yaml
from fastapi import Depends, Request

from duly.api.errors import ApiError

__all__ = ["JSON_BODY", "YAML_BODY", "JsonBody", "YamlBody"]

_YAML_TYPES: Final = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")

#: OpenAPI descriptions of the bodies, for routes to pass as ``openapi_extra``.
YAML_BODY: Final[dict[str, Any]] = {
    "requestBody": {
        "required": True,
        "content": {"application/yaml": {"schema": {"type": "string"}}},
    }
}
JSON_BODY: Final[dict[str, Any]] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {}}},
    }
}


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _text(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(400, f"body: not UTF-8 text (byte {exc.start})", "body") from None


async def _yaml_text(request: Request) -> str:
    media = _media_type(request)
    if media not in _YAML_TYPES:
        raise ApiError(
            415,
            f"content-type: send the config as application/yaml, not {media or 'nothing'}",
            "content-type",
        )
    text = _text(await request.body())
    try:
        # Syntax only (composing builds no values): the config loader reports everything else
        # with its field and line.
        yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark is not None else ""
        reason = getattr(exc, "problem", None) or "not valid YAML"
        raise ApiError(400, f"body: not valid YAML{line}: {reason}", "body") from None
    return text


async def _json_value(request: Request) -> Any:
    media = _media_type(request)
    if media != "application/json" and not media.endswith("+json"):
        raise ApiError(
            415,
            f"content-type: send application/json, not {media or 'nothing'}",
            "content-type",
        )
    text = _text(await request.body())
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ApiError(
            400,
            f"body: not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}",
            "body",
        ) from None


YamlBody = Annotated[str, Depends(_yaml_text)]
JsonBody = Annotated[Any, Depends(_json_value)]
