"""The agreements and calendars of the config in force."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from duly.api import API_PREFIX
from duly.api.auth import Viewer
from duly.api.context import Ctx
from duly.service import catalogue

__all__ = ["router"]

router = APIRouter(prefix=API_PREFIX, tags=["agreements"])


@router.get("/agreements", summary="Every agreement, with its policies and targets")
def list_agreements(_identity: Viewer, ctx: Ctx) -> dict[str, Any]:
    return {"agreements": catalogue.agreements(ctx.db, ctx.configs)}


@router.get("/agreements/{agreement_id}", summary="One agreement")
def get_agreement(_identity: Viewer, ctx: Ctx, agreement_id: str) -> dict[str, Any]:
    return catalogue.agreement(ctx.db, ctx.configs, agreement_id)


@router.get("/calendars", summary="Every calendar a target may name; holidays of this year")
def list_calendars(_identity: Viewer, ctx: Ctx) -> dict[str, Any]:
    return {"calendars": catalogue.calendars(ctx.db, ctx.configs, ctx.now())}
