"""The one FastAPI application: sign-in, the JSON API, document files, the review pages
(`review.pages.router`) and the pages plugins add (`review.plugins`).

Contract with the pages (review/pages.py, review/templates, owned by the review UI):

- `review.pages` exposes `router` (an APIRouter); it is included when the module exists.
  Routes declare access with `review.deps`: `Depends(require_role(*READERS))` (every role),
  `require_role(*REVIEWERS)` (coordinator, manager, admin), `require_role(*MANAGERS)`;
  `SessionDep` for the database session (commit in the route); `get_state(request)` for
  `templates`, `layout`, `claim_seconds`, `settings`. The CSRF check and the auditors'
  read-only rule apply to every route by themselves.
- Every template rendered through `state.templates` (also `web.templates` for plugins)
  receives, besides what its route passes:
  `request`; `csrf_token` (str: put it in every form as
  `<input type="hidden" name="csrf_token" value="{{ csrf_token }}">` and in
  `<meta name="csrf-token" content="{{ csrf_token }}">` for htmx/fetch, which send it as
  the `X-CSRF-Token` header); `current_user` (models.User or None); `nav_links`
  (list of `(label, path)` the user may see, plugins' links included); `can_review`
  (bool: may confirm/approve/reject/claim), `can_manage` (bool: manager or admin),
  `read_only` (bool: auditor).
- `login.html`: the sign-in page. Context: `error` (str | None: "Wrong username or
  password." or the rate-limit message), `next` (str: where to go after signing in; post it
  back as a hidden input `name="next"`), `username` (str: what was typed, to refill).
  The form posts to `/login` with inputs `username`, `password`, `csrf_token`, `next`.
  Status 401 after a wrong password, 429 when rate-limited, 403 on a missing CSRF token.
- `error.html`: pages' 403/404/409 errors (HTTPException and review.approve.ReviewError
  raised by a page route). Context: `status_code` (int), `detail` (str). Without the
  template a plain-text answer is sent.
- `base.html`: the layout every page and plugin page extends.

Routes here: `GET /healthz` (no sign-in), `GET|POST /login`, `POST /logout`,
`/openapi.json`, `/docs` (signed-in users; local assets), `/static/...` (public assets
only), `/api/...` (review.api),
`GET /documents/{id}/pages/{n}.png` and `GET /documents/{id}/original` (signed-in readers).
Without a user, `/api/...` (and any request with an Authorization header) answers 401 JSON,
an htmx request 401 with `HX-Redirect`, a page a 303 to `/login?next=...`.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Form, HTTPException, Request, status
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import TemplateNotFound
from starlette.concurrency import run_in_threadpool
from starlette.middleware.sessions import SessionMiddleware

from models import Database, Role, StoreLayout, record_event
from review import auth
from review.approve import ReviewError
from review.csrf import csrf_protect, csrf_token, rotate_csrf_token
from review.deps import (
    MANAGERS,
    READERS,
    REVIEWERS,
    SESSION_ID,
    AppState,
    NotAuthenticated,
    SessionDep,
    client_ip,
    has_role,
    read_only_guard,
    require_role,
    resolve_user,
)
from review.plugins import Plugin, WebContext
from review.ratelimit import Backoff, RateLimiter
from review.routes import clinicians, layouts, screenings
from review.security import (
    AuthBeforeBody,
    BodyLimit,
    SecurityHeaders,
    audit_refusal,
    install_api_docs,
    install_error_contract,
)

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
SESSION_COOKIE = "credflow_session"
VERSION = "0.1.0"


def safe_next(target: str | None) -> str:
    """Only a path of this site may follow sign-in (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/api"


def _wants_html(request: Request) -> bool:
    return not _is_api(request) and "authorization" not in request.headers


def _template_context(request: Request) -> dict[str, Any]:
    user = getattr(request.state, "user", None)
    state: AppState = request.app.state.credflow
    return {
        "csrf_token": csrf_token(request),
        "current_user": user,
        "nav_links": [
            (label, path)
            for label, path, roles in state.nav
            if user is not None and has_role(user, *roles)
        ],
        "can_review": user is not None and has_role(user, *REVIEWERS),
        "can_manage": user is not None and has_role(user, *MANAGERS),
        "read_only": user is not None and user.role == Role.AUDITOR,
    }


def _load_pages_router(app: FastAPI) -> None:
    """The review UI's pages (review/pages.py, built alongside); absent until it exists."""
    try:
        module = importlib.import_module("review.pages")
    except ModuleNotFoundError as err:
        if err.name != "review.pages":
            raise
        return
    app.include_router(module.router)


def create_app(
    db: Database,
    layout: StoreLayout,
    *,
    secret_key: str,
    plugins: Sequence[Plugin] = (),
    settings: Any = None,
    session_max_age: int | None = None,
    session_idle: int | None = None,
    login_attempts_per_minute: int | None = None,
    login_backoff_cap: float | None = None,
    claim_seconds: int | None = None,
    https_only: bool | None = None,
    learner: Any = None,
) -> FastAPI:
    """Build the web application. Values left as None come from `settings` (the attributes
    of credflow.settings.Settings), else the defaults here."""

    def pick(value: Any, name: str, default: Any) -> Any:
        if value is not None:
            return value
        return getattr(settings, name, default) if settings is not None else default

    max_age = int(pick(session_max_age, "session_max_age_seconds", 12 * 3600))
    idle = int(pick(session_idle, "session_idle_seconds", 30 * 60))
    attempts = int(pick(login_attempts_per_minute, "login_attempts_per_minute", 10))
    https = bool(getattr(settings, "https", False))
    secure = bool(pick(https_only, "secure_cookies", False))
    max_body = int(pick(None, "max_body_kb", 1024)) * 1024
    max_upload = int(pick(None, "max_file_mb", 200)) * (1 << 20)
    templates = Jinja2Templates(directory=str(TEMPLATES), context_processors=[_template_context])
    state = AppState(
        db=db,
        layout=layout,
        templates=templates,
        settings=settings,
        claim_seconds=int(pick(claim_seconds, "review_claim_seconds", 300)),
        session_max_age=max_age,
        session_idle=idle,
        # slows guessing at one account without ever locking its owner out
        login_by_user=Backoff(
            attempts, 60.0, cap=8.0 if login_backoff_cap is None else login_backoff_cap
        ),
        # an office shares one address: allow several people's attempts from it
        login_by_ip=RateLimiter(attempts * 5, 60.0),
        learner=learner,
    )

    app = FastAPI(
        title="credflow",
        version=VERSION,
        description="Credential documents: review queue, credential database, compliance.",
        dependencies=[Depends(csrf_protect), Depends(read_only_guard)],
        docs_url=None,
        redoc_url=None,
    )
    app.state.credflow = state
    # outermost last: headers, then the session cookie, then auth before any body is read
    app.add_middleware(BodyLimit, max_body=max_body, max_upload=max_upload)
    app.add_middleware(AuthBeforeBody, state=state)
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret_key,
        session_cookie=SESSION_COOKIE,
        max_age=max_age,
        same_site="lax",
        https_only=secure,
    )
    app.add_middleware(SecurityHeaders, hsts=https)
    if STATIC.is_dir():
        app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    _install_handlers(app, templates)
    _install_sign_in(app, state)
    install_api_docs(app, require_role(*READERS))

    from review.api import files_router, router

    app.include_router(router)
    app.include_router(files_router)
    app.include_router(layouts.router)
    state.nav.append(layouts.NAV)
    _load_pages_router(app)
    app.include_router(screenings.router)
    state.nav.append(screenings.NAV)
    app.include_router(clinicians.router)
    state.nav.append(clinicians.NAV)

    web = WebContext(
        db=db,
        layout=layout,
        templates=templates,
        require_role=require_role,
        csrf_protect=csrf_protect,
        settings=settings,
        nav=state.nav,
    )
    for plugin in plugins:
        plugin(app, web)
    install_error_contract(app)
    return app


def _install_handlers(app: FastAPI, templates: Jinja2Templates) -> None:
    @app.exception_handler(NotAuthenticated)
    async def not_authenticated(request: Request, exc: NotAuthenticated) -> Response:
        if not _wants_html(request):
            return JSONResponse(
                {"detail": "Sign in or send an API token (Authorization: Bearer ...)."},
                status_code=status.HTTP_401_UNAUTHORIZED,
                headers={"WWW-Authenticate": "Bearer"},
            )
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        login = "/login?" + urlencode({"next": target})
        if request.headers.get("hx-request"):
            # htmx swaps nothing on 401 but follows HX-Redirect with a full page load
            return Response(
                status_code=status.HTTP_401_UNAUTHORIZED, headers={"HX-Redirect": login}
            )
        return RedirectResponse(login, status_code=status.HTTP_303_SEE_OTHER)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == status.HTTP_403_FORBIDDEN:
            await audit_refusal(request, exc.status_code)
        if not _wants_html(request) or exc.status_code < 400:
            return await http_exception_handler(request, exc)
        detail = exc.detail if isinstance(exc.detail, str) else "The request could not be served."
        try:
            return templates.TemplateResponse(
                request,
                "error.html",
                {"status_code": exc.status_code, "detail": detail},
                status_code=exc.status_code,
                headers=getattr(exc, "headers", None),
            )
        except TemplateNotFound:
            return PlainTextResponse(detail, status_code=exc.status_code)

    @app.exception_handler(ReviewError)
    async def review_error(request: Request, exc: ReviewError) -> Response:
        if not _wants_html(request):
            return JSONResponse(
                {"detail": exc.message, "errors": exc.errors}, status_code=exc.status_code
            )
        return await http_error(request, HTTPException(exc.status_code, exc.message))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        """422 with where and why, never the input itself (it may be personal data)."""
        errors: dict[str, str] = {}
        for error in exc.errors():
            where = ".".join(str(part) for part in error.get("loc", ())) or "request"
            errors.setdefault(where, str(error.get("msg", "not valid")))
        return JSONResponse(
            {"detail": "The request is not valid; see errors.", "errors": errors},
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )


def _install_sign_in(app: FastAPI, state: AppState) -> None:
    templates = state.templates

    @app.get("/healthz", tags=["service"])
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
        return templates.TemplateResponse(
            request,
            "login.html",
            {"error": error, "next": next_path, "username": username},
            status_code=code,
            headers=headers,
        )

    @app.get("/login", include_in_schema=False)
    def login_form(request: Request, session: SessionDep, next: str = "/") -> Response:
        if resolve_user(request, session) is not None:
            return RedirectResponse(safe_next(next), status_code=status.HTTP_303_SEE_OTHER)
        return login_page(request, error=None, next_path=safe_next(next), username="", code=200)

    @app.post("/login", include_in_schema=False)
    async def login(
        request: Request,
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

    @app.post("/logout", include_in_schema=False)
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
