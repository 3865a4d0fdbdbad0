"""Removal and retention holds through the real app: `DELETE /api/documents/{id}` and
`DELETE /api/providers/{id}` (204, or 409 with the hold's reason), holds by API and by page,
managers only; signed in with API tokens and with the sign-in form."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from models import AuditEvent, Credential, Database, Document, Provider, StoreLayout
from review import auth
from review.app import create_app
from review.config import WebConfig
from tests.compliance.test_removal import put_document

PASSWORD = "long enough password 42"
ROLES = ("coordinator", "manager", "auditor", "admin")


def records_app(
    db: Database, data_dir: Path, roles: tuple[str, ...] = ROLES
) -> tuple[FastAPI, dict[str, str]]:
    """The review app with the records plugin, one user per role (named after it) and
    an API token for each."""
    app = create_app(
        db,
        StoreLayout(data_dir),
        WebConfig(login_attempts_per_minute=100),
        secret_key="records-test-" + "k" * 24,
    )
    tokens = {}
    with db.session() as s:
        for role in roles:
            auth.create_user(s, role, PASSWORD, role)
            tokens[role] = auth.create_token(s, role)
    return app, tokens


def bearer(tokens: dict[str, str], role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[role]}"}


def signed_in(app: FastAPI, username: str) -> TestClient:
    """A browser-like client that signed in through the form."""
    client = TestClient(app)
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    answer = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return client


def form_token(client: TestClient, path: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert match, f"no form on {path}"
    return match.group(1)


def delete(client: TestClient, url: str, headers: dict[str, str], **kw: Any) -> Any:
    return client.request("DELETE", url, headers=headers, **kw)


def test_delete_routes_answer_204_409_and_refuse_other_roles(db: Database, tmp_path: Path) -> None:
    layout = StoreLayout(tmp_path / "data")
    app, tokens = records_app(db, layout.data_dir)
    first = put_document(db, layout, "K1")
    second = put_document(db, layout, "K2", provider_id=first.provider_id)
    client = TestClient(app)
    url = f"/api/documents/{first.document_id}"

    # nobody signed in: the app-wide CSRF check refuses before sign-in is even asked
    assert delete(client, url, {}, params={"reason": "r"}).status_code in (401, 403)
    for role in ("coordinator", "auditor"):
        answer = delete(client, url, bearer(tokens, role), params={"reason": "r"})
        assert answer.status_code == 403, role
    answer = delete(client, url, bearer(tokens, "manager"))
    assert answer.status_code == 422  # a reason is required

    # a hold on the provider: 409 with its reason, for the document and the provider
    hold = client.post(
        "/api/holds",
        json={
            "provider_id": first.provider_id,
            "reason": "survey look-back",
            "until": "2099-01-01",
        },
        headers=bearer(tokens, "manager"),
    )
    assert hold.status_code == 201, hold.text
    assert hold.json()["active"] is True
    for target in (url, f"/api/providers/{first.provider_id}"):
        answer = delete(client, target, bearer(tokens, "manager"), json={"reason": "asked"})
        assert answer.status_code == 409
        assert answer.json()["reason"] == "survey look-back"
        assert "survey look-back" in answer.json()["detail"]
    assert layout.original(first.sha).exists()
    assert client.get("/api/holds", headers=bearer(tokens, "coordinator")).status_code == 403
    assert [
        h["id"] for h in client.get("/api/holds", headers=bearer(tokens, "auditor")).json()
    ] == [hold.json()["id"]]

    released = client.post(
        f"/api/holds/{hold.json()['id']}/release", headers=bearer(tokens, "manager")
    )
    assert released.status_code == 200
    answer = delete(client, url, bearer(tokens, "manager"), json={"reason": "clinician asked"})
    assert answer.status_code == 204, answer.text
    assert not layout.original(first.sha).exists()
    assert delete(client, url, bearer(tokens, "manager"), params={"reason": "x"}).status_code == 404

    answer = delete(
        client, f"/api/providers/{first.provider_id}", bearer(tokens, "admin"),
        params={"reason": "left the organisation"},
    )  # fmt: skip
    assert answer.status_code == 204, answer.text
    assert not layout.original(second.sha).exists()
    with db.session() as s:
        assert s.get(Provider, first.provider_id) is None
        assert s.get(Credential, second.credential_id) is None
        assert s.get(Document, second.document_id).status == "deleted"  # type: ignore[union-attr]
        tombstones = s.execute(
            select(AuditEvent.actor, AuditEvent.action, AuditEvent.entity_id).where(
                AuditEvent.action.like("%.removed")
            )
        ).all()
    assert sorted(tombstones) == sorted(
        [
            ("manager", "document.removed", first.document_id),
            ("admin", "document.removed", second.document_id),
            ("admin", "provider.removed", first.provider_id),
        ]
    )


def test_pages_place_holds_and_remove_with_the_form(db: Database, tmp_path: Path) -> None:
    layout = StoreLayout(tmp_path / "data")
    app, _ = records_app(db, layout.data_dir)
    stored = put_document(db, layout, "L1")
    manager = signed_in(app, "manager")

    page = manager.get(f"/providers/{stored.provider_id}/records")
    assert page.status_code == 200
    assert (
        "Removal on request" in page.text and f"/documents/{stored.document_id}/remove" in page.text
    )

    token = form_token(manager, "/holds")
    placed = manager.post(
        "/holds",
        data={"csrf_token": token, "document_id": str(stored.document_id),
              "reason": "pending claim", "until": ""},
        follow_redirects=False,
    )  # fmt: skip
    assert placed.status_code == 303
    assert "pending claim" in manager.get("/holds").text

    confirm = manager.get(f"/documents/{stored.document_id}/remove")
    assert "pending claim" in confirm.text
    token = form_token(manager, f"/documents/{stored.document_id}/remove")
    refused = manager.post(
        f"/documents/{stored.document_id}/remove", data={"csrf_token": token, "reason": "asked"}
    )
    assert refused.status_code == 409 and "pending claim" in refused.text
    # without the CSRF token the form is refused outright
    forged = manager.post(f"/documents/{stored.document_id}/remove", data={"reason": "asked"})
    assert forged.status_code == 403

    hold_id = re.search(r'action="/holds/(\d+)/release"', manager.get("/holds").text)
    assert hold_id
    token = form_token(manager, "/holds")
    manager.post(f"/holds/{hold_id.group(1)}/release", data={"csrf_token": token})
    token = form_token(manager, f"/documents/{stored.document_id}/remove")
    done = manager.post(
        f"/documents/{stored.document_id}/remove", data={"csrf_token": token, "reason": "asked"}
    )
    assert done.status_code == 200 and "Removed: 1 document(s)" in done.text
    assert not layout.original(stored.sha).exists()

    # an auditor sees holds but cannot place one; a coordinator does not see them
    auditor = signed_in(app, "auditor")
    assert auditor.get("/holds").status_code == 200
    token = form_token(auditor, "/holds") if "csrf_token" in auditor.get("/holds").text else ""
    assert auditor.post("/holds", data={"csrf_token": token, "reason": "x"}).status_code == 403
    coordinator = signed_in(app, "coordinator")
    assert coordinator.get("/holds", follow_redirects=False).status_code == 403
