"""Signing in and out, sessions, API tokens, CSRF and the sign-in rate limit, through the
real app on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from models import ApiToken, AuditEvent, Database, User
from review import auth
from review.app import SESSION_COOKIE
from tests.review.test_api_support import (
    PASSWORD,
    add_users,
    client_as,
    csrf_of,
    login_form_token,
    make_app,
    post_json,
    sign_in,
)


def test_sign_in_opens_the_page_asked_for(db: Database, tmp_path: Path) -> None:
    add_users(db)
    client = TestClient(make_app(db, tmp_path))

    first = client.get("/api/documents")
    assert first.status_code == 401
    page = client.get("/queue?type=diploma", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=%2Fqueue%3Ftype%3Ddiploma"

    token = login_form_token(client)
    response = client.post(
        "/login",
        data={
            "username": "coordinator",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "/queue?type=diploma",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/queue?type=diploma"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "max-age=" in cookie
    assert client.get("/api/documents").json() == {"items": [], "total": 0}
    assert client.get("/api/me").json()["role"] == "coordinator"

    with db.session() as session:
        actions = list(session.scalars(select(AuditEvent.action)))
    assert "user.signed_in" in actions


def test_wrong_password_unknown_user_and_disabled_account_are_refused(
    db: Database, tmp_path: Path
) -> None:
    add_users(db)
    app = make_app(db, tmp_path)
    for username, password in [("coordinator", "wrong password"), ("nobody", PASSWORD)]:
        client = TestClient(app)
        response = sign_in(client, username, password)
        assert response.status_code == 401
        assert "Wrong username or password." in response.text
        assert client.get("/api/documents").status_code == 401

    # signed in, then disabled: the open session ends at once
    client = client_as(app, "manager")
    assert client.get("/api/documents").status_code == 200
    with db.session() as session:
        auth.disable_user(session, "manager")
    assert client.get("/api/documents").status_code == 401
    assert sign_in(TestClient(app), "manager").status_code == 401


def test_new_password_signs_out_old_sessions(db: Database, tmp_path: Path) -> None:
    add_users(db)
    app = make_app(db, tmp_path)
    client = client_as(app, "coordinator")
    with db.session() as session:
        auth.set_password(session, "coordinator", "a brand new password")
    assert client.get("/api/documents").status_code == 401
    assert sign_in(TestClient(app), "coordinator", "a brand new password").status_code == 303


def test_passwords_are_argon2_and_tokens_stored_only_as_hashes(
    db: Database, tmp_path: Path
) -> None:
    add_users(db)
    with db.session() as session:
        token = auth.create_token(session, "auditor")
    with db.session() as session:
        user = session.scalars(select(User).where(User.username == "auditor")).one()
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash
        stored = session.scalars(select(ApiToken.token_hash)).one()
    assert token not in stored and len(stored) == 64

    client = TestClient(make_app(db, tmp_path))
    ok = client.get("/api/documents", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200
    bad = client.get("/api/documents", headers={"Authorization": f"Bearer {token}x"})
    assert bad.status_code == 401
    assert bad.headers["www-authenticate"] == "Bearer"
    with db.session() as session:
        assert session.scalars(select(ApiToken.last_used_at)).one() is not None
        auth.revoke_tokens(session, "auditor")
    assert (
        client.get("/api/documents", headers={"Authorization": f"Bearer {token}"}).status_code
        == 401
    )


def test_csrf_token_is_required_on_every_browser_post(db: Database, tmp_path: Path) -> None:
    add_users(db)
    app = make_app(db, tmp_path)

    # sign-in form without (or with a wrong) token
    client = TestClient(app)
    login_form_token(client)
    for data in [{}, {"csrf_token": "forged"}]:
        response = client.post(
            "/login",
            data={"username": "coordinator", "password": PASSWORD, **data},
            follow_redirects=False,
        )
        assert response.status_code == 403
        assert "CSRF" in response.text

    # a signed-in browser: JSON POST needs the header, a form POST the hidden field
    client = client_as(app, "manager")
    body = {"name": "Maria Gonzalez"}
    assert client.post("/api/providers", json=body).status_code == 403
    assert (
        client.post("/api/providers", json=body, headers={"X-CSRF-Token": "forged"}).status_code
        == 403
    )
    assert post_json(client, "/api/providers", body).status_code == 201
    assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 403

    # the token changes when signing in: one from before no longer works
    before = csrf_of(client)
    client.post("/logout", data={"csrf_token": before}, follow_redirects=False)
    sign_in(client, "manager")
    assert csrf_of(client) != before
    assert (
        client.post("/api/providers", json=body, headers={"X-CSRF-Token": before}).status_code
        == 403
    )


def test_bearer_requests_need_no_csrf_token(db: Database, tmp_path: Path) -> None:
    add_users(db)
    with db.session() as session:
        token = auth.create_token(session, "coordinator")
    client = TestClient(make_app(db, tmp_path))
    response = client.post(
        "/api/providers", json={"name": "Jane Roe"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 201
    assert response.json()["name"] == "Jane Roe"


def test_sign_in_attempts_are_limited_per_username_and_per_address(
    db: Database, tmp_path: Path
) -> None:
    add_users(db)
    app = make_app(db, tmp_path, login_attempts_per_minute=3, login_backoff_cap=0.05)
    client = TestClient(app)
    for _ in range(4):
        assert sign_in(client, "coordinator", "guess").status_code == 401
    # the account's next attempts are slowed, but its owner is never locked out
    assert app.state.credflow.login_by_user.delay("coordinator") > 0
    assert sign_in(client, "coordinator", PASSWORD).status_code == 303
    # another account from the same address is let in too...
    assert sign_in(TestClient(app), "manager").status_code == 303
    # ...until the address itself has tried too often (5 x the per-user limit)
    names = ["auditor", "admin", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8"]
    codes = [sign_in(TestClient(app), name, "guess").status_code for name in names]
    assert codes[:9] == [401] * 9
    assert codes[9] == 429
    limited = sign_in(TestClient(app), "manager")
    assert "Too many sign-in attempts" in limited.text
    assert int(limited.headers["retry-after"]) > 0


def test_sign_out_ends_the_session(db: Database, tmp_path: Path) -> None:
    add_users(db)
    client = client_as(make_app(db, tmp_path), "admin")
    response = client.post("/logout", data={"csrf_token": csrf_of(client)}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert client.get("/api/documents").status_code == 401
    assert SESSION_COOKIE not in client.cookies or client.get("/api/me").status_code == 401


def test_sign_in_never_redirects_off_site(db: Database, tmp_path: Path) -> None:
    add_users(db)
    client = TestClient(make_app(db, tmp_path))
    for target in ["https://evil.example/", "//evil.example/", "/\\evil.example"]:
        response = client.post(
            "/login",
            data={
                "username": "admin",
                "password": PASSWORD,
                "next": target,
                "csrf_token": login_form_token(client),
            },
            follow_redirects=False,
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/"
        client.cookies.clear()


def test_account_rules(db: Database) -> None:
    import pytest

    with db.session() as session:
        auth.create_user(session, "sam", PASSWORD, "coordinator")
        with pytest.raises(auth.AccountError, match="already exists"):
            auth.create_user(session, "sam", PASSWORD, "manager")
        with pytest.raises(auth.AccountError, match="unknown role"):
            auth.create_user(session, "kim", PASSWORD, "boss")
        with pytest.raises(auth.AccountError, match="at least 12"):
            auth.create_user(session, "kim", "short", "auditor")
        assert auth.verify_password(session, "sam", PASSWORD) is not None
        assert auth.verify_password(session, "sam", "nope nope") is None
        events = list(session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "user")))
    assert [e.action for e in events] == ["user.created"]
    assert "sam" not in (events[0].note or "")


def test_default_password_hashing_is_rfc9106_argon2id() -> None:
    from argon2 import Type, profiles

    params = auth.DEFAULT_HASHER
    assert params.type is Type.ID
    expected = profiles.RFC_9106_LOW_MEMORY
    assert (params.memory_cost, params.time_cost) == (expected.memory_cost, expected.time_cost)
    assert params.hash(PASSWORD).startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_managers_administer_accounts_auditors_only_read(db: Database, tmp_path: Path) -> None:
    add_users(db)
    app = make_app(db, tmp_path)
    manager, auditor = client_as(app, "manager"), client_as(app, "auditor")
    coordinator = client_as(app, "coordinator")

    new = {"username": "robin", "password": "a long enough secret", "role": "coordinator"}
    assert post_json(coordinator, "/api/users", new).status_code == 403
    assert post_json(auditor, "/api/users", new).status_code == 403
    created = post_json(manager, "/api/users", new)
    assert created.status_code == 201 and created.json()["role"] == "coordinator"
    assert post_json(manager, "/api/users", new).status_code == 409
    too_high = post_json(manager, "/api/users", {**new, "username": "root", "role": "admin"})
    assert too_high.status_code == 403
    assert (
        post_json(manager, "/api/users", {**new, "username": "x", "password": "short"}).json()[
            "detail"
        ]
        == "a password needs at least 12 characters"
    )

    listed = auditor.get("/api/users").json()["items"]
    assert [u["username"] for u in listed] == [
        "admin",
        "auditor",
        "coordinator",
        "manager",
        "robin",
    ]
    assert "password_hash" not in listed[0]
    assert coordinator.get("/api/users").status_code == 403

    robin = client_as_password(app, "robin", "a long enough secret")
    assert post_json(manager, "/api/users/robin/disable").json()["disabled"] is True
    assert robin.get("/api/me").status_code == 401
    assert post_json(manager, "/api/users/admin/disable").status_code == 403
    assert post_json(manager, "/api/users/manager/disable").status_code == 409
    assert post_json(manager, "/api/users/robin/enable").json()["disabled"] is False
    reset = post_json(manager, "/api/users/robin/password", {"password": "a new one here"})
    assert reset.status_code == 200
    assert sign_in(TestClient(app), "robin", "a new one here").status_code == 303


def test_everyone_may_change_their_own_password(db: Database, tmp_path: Path) -> None:
    add_users(db)
    app = make_app(db, tmp_path)
    auditor = client_as(app, "auditor")
    wrong = post_json(
        auditor,
        "/api/me/password",
        {"current_password": "nope", "new_password": "whatever 123 abc"},
    )
    assert wrong.status_code == 403
    ok = post_json(
        auditor,
        "/api/me/password",
        {"current_password": PASSWORD, "new_password": "whatever 123 abc"},
    )
    assert ok.status_code == 204
    assert auditor.get("/api/me").status_code == 200  # this session stays signed in
    assert sign_in(TestClient(app), "auditor", "whatever 123 abc").status_code == 303


def client_as_password(app: FastAPI, username: str, password: str) -> TestClient:
    client = TestClient(app)
    assert sign_in(client, username, password).status_code == 303
    return client


def test_pages_and_htmx_without_a_session_and_a_refused_page(db: Database, tmp_path: Path) -> None:
    add_users(db)
    app = make_app(db, tmp_path)
    anonymous = TestClient(app)
    partial = anonymous.get("/queue/counts", headers={"HX-Request": "true"})
    assert partial.status_code == 401
    assert partial.headers["hx-redirect"] == "/login?next=%2Fqueue%2Fcounts"

    # a page refused for the role answers with the error page, the API with JSON
    coordinator = client_as(app, "coordinator")
    assert coordinator.get("/api/users").json() == {"detail": "Your role does not allow this."}
    auditor = client_as(app, "auditor")
    refused = auditor.post("/review/1/approve", data={"csrf_token": csrf_of(auditor)})
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("text/html")
    assert "read-only" in refused.text


def test_secure_cookie_when_served_over_https(db: Database, tmp_path: Path) -> None:
    add_users(db)
    client = TestClient(make_app(db, tmp_path, https_only=True), base_url="https://testserver")
    response = sign_in(client, "coordinator")
    assert response.status_code == 303
    assert "; secure" in response.headers["set-cookie"].lower()
