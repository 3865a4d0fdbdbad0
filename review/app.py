"""The one FastAPI application: `create_app` builds it from a `review.config.WebConfig`
and includes every router of `review/routes/` (one module per resource, see docs/web.md).

Contract with the pages (review/routes/*.py, review/templates):

- Routes declare access with `review.deps`: `Reader` (every role), `Reviewer` (coordinator,
  manager, admin), `Manager`, `StaffReader`, `ManagerReader`; `SessionDep` for the database
  session (commit in the route); `StateDep` / `get_state(request)` for `templates`,
  `layout`, `config`, `compliance`. The CSRF check and the auditors' read-only rule apply to
  every route by themselves; domain exceptions become HTTP statuses in `review.errors`.
- Every template rendered through `state.templates` (also `web.templates` for plugins)
  receives, besides what its route passes:
  `request`; `csrf_token` (str: put it in every form as
  `<input type="hidden" name="csrf_token" value="{{ csrf_token }}">` and in
  `<meta name="csrf-token" content="{{ csrf_token }}">` for htmx/fetch, which send it as
  the `X-CSRF-Token` header); `current_user` (models.User or None); `nav_links`
  (list of `(label, path)` the user may see, plugins' links included); `can_review`
  (bool: may confirm/approve/reject/claim), `can_manage` (bool: manager or admin),
  `read_only` (bool: auditor).
- `error.html`: pages' 403/404/409 errors (HTTPException, review.approve.ReviewError and
  the domain errors of review.errors raised by a page route). Context: `status_code`
  (int), `detail` (str). Without the template a plain-text answer is sent.
- `base.html`: the layout every page and plugin page extends.

Without a user, `/api/...` (and any request with an Authorization header) answers 401 JSON,
an htmx request 401 with `HX-Redirect`, a page a 303 to `/login?next=...`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import TemplateNotFound
from starlette.middleware.sessions import SessionMiddleware

from compliance.dashboard import ComplianceBoard
from models import Database, Role, StoreLayout
from review.config import WebConfig
from review.csrf import csrf_protect, csrf_token
from review.deps import (
    MANAGERS,
    READERS,
    REVIEWERS,
    AppState,
    NotAuthenticated,
    has_role,
    read_only_guard,
    require_role,
)
from review.errors import install_error_mapping
from review.filters import register_filters
from review.plugins import Plugin, WebContext
from review.ratelimit import Backoff, RateLimiter
from review.routes import (
    applicants,
    audit,
    clinicians,
    compliance,
    deviations,
    documents,
    holds,
    layouts,
    outbox,
    providers,
    references,
    removal,
    rules,
    screenings,
    summaries,
    training,
    users,
    verifications,
)
from review.routes import auth as auth_routes
from review.routes import queue as queue_routes
from review.routes import review as review_routes
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


# every router, in the order their routes are matched; NAV links in this order too
ROUTERS = (
    auth_routes,
    users,
    documents,
    clinicians,
    providers,
    layouts,
    queue_routes,
    review_routes,
    screenings,
    compliance,
    deviations,
    rules,
    training,
    outbox,
    summaries,
    references,
    holds,
    removal,
    applicants,
    verifications,
    audit,
)


def create_app(
    db: Database,
    layout: StoreLayout,
    config: WebConfig | None = None,
    *,
    secret_key: str,
    plugins: Sequence[Plugin] = (),
    learner: Any = None,
) -> FastAPI:
    """Build the web application from its typed configuration (`credflow.web.web_config`
    makes it from the settings; the bare defaults serve tests and benches)."""
    config = config or WebConfig()
    templates = Jinja2Templates(directory=str(TEMPLATES), context_processors=[_template_context])
    register_filters(templates.env)
    attempts = config.login_attempts_per_minute
    state = AppState(
        db=db,
        layout=layout,
        templates=templates,
        compliance=ComplianceBoard(db, config.requirements_file),
        config=config,
        claim_seconds=config.claim_seconds,
        session_max_age=config.session_max_age,
        session_idle=config.session_idle,
        # slows guessing at one account without ever locking its owner out
        login_by_user=Backoff(attempts, 60.0, cap=config.login_backoff_cap),
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
    app.add_middleware(
        BodyLimit, max_body=config.max_body_bytes, max_upload=config.max_upload_bytes
    )
    app.add_middleware(AuthBeforeBody, state=state)
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret_key,
        session_cookie=SESSION_COOKIE,
        max_age=config.session_max_age,
        same_site="lax",
        https_only=config.secure_cookies,
    )
    app.add_middleware(SecurityHeaders, hsts=config.https)
    if STATIC.is_dir():
        app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    _install_handlers(app, templates)
    install_error_mapping(app, _wants_html)
    install_api_docs(app, require_role(*READERS))
    for module in ROUTERS:
        app.include_router(module.router)
        nav = getattr(module, "NAV", None)
        if nav is not None:
            state.nav.append(nav)

    web = WebContext(
        db=db,
        layout=layout,
        templates=templates,
        require_role=require_role,
        csrf_protect=csrf_protect,
        config=config,
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
