"""The audit log through the real app: filtered JSON pages, CSV export and the page, for
managers and auditors only."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from fastapi.testclient import TestClient

from models import Database, record_event
from tests.review.test_removal_api import bearer, records_app, signed_in


def test_audit_routes_filter_and_export(db: Database, tmp_path: Path) -> None:
    app, tokens = records_app(db, tmp_path / "data", roles=("coordinator", "manager", "auditor"))
    with db.session() as s:
        for i in range(5):
            record_event(
                s, actor="coordinator", action="field.corrected", entity_type="document",
                entity_id=40 + i, note="credential_number",
                detail={"machine": f"AB12{i}", "person": f"AB34{i}"}, document_id=40 + i,
            )  # fmt: skip
    client = TestClient(app)
    assert client.get("/api/audit", headers=bearer(tokens, "coordinator")).status_code == 403

    page1 = client.get(
        "/api/audit", params={"action": "field.*", "limit": 3}, headers=bearer(tokens, "auditor")
    ).json()
    assert [e["entity_id"] for e in page1["events"]] == [44, 43, 42]
    assert "detail" not in page1["events"][0]
    page2 = client.get(
        "/api/audit",
        params={"action": "field.*", "limit": 3, "before_id": page1["next_before_id"]},
        headers=bearer(tokens, "auditor"),
    ).json()
    assert [e["entity_id"] for e in page2["events"]] == [41, 40]
    one = client.get(
        "/api/audit",
        params={"entity_type": "document", "entity_id": 42, "detail": "true"},
        headers=bearer(tokens, "manager"),
    ).json()["events"]
    assert [e["detail"] for e in one] == [{"machine": "AB122", "person": "AB342"}]
    assert (
        client.get(
            "/api/audit", params={"since": "yesterday"}, headers=bearer(tokens, "manager")
        ).status_code
        == 422
    )

    exported = client.get(
        "/api/audit", params={"format": "csv", "actor": "coordinator", "action": "field.*"},
        headers=bearer(tokens, "manager"),
    )  # fmt: skip
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["entity_id"] for r in rows] == ["40", "41", "42", "43", "44"]
    assert "AB12" not in exported.text

    browser = signed_in(app, "auditor")
    page = browser.get("/audit?action=field.corrected&detail=true")
    assert page.status_code == 200
    assert page.text.count("field.corrected") >= 5 and "AB342" in page.text
    assert "/audit" in browser.get("/references").text  # the nav shows the log to auditors
    csv_page = browser.get("/audit.csv?entity_type=document")
    assert csv_page.status_code == 200 and len(csv_page.text.strip().splitlines()) == 6
    assert signed_in(app, "coordinator").get("/audit").status_code == 403
