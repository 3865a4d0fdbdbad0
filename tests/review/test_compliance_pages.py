"""The compliance pages and API through the real app (review.app.create_app with this
plugin), signed in per role, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import select

from compliance import deviations as dev
from compliance.requirements import load_requirements
from compliance.status import evaluate, load_facts
from credflow.settings import Settings
from models import AuditDetail, AuditEvent, Database, Provider
from models.compliance import Deviation, TrainingSession
from tests.compliance.test_status import TODAY, add_cred, add_provider, complete_physician
from tests.review.test_api_support import add_users, client_as, csrf_of, make_app, post_form


def app_with_data(db: Database, tmp_path: Path) -> tuple[FastAPI, dict[str, int]]:
    add_users(db)
    with db.session() as s:
        ok = complete_physician(s, "Alice Compliant", department="Surgery")
        lapsing = add_provider(s, "Bob Lapsing", category="registered_nurse", states=("OR",),
                               department="ICU", email="bob@example.org")  # fmt: skip
        lic = add_cred(
            s, lapsing, "nursing_license", state="OR", expires=TODAY + timedelta(days=12)
        )
        gone = add_cred(s, ok, "medical_license", state="NV", expires=TODAY - timedelta(days=3))
    app = make_app(db, tmp_path, settings=Settings(data_dir=tmp_path))
    return app, {"ok": ok, "lapsing": lapsing, "lic": lic, "gone": gone}


def test_dashboard_csv_and_expiring_api(db: Database, tmp_path: Path) -> None:
    app, ids = app_with_data(db, tmp_path)
    coordinator = client_as(app, "coordinator")
    page = coordinator.get(f"/compliance?on={TODAY}")
    assert page.status_code == 200
    assert "Expiring within 30 days" in page.text and "Bob Lapsing" in page.text
    assert 'href="/compliance"' in page.text  # the nav link the plugin added
    icu = coordinator.get(f"/compliance?on={TODAY}&department=ICU")
    assert "Bob Lapsing" in icu.text and "Alice Compliant" not in icu.text

    export = coordinator.get(f"/compliance/export.csv?on={TODAY}&state=OR")
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert {r["provider"] for r in rows} == {"Bob Lapsing"}
    assert any(
        r["section"] == "expiring_30" and r["credential_id"] == str(ids["lic"]) for r in rows
    )

    api = coordinator.get(f"/api/expiring?within_days=30&on={TODAY}")
    assert api.status_code == 200
    items = {i["credential_id"]: i for i in api.json()["items"]}
    assert set(items) == {ids["lic"], ids["gone"]}  # lapsing soon, and already lapsed
    assert items[ids["lic"]]["provider_id"] == ids["lapsing"]
    assert items[ids["lic"]]["doc_type"] == "nursing_license"
    assert items[ids["lic"]]["expiration_date"] == str(TODAY + timedelta(days=12))
    assert items[ids["gone"]]["status"] == "expired"
    assert coordinator.get(f"/api/expiring?within_days=5&on={TODAY}").json()["items"][0][
        "credential_id"] == ids["gone"]  # fmt: skip
    assert coordinator.get("/api/expiring?within_days=-1").status_code == 422

    # nobody signed in: the API answers 401, a page sends to the sign-in form
    anonymous = client_as(app, None)
    assert anonymous.get("/api/expiring?within_days=30").status_code == 401
    assert anonymous.get("/compliance", follow_redirects=False).status_code == 303
    assert anonymous.get("/compliance/export.csv", follow_redirects=False).status_code == 303


def test_patch_provider_is_audited_and_checked(db: Database, tmp_path: Path) -> None:
    app, ids = app_with_data(db, tmp_path)
    coordinator = client_as(app, "coordinator")
    url = f"/api/providers/{ids['lapsing']}"
    headers = {"X-CSRF-Token": csrf_of(coordinator)}
    body = {"email": "bob.new@example.org", "staff_category": "advanced_practice_nurse",
            "department": "Cardiology", "states": ["or", "WA"], "active": False}  # fmt: skip
    r = coordinator.patch(url, json=body, headers=headers)
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["email"], out["staff_category"], out["states"], out["active"]) == (
        "bob.new@example.org", "advanced_practice_nurse", ["OR", "WA"], False)  # fmt: skip
    assert out["changed"] == ["active", "department", "email", "staff_category", "states"]
    with db.session() as s:
        p = s.get(Provider, ids["lapsing"])
        assert p is not None and p.department == "Cardiology" and not p.active
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "provider.updated")).one()
        assert event.actor == "coordinator" and event.entity_id == ids["lapsing"]
        assert "bob" not in (event.note or "")  # personal values live in the detail
        detail = s.get(AuditDetail, event.id)
        assert detail is not None and detail.data["email"] == [
            "bob@example.org",
            "bob.new@example.org",
        ]

    # only what is sent changes; bad values are refused with the field named
    assert coordinator.patch(url, json={"active": True}, headers=headers).json()["changed"] == [
        "active"]  # fmt: skip
    bad = coordinator.patch(url, json={"states": ["XX"]}, headers=headers)
    assert bad.status_code == 422 and "XX" in bad.text
    assert coordinator.patch(url, json={"email": "nope"}, headers=headers).status_code == 422
    assert coordinator.patch(url, json={"name": "x"}, headers=headers).status_code == 422
    assert coordinator.patch("/api/providers/99999", json={}, headers=headers).status_code == 404
    # without the CSRF header a browser session cannot change anything
    assert coordinator.patch(url, json={"active": False}).status_code == 403
    # an auditor reads but does not change
    auditor = client_as(app, "auditor")
    assert auditor.get(f"/compliance?on={TODAY}").status_code == 200
    denied = auditor.patch(url, json={"active": False}, headers={"X-CSRF-Token": csrf_of(auditor)})
    assert denied.status_code == 403

    # the provider page's form does the same, as an audited change
    r = post_form(coordinator, f"/compliance/providers/{ids['ok']}",
                  {"email": "alice@example.org", "staff_category": "physician",
                   "department": "Surgery", "states": "CA, NV", "active": "1"})  # fmt: skip
    assert r.status_code == 303 and "saved=email" in r.headers["location"]
    page = coordinator.get(r.headers["location"])
    assert page.status_code == 200 and "alice@example.org" in page.text
    assert "State medical licence (NV)" in page.text


def test_deviations_rules_training_and_outbox_pages(db: Database, tmp_path: Path) -> None:
    app, ids = app_with_data(db, tmp_path)
    version = load_requirements().version_on(TODAY)
    with db.session() as s:
        facts = load_facts(s)
        dev.detect(s, dev.find(facts, {p.id: evaluate(p, version, TODAY) for p in facts}), TODAY)
        first = s.scalars(select(Deviation).order_by(Deviation.id)).first()
        assert first is not None
    coordinator = client_as(app, "coordinator")
    assert coordinator.get("/compliance/deviations").status_code == 403
    manager = client_as(app, "manager")
    page = manager.get("/compliance/deviations")
    assert page.status_code == 200 and "Bob Lapsing" in page.text  # no BLS card
    r = post_form(manager, f"/compliance/deviations/{first.id}", {"action": "acknowledge"})
    assert r.status_code == 303
    with db.session() as s:
        assert s.get(Deviation, first.id).status == "acknowledged"  # type: ignore[union-attr]
        assert s.scalar(select(AuditEvent.actor).where(
            AuditEvent.action == "deviation.acknowledged")) == "manager"  # fmt: skip
    api = manager.get("/api/deviations")
    assert api.status_code == 200 and first.id in {d["id"] for d in api.json()["items"]}
    auditor = client_as(app, "auditor")
    assert auditor.get("/compliance/deviations").status_code == 200
    denied = post_form(auditor, f"/compliance/deviations/{first.id}",
                       {"action": "resolve", "note": "x"})  # fmt: skip
    assert denied.status_code == 403

    rules = manager.get("/compliance/rules?version=2025")
    assert rules.status_code == 200
    assert "verification days: 180 → 120" in rules.text and "What-if" in rules.text

    r = post_form(manager, "/compliance/training",
                  {"title": "BLS renewal", "starts_at": "2030-01-05T09:00", "place": "Room 4",
                   "renews_doc_type": "life_support_card", "renews_course": "BLS"})  # fmt: skip
    assert r.status_code == 303
    with db.session() as s:
        assert s.scalars(select(TrainingSession.title)).all() == ["BLS renewal"]
    assert "Room 4" in coordinator.get("/compliance/training").text
    bad = post_form(manager, "/compliance/training",
                    {"title": "x", "starts_at": "soon", "place": "y"})  # fmt: skip
    assert "error=" in bad.headers["location"]
    assert post_form(coordinator, "/compliance/training",
                     {"title": "x", "starts_at": "2030-01-01T09:00", "place": "y"}
                     ).status_code == 403  # fmt: skip

    outbox = manager.get("/compliance/outbox")
    assert outbox.status_code == 200 and "Outbox" in outbox.text
    status = manager.get(f"/api/providers/{ids['lapsing']}/compliance?on={TODAY}")
    assert status.status_code == 200 and status.json()["status"] == "non_compliant"
    items = {i["key"]: i for i in status.json()["items"]}
    assert items["bls"]["kind"] == "missing" and items["state_license:OR"]["kind"] == "expiring"
