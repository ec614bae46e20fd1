"""The SLA config: send a new version, read any version, preview a draft on past tickets."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from duly.api import API_PREFIX
from duly.api.auth import Admin, Viewer
from duly.api.bodies import YAML_BODY, YamlBody
from duly.api.context import Ctx
from duly.api.parameters import Many, values
from duly.service import config_changes

__all__ = ["router"]

router = APIRouter(prefix=API_PREFIX, tags=["config"])

VERSION_HEADER = "Duly-Config-Version"
_YAML = "application/yaml; charset=utf-8"
_YAML_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/yaml": {"schema": {"type": "string"}}}}
}


@router.put("/config", openapi_extra=YAML_BODY, summary="Send a new config version (admin)")
def put_config(
    identity: Admin,
    ctx: Ctx,
    text: YamlBody,
    response: Response,
    reevaluate: Annotated[
        Literal["all"] | None,
        Query(description="`all`: re-derive every ticket, finished clocks too."),
    ] = None,
) -> dict[str, Any]:
    accepted = config_changes.put_config(
        ctx.db, ctx.configs, text, identity.name, ctx.now(), reevaluate_all=reevaluate == "all"
    )
    response.headers[VERSION_HEADER] = str(accepted.version)
    return {"version": accepted.version, "tickets": accepted.tickets, "clocks": accepted.clocks}


def _yaml_version(ctx: Ctx, version: int | None) -> Response:
    row = config_changes.config_text(ctx.db, version)
    return Response(row.text, media_type=_YAML, headers={VERSION_HEADER: str(row.version)})


@router.get(
    "/config",
    response_class=Response,
    responses=_YAML_ANSWER,
    summary="The config in force, as YAML",
)
def get_config(_identity: Viewer, ctx: Ctx) -> Response:
    return _yaml_version(ctx, None)


@router.get("/config/versions", summary="Every version: who sent it and when, newest first")
def list_versions(_identity: Viewer, ctx: Ctx) -> dict[str, Any]:
    return {"versions": config_changes.list_versions(ctx.db)}


@router.get(
    "/config/versions/{version}",
    response_class=Response,
    responses=_YAML_ANSWER,
    summary="One version's YAML",
)
def get_version(_identity: Viewer, ctx: Ctx, version: int) -> Response:
    return _yaml_version(ctx, version)


@router.post(
    "/config/preview",
    openapi_extra=YAML_BODY,
    summary="Replay the stored events under a draft config; nothing is stored",
)
def preview_config(
    _identity: Viewer,
    ctx: Ctx,
    text: YamlBody,
    by: Many = None,
) -> dict[str, Any]:
    return config_changes.preview_config(ctx.db, ctx.configs, text, ctx.now(), values(by, "by"))
