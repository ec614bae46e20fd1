"""Signing in with a pasted API token, and signing out."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from duly.service.tokens import authenticate
from duly.web.pages import problem, render
from duly.web.sessions import COOKIE, Ctx, csrf_token, form_of, safe_next

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/signin")
def signin_page(
    request: Request, next_path: Annotated[str, Query(alias="next")] = "/"
) -> HTMLResponse:
    return render(request, "signin.html", session=None, next=safe_next(next_path), message=None)


@router.post("/signin")
async def sign_in(request: Request, ctx: Ctx) -> Response:
    form = await form_of(request)
    token = form.get("token", "").strip()
    next_path = safe_next(form.get("next"))
    identity = await run_in_threadpool(authenticate, ctx.db, token) if token else None
    if identity is None:
        message = (
            "Paste a token to sign in."
            if not token
            else "That token is not known to this server (or was revoked). Check it and try again."
        )
        return render(request, "signin.html", 401, session=None, next=next_path, message=message)
    answer = RedirectResponse(next_path, status_code=303)
    answer.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return answer


@router.post("/signout")
async def sign_out(request: Request) -> Response:
    """Forget the cookie; the form token guards against other sites signing a person out."""
    form = await form_of(request)
    token = request.cookies.get(COOKIE)
    if token and not hmac.compare_digest(form.get("csrf", ""), csrf_token(token)):
        message = "The sign-out form was not sent by this dashboard; sign out from its menu."
        return problem(request, 403, message)
    answer = RedirectResponse("/signin", status_code=303)
    answer.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return answer
