"""The summary and the committee packet through the real app: the summary page, JSON and
PDF for every signed-in role, the packet PDF for managers and auditors only."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pdfplumber
from fastapi.testclient import TestClient

from models import Database
from tests.compliance.test_summary import CONFIDENTIAL, make_clinician
from tests.review.test_removal_api import bearer, records_app, signed_in


def pdf_text(content: bytes) -> str:
    with pdfplumber.open(io.BytesIO(content)) as doc:
        return "\n".join(page.extract_text() or "" for page in doc.pages)


def test_summary_and_packet_routes(db: Database, tmp_path: Path) -> None:
    app, tokens = records_app(db, tmp_path / "data")
    provider_id = make_clinician(db)
    client = TestClient(app)

    assert client.get(f"/api/providers/{provider_id}/summary").status_code == 401
    answer = client.get(
        f"/api/providers/{provider_id}/summary", headers=bearer(tokens, "coordinator")
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["name"] == "María José Núñez-O'Brien"
    assert {(x["kind"], x["number"]) for x in body["licences"]} >= {
        ("Medical licence", "35.123456"),
        ("DEA registration", "ending 4563"),
    }
    assert all(x["verified_on"] == "2026-03-04" for x in body["licences"])
    assert (
        client.get("/api/providers/999/summary", headers=bearer(tokens, "auditor")).status_code
        == 404
    )

    pdf = client.get(f"/api/providers/{provider_id}/summary.pdf", headers=bearer(tokens, "auditor"))
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = pdf_text(pdf.content)
    assert "35.123456" in text and "ending 4563" in text

    browser = signed_in(app, "coordinator")
    page = browser.get(f"/providers/{provider_id}/summary")
    assert page.status_code == 200
    assert "Núñez-O&#39;Brien" in page.text and "ending 4563" in page.text
    for value in CONFIDENTIAL:
        assert value not in json.dumps(body)
        assert value not in text
        assert value not in page.text

    packet_url = f"/providers/{provider_id}/packet.pdf?decision=2027-01-15"
    assert client.get(packet_url, headers=bearer(tokens, "coordinator")).status_code == 403
    packet = client.get(packet_url, headers=bearer(tokens, "manager"))
    assert packet.status_code == 200, packet.text
    flat = " ".join(pdf_text(packet.content).split())
    # the committee sees what the patient does not
    assert (
        "AB1234563" in flat and "Harriet Xqvlonde" in flat and "Decision date: 2027-01-15" in flat
    )
    assert client.get(packet_url, headers=bearer(tokens, "auditor")).status_code == 200
    bad = client.get(
        f"/providers/{provider_id}/packet.pdf?decision=soon", headers=bearer(tokens, "manager")
    )
    assert bad.status_code == 422
    as_json = client.get(
        f"/api/providers/{provider_id}/packet?decision=2027-01-15",
        headers=bearer(tokens, "manager"),
    ).json()
    assert as_json["decision_date"] == "2027-01-15"
    assert any(f["kind"] == "expired" for f in as_json["flags"])
