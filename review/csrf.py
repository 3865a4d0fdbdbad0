"""Cross-site request forgery protection for everything a browser can send.

One random token per browser session (kept in the signed session cookie). Every POST, PUT,
PATCH or DELETE must carry it, as the form field `csrf_token` or the header `X-CSRF-Token`
(htmx / fetch). Requests authenticated by `Authorization: Bearer` are exempt: a browser
never adds that header by itself, so another site cannot forge one.

The check runs as an app-wide dependency, so a route cannot forget it.
"""

from __future__ import annotations

import secrets

from fastapi import HTTPException, Request, status

SESSION_KEY = "csrf"
FORM_FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def csrf_token(request: Request) -> str:
    """This session's token, made on first use (templates put it in forms and a meta tag)."""
    token = request.session.get(SESSION_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session[SESSION_KEY] = token
    return token


def rotate_csrf_token(request: Request) -> str:
    """A fresh token, e.g. after signing in."""
    request.session.pop(SESSION_KEY, None)
    return csrf_token(request)


def is_bearer(request: Request) -> bool:
    return request.headers.get("authorization", "").lower().startswith("bearer ")


async def csrf_protect(request: Request) -> None:
    """FastAPI dependency: refuse an unsafe request whose CSRF token is missing or wrong."""
    if request.method in SAFE_METHODS or is_bearer(request):
        return
    expected = request.session.get(SESSION_KEY)
    sent = request.headers.get(HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(FORM_TYPES):
        # Starlette caches the parsed form, so the route still reads it afterwards
        value = (await request.form()).get(FORM_FIELD)
        sent = value if isinstance(value, str) else None
    if not expected or not sent or not secrets.compare_digest(str(expected), sent):
        raise HTTPException(
            status_code=status.HTTP_403_FORBIDDEN,
            detail="The form had expired or came from elsewhere (CSRF check). "
            "Reload the page and try again.",
        )
