"""Request bodies read by hand: raw YAML for configs, JSON that may be an object or an array.

FastAPI's body models cannot take YAML, and a list of events needs no model (the service
validates each event and names the field at fault), so these read the bytes, check the media
type and the syntax, and leave the meaning to the service.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

import orjson
import yaml
from fastapi import Depends, Request

from duly.api.errors import ApiError

__all__ = ["JSON_BODY", "YAML_BODY", "JsonBody", "YamlBody", "json_value", "media_type"]

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


def media_type(content_type: str) -> str:
    """``application/json; charset=utf-8`` -> ``application/json``."""
    return content_type.split(";")[0].strip().lower()


def _media_type(request: Request) -> str:
    return media_type(request.headers.get("content-type", ""))


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
    return json_value(_media_type(request), await request.body())


def json_value(media: str, body: bytes) -> Any:
    """The JSON ``body`` sent as ``media``; refused with 415 or 400 naming what is wrong."""
    if media != "application/json" and not media.endswith("+json"):
        raise ApiError(
            415,
            f"content-type: send application/json, not {media or 'nothing'}",
            "content-type",
        )
    text = _text(body)
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ApiError(
            400,
            f"body: not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}",
            "body",
        ) from None


YamlBody = Annotated[str, Depends(_yaml_text)]
JsonBody = Annotated[Any, Depends(_json_value)]
