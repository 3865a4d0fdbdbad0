"""Every route, walked without a session and as each role.

Routes are collected from the app itself (every router of review/routes/ and the installed
plugins), so a route added later is checked without touching this file. Who may
use a route is read from its `require_role(...)` dependencies; the rules checked are:
nobody signed in gets 401 (API, files for scripts) or the sign-in page; a signed-in user is
never answered 401 or 5xx; a role check refuses with 403 exactly the roles it does not
grant; an auditor gets 403 on every change; the page images and originals are served only
to signed-in readers, never cached.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from fastapi.testclient import TestClient

from credflow.settings import Settings
from credflow.web import installed_plugins
from models import Database, Provider, Role, StoreLayout, User
from review.deps import READ_ONLY_EXEMPT, has_role
from tests.review.test_api_support import (
    ROLES,
    add_users,
    client_as,
    csrf_of,
    make_app,
    seed_document,
)

PUBLIC = {
    "/healthz",
    "/login",
    "/logout",
    "/openapi.json",
    "/docs",
    "/docs/oauth2-redirect",
    "/redoc",
}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def guarded_by(route: RouteContext) -> list[tuple[Role, ...]]:
    """The role sets of every require_role(...) the route depends on."""
    return [
        getattr(d.call, "roles")  # noqa: B009 - set by review.deps.require_role
        for d in _dependants(route.dependant)
        if d.call is not None and hasattr(d.call, "roles")
    ]


def fill(route: RouteContext, ids: dict[str, int]) -> tuple[str, dict[str, Any]]:
    """A concrete URL for the route: path parameters and required query parameters."""
    path = re.sub(
        r"\{(\w+)(:\w+)?\}", lambda m: str(ids.get(m.group(1), 1)), route.path_format or ""
    )
    query = {
        p.name: ids.get(p.name, 1)
        for d in _dependants(route.dependant)
        for p in d.query_params
        if p.field_info.is_required()
    }
    return path, query


def routes(app: FastAPI) -> list[tuple[RouteContext, str]]:
    """Every (route, method) as the app serves it: included routers flattened, with the
    dependencies their routers add."""
    found = [
        (route, method)
        for route in iter_route_contexts(app.routes)
        if isinstance(route.original_route, APIRoute) and route.path not in PUBLIC
        for method in sorted((route.methods or set()) - {"HEAD"})
    ]
    assert len(found) > 20, "the walk found too few routes to be meaningful"
    return found


@pytest.fixture
def walk(db: Database, tmp_path: Path) -> tuple[FastAPI, dict[str, int]]:
    add_users(db)
    settings = Settings(data_dir=tmp_path, database_url=db.url)
    app = make_app(db, tmp_path, plugins=installed_plugins(), settings=settings)
    layout = StoreLayout(tmp_path)
    doc = seed_document(db, layout)
    with db.session() as session:
        provider = Provider(name="Maria Elena Gonzalez", npi="1234567893")
        session.add(provider)
        session.flush()
        provider_id = provider.id
    ids = {
        "document_id": doc,
        "doc_id": doc,
        "id": doc,
        "provider_id": provider_id,
        "number": 1,
        "n": 1,
        "page": 1,
    }
    return app, ids


def test_nobody_signed_in_gets_401_or_the_sign_in_page(
    walk: tuple[FastAPI, dict[str, int]],
) -> None:
    app, ids = walk
    client = TestClient(app)
    client.get("/login")  # a session with a CSRF token, so POSTs reach the sign-in check
    for route, method in routes(app):
        path, query = fill(route, ids)
        headers = {"X-CSRF-Token": csrf_of(client)}
        r = client.request(method, path, params=query, headers=headers, follow_redirects=False)
        where = f"{method} {path}"
        if path.startswith("/api/"):
            assert r.status_code == 401, where
            assert r.json()["detail"].startswith("Sign in"), where
        else:
            assert r.status_code == 303, where
            assert r.headers["location"].startswith("/login?next="), where

        # a browser POST without the CSRF token never gets through, whoever it is
        if method in UNSAFE:
            bare = client.request(method, path, params=query, follow_redirects=False)
            assert bare.status_code == 403, where


def test_each_role_gets_what_its_role_allows(
    walk: tuple[FastAPI, dict[str, int]], db: Database
) -> None:
    app, ids = walk
    for role in ROLES:
        walk_as(app, ids, db, role)


def walk_as(app: FastAPI, ids: dict[str, int], db: Database, role: str) -> None:
    client = client_as(app, role)
    with db.session() as session:
        user = session.query(User).filter_by(username=role).one()
    checked = 0
    for route, method in routes(app):
        path, query = fill(route, ids)
        kwargs: dict[str, Any] = {
            "params": query,
            "follow_redirects": False,
            "headers": {"X-CSRF-Token": csrf_of(client)},
        }
        if method in UNSAFE and route.dependant.body_params:
            kwargs["json"] = {}
        r = client.request(method, path, **kwargs)
        where = f"{role}: {method} {path} -> {r.status_code} {r.text[:200]}"
        assert r.status_code != 401 and r.status_code < 500, where
        allowed = all(has_role(user, *roles) for roles in guarded_by(route))
        if role == "auditor" and method in UNSAFE and path not in READ_ONLY_EXEMPT:
            allowed = False
        if allowed:
            assert r.status_code != 403, where
        else:
            assert r.status_code == 403, where
        if role == "admin":
            assert r.status_code != 403, where
        checked += 1
    assert checked == len(routes(app))


def test_page_images_and_originals_only_for_signed_in_readers(
    walk: tuple[FastAPI, dict[str, int]],
) -> None:
    app, ids = walk
    doc = ids["document_id"]
    anonymous = TestClient(app)
    for url in (f"/documents/{doc}/pages/1.png", f"/documents/{doc}/original"):
        assert anonymous.get(url, follow_redirects=False).status_code == 303
        bearer_less = anonymous.get(url, headers={"Authorization": "Bearer nope"})
        assert bearer_less.status_code == 401
    for role in ROLES:
        files_as(app, doc, role)


def files_as(app: FastAPI, doc: int, role: str) -> None:
    client = client_as(app, role)
    image = client.get(f"/documents/{doc}/pages/1.png")
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"
    assert image.headers["cache-control"] == "no-store"
    assert image.content.startswith(b"\x89PNG")
    original = client.get(f"/documents/{doc}/original")
    assert original.status_code == 200
    assert original.headers["content-type"] == "image/png"
    assert original.headers["cache-control"] == "no-store"
    assert original.headers["content-disposition"].startswith("inline")
    assert client.get(f"/documents/{doc}/pages/9.png").status_code == 404
    assert client.get(f"/documents/{doc + 100}/original").status_code == 404


def test_public_routes_need_no_session(walk: tuple[FastAPI, dict[str, int]]) -> None:
    app, _ = walk
    client = TestClient(app)
    assert client.get("/healthz").json() == {"status": "ok"}
    schema = client.get("/openapi.json").json()
    assert "/api/documents/{document_id}/approve" in schema["paths"]
    assert client.get("/login").status_code == 200
    response = client.get("/static/htmx.min.js")
    assert response.status_code == 200
    assert response.headers["x-frame-options"] == "DENY"
