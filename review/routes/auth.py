"""Signing in and out (`GET|POST /login`, `POST /logout`) and `GET /healthz`.

`login.html` gets `error` (str | None), `next` (where to go after signing in, posted back
as a hidden input) and `username` (what was typed). Status 401 after a wrong password, 429
when rate-limited, 403 on a missing CSRF token."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from models import record_event
from review import auth
from review.csrf import rotate_csrf_token
from review.deps import (
    SESSION_ID,
    AppState,
    SessionDep,
    StateDep,
    client_ip,
    get_state,
    resolve_user,
)

router = APIRouter()


def safe_next(target: str | None) -> str:
    """Only a path of this site may follow sign-in (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/healthz", tags=["service"])
def healthz() -> dict[str, str]:
    """Liveness for load balancers and tests; no sign-in needed."""
    return {"status": "ok"}


def login_page(
    request: Request,
    *,
    error: str | None,
    next_path: str,
    username: str,
    code: int,
    headers: dict[str, str] | None = None,
) -> Response:
    return get_state(request).templates.TemplateResponse(
        request,
        "login.html",
        {"error": error, "next": next_path, "username": username},
        status_code=code,
        headers=headers,
    )


@router.get("/login", include_in_schema=False)
def login_form(request: Request, session: SessionDep, next: str = "/") -> Response:
    if resolve_user(request, session) is not None:
        return RedirectResponse(safe_next(next), status_code=status.HTTP_303_SEE_OTHER)
    return login_page(request, error=None, next_path=safe_next(next), username="", code=200)


@router.post("/login", include_in_schema=False)
async def login(
    request: Request,
    state: StateDep,
    username: str = Form(""),
    password: str = Form(""),
    next: str = Form("/"),
) -> Response:
    next_path = safe_next(next)
    username = username.strip()
    ip = client_ip(request)
    user_key = auth.normalize_username(username)
    if not state.login_by_ip.hit(ip):
        wait = state.login_by_ip.retry_after(ip)
        return login_page(
            request,
            error=f"Too many sign-in attempts. Wait {wait} seconds and try again.",
            next_path=next_path,
            username=username,
            code=status.HTTP_429_TOO_MANY_REQUESTS,
            headers={"Retry-After": str(wait)},
        )
    # repeated failures on one account slow its next attempts (never refuse them)
    if (delay := state.login_by_user.delay(user_key)) > 0:
        await asyncio.sleep(delay)
    user = await run_in_threadpool(_check_sign_in, state, username, password)
    if user is None:
        state.login_by_user.failed(user_key)
        return login_page(
            request,
            error="Wrong username or password.",
            next_path=next_path,
            username=username,
            code=status.HTTP_401_UNAUTHORIZED,
        )
    state.login_by_user.reset(user_key)
    # a fresh session: nothing from before signing in carries over (no fixation)
    request.session.clear()
    request.session[SESSION_ID] = user.sid
    rotate_csrf_token(request)
    return RedirectResponse(next_path, status_code=status.HTTP_303_SEE_OTHER)


@router.post("/logout", include_in_schema=False)
def logout(request: Request, session: SessionDep) -> Response:
    """Sign out: the server-side session ends, so a copy of the cookie is worthless."""
    user = resolve_user(request, session)
    sid = request.session.get(SESSION_ID)
    if isinstance(sid, str):
        auth.end_session(session, sid)
    if user is not None and "authorization" not in request.headers:
        record_event(
            session,
            actor=user.username,
            action="user.signed_out",
            entity_type="user",
            entity_id=user.id,
        )
    session.commit()
    request.session.clear()
    return RedirectResponse("/login", status_code=status.HTTP_303_SEE_OTHER)


@dataclass(frozen=True)
class _SignedIn:
    id: int
    username: str
    sid: str


def _check_sign_in(state: AppState, username: str, password: str) -> _SignedIn | None:
    """Verify the password and, when right, open a server-side session; audited."""
    with state.db.sessions() as session:
        user = auth.verify_password(session, username, password) if username and password else None
        if user is None:
            known = auth.get_user(session, username) if username else None
            record_event(
                session,
                actor="anonymous",
                action="user.sign_in_failed",
                entity_type="user",
                entity_id=known.id if known else None,
            )
            session.commit()
            return None
        record_event(
            session,
            actor=user.username,
            action="user.signed_in",
            entity_type="user",
            entity_id=user.id,
        )
        sid = auth.start_session(session, user)
        session.commit()
        return _SignedIn(user.id, user.username, sid)
