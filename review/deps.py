"""FastAPI dependencies: the database session, the signed-in user and role checks.

Who is asking is decided in one place (`resolve_user`):
- `Authorization: Bearer TOKEN` (API clients): the token's user, or nobody when the token
  is unknown; the session cookie is then ignored.
- otherwise the signed session cookie, which holds only the random id of a server-side
  session (`models.WebSession`): signing out, a new password or a disabled account delete
  it, and it ends after `session_idle` seconds unused or `session_max_age` after sign-in.

Roles (models.Role): coordinator reviews; manager has the coordinator's rights plus reports,
deviations and users; auditor may read everything and change nothing; admin may do
everything. `require_role(*roles)` is explicit: admin always passes, a manager passes where
a coordinator does, an auditor only where Role.AUDITOR is listed (read routes use
`READERS`, which lists every role). Besides, every POST/PUT/PATCH/DELETE of an auditor
(signing in and out aside) is refused with 403 app-wide, whatever the route says.

Without a user, `/api/...` answers 401 JSON, an htmx request 401 with `HX-Redirect`, and a
page redirects to `/login?next=...` (see `review.app`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from compliance.dashboard import ComplianceBoard
from models import Database, Role, StoreLayout, User
from review import auth
from review.config import WebConfig
from review.csrf import SAFE_METHODS
from review.ratelimit import Backoff, RateLimiter

SESSION_ID = "sid"
# paths any signed-in user, auditors included, may POST to
READ_ONLY_EXEMPT = frozenset({"/login", "/logout", "/api/me/password"})


@dataclass
class AppState:
    """What the routes need from `create_app`, kept on `app.state.credflow`."""

    db: Database
    layout: StoreLayout
    templates: Jinja2Templates
    compliance: ComplianceBoard
    config: WebConfig = field(default_factory=WebConfig)
    claim_seconds: int = 300
    session_max_age: int = 12 * 3600
    session_idle: int = 30 * 60
    login_by_user: Backoff = field(default_factory=lambda: Backoff(10))
    login_by_ip: RateLimiter = field(default_factory=lambda: RateLimiter(30))
    # navigation links: (label, path, roles that see it)
    nav: list[tuple[str, str, tuple[Role, ...]]] = field(default_factory=list)
    # learns from each approval (review.approve.Learner); None: learning is off
    learner: Any = None


class NotAuthenticated(Exception):
    """Nobody is signed in (or the token is unknown); `review.app` turns it into 401 or a
    redirect to the sign-in page."""


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.credflow
    return state


StateDep = Annotated[AppState, Depends(get_state)]


def get_compliance(request: Request) -> ComplianceBoard:
    return get_state(request).compliance


ComplianceDep = Annotated[ComplianceBoard, Depends(get_compliance)]


def get_session(request: Request) -> Iterator[Session]:
    """One database session per request. Nothing is committed unless the route commits,
    so a failing route leaves no half-made change."""
    with get_state(request).db.sessions() as session:
        yield session


# closed as soon as the route returns, before the response (a file, say) is sent
SessionDep = Annotated[Session, Depends(get_session, scope="function")]

_UNSET = object()


def resolve_user(request: Request, session: Session) -> User | None:
    """The user making this request, or None; looked up once per request."""
    cached: User | object | None = getattr(request.state, "user", _UNSET)
    if cached is not _UNSET:
        return cached if isinstance(cached, User) else None
    user: User | None = None
    read_only_token = False
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() == "bearer":
            grant = auth.authenticate_token(session, token.strip())
            if grant is not None:
                user, read_only_token = grant.user, grant.read_only
    else:
        sid = request.session.get(SESSION_ID)
        if isinstance(sid, str):
            state = get_state(request)
            user = auth.resolve_session(
                session, sid, idle_seconds=state.session_idle, max_age_seconds=state.session_max_age
            )
            if user is None:
                request.session.clear()
    if session.dirty or session.deleted:  # last-used times, an ended session
        session.commit()
    request.state.user = user
    request.state.read_only_token = read_only_token
    return user


def optional_user(request: Request, session: SessionDep) -> User | None:
    return resolve_user(request, session)


def current_user(request: Request, session: SessionDep) -> User:
    user = resolve_user(request, session)
    if user is None:
        raise NotAuthenticated()
    return user


CurrentUser = Annotated[User, Depends(current_user)]

# what each role may act as; admin may do everything
GRANTS: dict[str, frozenset[Role]] = {
    Role.ADMIN: frozenset(Role),
    Role.MANAGER: frozenset({Role.MANAGER, Role.COORDINATOR}),
    Role.COORDINATOR: frozenset({Role.COORDINATOR}),
    Role.AUDITOR: frozenset({Role.AUDITOR}),
}
READERS: tuple[Role, ...] = tuple(Role)
REVIEWERS: tuple[Role, ...] = (Role.COORDINATOR, Role.MANAGER, Role.ADMIN)
MANAGERS: tuple[Role, ...] = (Role.MANAGER, Role.ADMIN)
# reading what staff / managers change: auditors read everything
STAFF_READ: tuple[Role, ...] = (*REVIEWERS, Role.AUDITOR)
MANAGERS_READ: tuple[Role, ...] = (*MANAGERS, Role.AUDITOR)


def has_role(user: User, *roles: Role) -> bool:
    """Whether the user may use something guarded by `roles` (no roles: anyone signed in)."""
    if not roles:
        return True
    return bool(GRANTS.get(user.role, frozenset()) & set(roles))


def can_change(user: User) -> bool:
    """Whether the user may change anything at all (everyone but auditors)."""
    return user.role != Role.AUDITOR and user.role in GRANTS


def require_role(*roles: Role) -> Callable[..., User]:
    """Dependency: the signed-in user when one of `roles` (as granted above) allows the
    request, 403 otherwise; 401 / sign-in redirect without a user."""

    def dependency(user: CurrentUser) -> User:
        if not has_role(user, *roles):
            raise HTTPException(
                status_code=status.HTTP_403_FORBIDDEN,
                detail="Your role does not allow this.",
            )
        return user

    dependency.__name__ = "require_" + "_or_".join(r.value for r in roles) if roles else "signed_in"
    # what it guards, for tests that walk every route and work out who may use it
    dependency.roles = roles  # type: ignore[attr-defined]
    return dependency


Reader = Annotated[User, Depends(require_role(*READERS))]
Reviewer = Annotated[User, Depends(require_role(*REVIEWERS))]
Manager = Annotated[User, Depends(require_role(*MANAGERS))]
StaffReader = Annotated[User, Depends(require_role(*STAFF_READ))]
ManagerReader = Annotated[User, Depends(require_role(*MANAGERS_READ))]


def read_only_guard(request: Request, session: SessionDep) -> None:
    """App-wide: an auditor's (or unknown role's) request that could change something is
    refused, whatever the route — the rule cannot be forgotten by a new route or plugin."""
    if request.method in SAFE_METHODS:
        return
    user = resolve_user(request, session)
    if user is not None and getattr(request.state, "read_only_token", False):
        raise HTTPException(
            status_code=status.HTTP_403_FORBIDDEN,
            detail="This API token is read-only: it may look but not change anything.",
        )
    if request.url.path in READ_ONLY_EXEMPT:
        return
    if user is not None and not can_change(user):
        raise HTTPException(
            status_code=status.HTTP_403_FORBIDDEN,
            detail="Your role is read-only: you may look but not change anything.",
        )


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def render(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    """A page from the app's templates (the shared context is added by `review.app`)."""
    templates = get_state(request).templates
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def redirect(path: str, **params: Any) -> RedirectResponse:
    """303 to `path`, with the non-empty `params` as its query string."""
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return RedirectResponse(path + (f"?{query}" if query else ""), status.HTTP_303_SEE_OTHER)
