"""Reference requests through the real app: asked and received by API and by the records
page, listed as open / overdue."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from models import Credential, Database, Document, Provider
from tests.review.test_removal_api import bearer, form_token, records_app, signed_in


def test_reference_routes(db: Database, tmp_path: Path) -> None:
    app, tokens = records_app(db, tmp_path / "data", roles=("coordinator", "auditor"))
    with db.session() as s:
        p = Provider(name="Ada Quill")
        s.add(p)
        s.flush()
        other = Document(sha256="f" * 64, filename="other.pdf", provider_id=p.id)
        letter = Document(
            sha256="e" * 64, filename="helm.pdf", provider_id=p.id, doc_type="reference_letter"
        )
        s.add_all([other, letter])
        s.flush()
        # the approved letter names the referee: the page preselects it for the request
        s.add(
            Credential(
                provider_id=p.id,
                document_id=letter.id,
                doc_type="reference_letter",
                referee_name="Boris Helm",
            )
        )
        provider_id, letter_id = p.id, letter.id
    client = TestClient(app)
    coordinator = bearer(tokens, "coordinator")

    late = client.post(
        f"/api/providers/{provider_id}/reference-requests",
        json={"kind": "reference", "recipient_name": "Dr Boris Helm",
              "recipient_email": "helm@example.org",
              "due_on": (date.today() - timedelta(days=3)).isoformat()},
        headers=coordinator,
    )  # fmt: skip
    assert late.status_code == 422  # due before it was asked
    made = client.post(
        f"/api/providers/{provider_id}/reference-requests",
        json={"kind": "reference", "recipient_name": "Dr Boris Helm"},
        headers=coordinator,
    )
    assert made.status_code == 201, made.text
    assert made.json()["status"] == "open"
    assert made.json()["due_on"] == (date.today() + timedelta(days=14)).isoformat()
    assert client.post(
        "/api/providers/999/reference-requests",
        json={"kind": "employment", "recipient_name": "HR"}, headers=coordinator,
    ).status_code == 404  # fmt: skip
    # auditors read but do not ask
    assert client.post(
        f"/api/providers/{provider_id}/reference-requests",
        json={"kind": "reference", "recipient_name": "x"}, headers=bearer(tokens, "auditor"),
    ).status_code == 403  # fmt: skip
    listed = client.get("/api/reference-requests?show=open", headers=bearer(tokens, "auditor"))
    assert [r["recipient_name"] for r in listed.json()] == ["Dr Boris Helm"]
    assert client.get("/api/reference-requests?show=overdue", headers=coordinator).json() == []

    # the records page: ask for an employment letter, then mark the reference received
    browser = signed_in(app, "coordinator")
    path = f"/providers/{provider_id}/records"
    token = form_token(browser, path)
    asked = browser.post(
        f"/providers/{provider_id}/references",
        data={"csrf_token": token, "kind": "employment", "recipient_name": "HR office",
              "organisation": "Lakeside Clinic", "due_on": "2020-01-01"},
        follow_redirects=False,
    )  # fmt: skip
    assert asked.status_code == 303 and "error=" in asked.headers["location"]
    asked = browser.post(
        f"/providers/{provider_id}/references",
        data={"csrf_token": token, "kind": "employment", "recipient_name": "HR office",
              "organisation": "Lakeside Clinic"},
        follow_redirects=False,
    )  # fmt: skip
    assert asked.status_code == 303 and "error" not in asked.headers["location"]
    page = browser.get(path).text
    assert "Lakeside Clinic" in page
    request_id = re.search(r'action="/references/(\d+)/received"', page)
    assert request_id
    assert f'<option value="{letter_id}" selected>' in page
    done = browser.post(
        f"/references/{request_id.group(1)}/received",
        data={"csrf_token": token, "document_id": str(letter_id), "provider_id": str(provider_id)},
        follow_redirects=False,
    )
    assert done.status_code == 303
    rows = client.get(
        f"/api/reference-requests?provider_id={provider_id}", headers=coordinator
    ).json()
    assert {r["recipient_name"]: r["status"] for r in rows} == {
        "Dr Boris Helm": "received",
        "HR office": "open",
    }
    assert "Dr Boris Helm" not in browser.get("/references?show=open").text
