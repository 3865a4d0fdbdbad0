"""Domain errors answer with one status each (review/errors.py): JSON for the API, the
error page for pages, and a form that shows a problem keeps showing it."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from compliance import errors, references, removal
from compliance.requirements import RequirementsError
from compliance.summary import ProviderNotFound
from models import Database
from review import approve, auth
from review.auth import AccountError
from review.errors import status_of
from tests.review.test_api_support import add_users, client_as, make_app, post_form


def test_each_kind_of_domain_error_has_its_status() -> None:
    assert status_of(ProviderNotFound("x")) == 404
    assert status_of(references.RequestNotFound("x")) == 404
    assert status_of(removal.NotFound("x")) == 404
    assert status_of(removal.RemovalRefused("x")) == 409
    assert status_of(errors.Invalid("x")) == 422
    assert status_of(AccountError("x")) == 422
    assert status_of(RequirementsError("x")) == 500
    assert status_of(approve.Conflict("x")) == 409
    assert status_of(approve.Invalid("x", {"npi": "bad"})) == 422
    assert status_of(RuntimeError("x")) == 500


def test_api_and_pages_answer_domain_errors(db: Database, tmp_path: Path) -> None:
    add_users(db)
    client = client_as(make_app(db, tmp_path), "manager")
    api = client.get("/api/providers/4242/compliance")
    assert api.status_code == 404
    assert api.json() == {"detail": "No provider 4242."}
    page = client.get("/providers/4242")
    assert page.status_code == 404
    assert "text/html" in page.headers["content-type"]
    assert "No clinician 4242." in page.text
    with db.session() as s:
        token = auth.create_token(s, "manager")
    script = TestClient(client.app, headers={"Authorization": f"Bearer {token}"})
    missing = script.post("/api/holds", json={"reason": "survey", "provider_id": 4242})
    assert missing.status_code == 404
    assert missing.json() == {"detail": "provider 4242 not found"}
    invalid = script.post("/api/holds", json={"reason": " ", "provider_id": 4242})
    assert invalid.status_code == 422
    assert invalid.json() == {"detail": "a hold needs a reason"}
    hold = post_form(client, "/holds", {"reason": "", "provider_id": "4242"})
    assert hold.status_code == 303
    assert "error=" in hold.headers["location"]
