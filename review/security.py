"""What every answer of the web app gets, whatever route made it (OWASP ASVS level 2).

- `SecurityHeaders`: a strict Content-Security-Policy (the app's own scripts and styles
  only) unless the route set its own, `Cache-Control: no-store` on everything but the
  public static assets, no framing, no sniffing, and HSTS when served over HTTPS.
- `BodyLimit`: request bodies over the limit are answered 413 before they are read.
- `AuthBeforeBody`: a change sent to `/api/...` by nobody is answered 401 (or 403 without
  the CSRF token) before its body is read or parsed.
- `audit_refusal`: refused requests (403) become audit events (method and path, no body,
  no query string).
- `install_api_docs`: `/docs` from the pinned Swagger UI that ships with the
  `swagger-ui-bundle` package, for signed-in users only (no CDN).
- `install_error_contract`: one documented error shape (`Problem`) for every 4xx in
  /openapi.json, and out-of-range numbers answered 422 instead of a database error.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request, status
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from sqlalchemy.exc import DataError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from models import record_event
from review import auth
from review.csrf import HEADER as CSRF_HEADER
from review.csrf import SAFE_METHODS
from review.csrf import SESSION_KEY as CSRF_SESSION_KEY

PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
# originals and page images: never a document that can run anything
FILE_CSP = "sandbox; default-src 'none'"
# Swagger UI sets inline styles on its elements
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
HSTS = b"max-age=31536000; includeSubDomains"
PUBLIC_ASSETS = ("/static/", "/docs-assets/")
CSRF_REFUSED = (
    "The form had expired or came from elsewhere (CSRF check). Reload the page and try again."
)


class Problem(BaseModel):
    """Every 4xx answer of the API: a message for people and, for invalid requests and
    refused decisions, what was wrong where (`{"query.limit": "..."}`; never the input)."""

    detail: str
    errors: dict[str, str] | None = None


class SecurityHeaders:
    """Headers every answer carries (see the module docstring)."""

    BASE = (
        (b"x-frame-options", b"DENY"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
    )

    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        public = str(scope.get("path", "")).startswith(PUBLIC_ASSETS)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if public or k.lower() != b"cache-control"
                ]
                names = {k.lower() for k, _ in headers}
                headers += self.BASE
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", PAGE_CSP.encode()))
                if not public:
                    headers.append((b"cache-control", b"no-store"))
                if self.hsts:
                    headers.append((b"strict-transport-security", HSTS))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _problem(code: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=code, headers=headers)


class BodyLimit:
    """413 for a body over `max_body` bytes (`max_upload` for multipart uploads): by its
    Content-Length before reading, or as soon as a chunked body passes the limit."""

    def __init__(self, app: ASGIApp, *, max_body: int, max_upload: int) -> None:
        self.app = app
        self.max_body = max_body
        self.max_upload = max_upload

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        upload = headers.get("content-type", "").startswith("multipart/form-data")
        limit = self.max_upload if upload else self.max_body
        too_large = _problem(
            status.HTTP_413_CONTENT_TOO_LARGE, f"The request body is over {limit // 1024} KB."
        )
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await too_large(scope, receive, send)
            return
        seen = 0
        refused = False

        async def counting_receive() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # answer now; the route sees the client gone and sends nothing
                    refused = True
                    await too_large(scope, receive, send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not refused:
                await send(message)

        await self.app(scope, counting_receive, guarded_send)


class AuthBeforeBody:
    """A change to `/api/...` from nobody is refused before the body is read: 401 for an
    unknown token or no session, 403 when a browser's CSRF token is missing."""

    def __init__(self, app: ASGIApp, *, state: Any) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if (
            scope["type"] != "http"
            or scope["method"] in SAFE_METHODS
            or not path.startswith("/api/")
        ):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        cookie_session: dict[str, Any] = scope.get("session") or {}
        known = await run_in_threadpool(self._known, headers, cookie_session)
        if known:
            await self.app(scope, receive, send)
            return
        expected = cookie_session.get(CSRF_SESSION_KEY)
        sent = headers.get(CSRF_HEADER)
        bearer = headers.get("authorization") is not None
        if bearer or (expected and sent and secrets.compare_digest(str(expected), sent)):
            answer = _problem(
                status.HTTP_401_UNAUTHORIZED,
                "Sign in or send an API token (Authorization: Bearer ...).",
                {"WWW-Authenticate": "Bearer"},
            )
        else:
            await run_in_threadpool(
                _record_refusal, self.state.db, "anonymous", scope["method"], path, 403
            )
            answer = _problem(status.HTTP_403_FORBIDDEN, CSRF_REFUSED)
        await answer(scope, receive, send)

    def _known(self, headers: Headers, cookie_session: dict[str, Any]) -> bool:
        header = headers.get("authorization")
        with self.state.db.sessions() as session:
            found: object = None
            if header is not None:
                scheme, _, token = header.strip().partition(" ")
                if scheme.lower() == "bearer":
                    found = auth.authenticate_token(session, token.strip())
            elif isinstance(sid := cookie_session.get("sid"), str):
                found = auth.resolve_session(
                    session,
                    sid,
                    idle_seconds=self.state.session_idle,
                    max_age_seconds=self.state.session_max_age,
                )
            session.commit()
            return found is not None


def _record_refusal(db: Any, actor: str, method: str, path: str, code: int) -> None:
    with db.session() as session:
        record_event(
            session,
            actor=actor,
            action="request.refused",
            entity_type="request",
            note=f"{code} {method} {path}"[:500],
        )


async def audit_refusal(request: Request, code: int) -> None:
    """An audit event for a refused request: who, the method and the path (no query
    string, no body: they may hold personal data)."""
    user = getattr(request.state, "user", None)
    actor = getattr(user, "username", None) or "anonymous"
    db = request.app.state.credflow.db
    await run_in_threadpool(_record_refusal, db, actor, request.method, request.url.path, code)


def install_api_docs(app: FastAPI, signed_in: Callable[..., Any]) -> None:
    """`/docs`: Swagger UI from the pinned copy in the `swagger-ui-bundle` package, served
    from this site to signed-in users; absent when that package is not installed."""
    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:
        return
    app.mount("/docs-assets", StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")
    page = (Path(__file__).parent / "templates" / "api_docs.html").read_text()

    @app.get("/docs", include_in_schema=False, dependencies=[Depends(signed_in)])
    def api_docs() -> Response:
        return HTMLResponse(page, headers={"Content-Security-Policy": DOCS_CSP})


PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
ERROR_TEXT = {
    401: "Not signed in, or the API token is unknown or expired",
    403: "The role or token may not do this, or the CSRF token is missing",
    404: "No such record",
    409: "In conflict with the current state",
    413: "The request body is too large",
    422: "The request is not valid (see errors)",
}


def install_error_contract(app: FastAPI) -> None:
    """Out-of-range numbers answer 422; /openapi.json documents every 4xx as `Problem`."""

    async def out_of_range(request: Request, exc: Exception) -> Response:
        return JSONResponse(
            {"detail": "A value is out of range.", "errors": {"request": "out of range"}},
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )

    app.add_exception_handler(OverflowError, out_of_range)
    app.add_exception_handler(DataError, out_of_range)
    plain_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = json.loads(json.dumps(plain_openapi()))
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas["Problem"] = Problem.model_json_schema()
        for ops in schema.get("paths", {}).values():
            for method, op in ops.items():
                _declare_errors(method, op)
        for unused in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unused, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _declare_errors(method: str, op: dict[str, Any]) -> None:
    params = op.get("parameters", [])
    codes = [401, 403]
    if any(p.get("in") == "path" or str(p.get("name", "")).endswith("_id") for p in params):
        codes.append(404)
    if method in ("post", "put", "patch", "delete"):
        codes += [404, 409]
    if "requestBody" in op:
        codes.append(413)
    if params or "requestBody" in op:
        codes.append(422)
    responses = op.setdefault("responses", {})
    for code in sorted(set(codes)):
        responses[str(code)] = {
            "description": ERROR_TEXT[code],
            "content": {"application/json": {"schema": PROBLEM_REF}},
        }
