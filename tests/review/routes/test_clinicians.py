"""The clinicians' pages through the real app (review.app.create_app), signed in per role,
on SQLite and PostgreSQL: the directory and its CSV, the one-page file, the details form
(roles, CSRF, the category check, the audit) and the old pages' redirects."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import select

from credflow.settings import Settings
from models import AuditDetail, AuditEvent, Database, Provider, StoreLayout
from tests.compliance.clinician_support import SampleFile, seed_file
from tests.review.test_api_support import add_users, client_as, csrf_of, make_app, post_form


def site(db: Database, tmp_path: Path) -> tuple[FastAPI, SampleFile]:
    add_users(db)
    data = tmp_path / "data"
    sample = seed_file(db, StoreLayout(data), datetime.now(UTC).date())
    with db.session() as s:
        for n in range(60):
            s.add(Provider(name=f"Nurse {n:02d}", staff_category="registered_nurse",
                           department="ICU" if n % 2 else "Emergency", states=["OR"]))  # fmt: skip
    app = make_app(db, data, settings=Settings(data_dir=data))
    return app, sample


def test_directory_search_filters_paging_and_csv(db: Database, tmp_path: Path) -> None:
    app, sample = site(db, tmp_path)
    auditor = client_as(app, "auditor")
    page = auditor.get("/providers")
    assert page.status_code == 200
    assert '<a href="/providers" aria-current="page">Clinicians</a>' in page.text  # nav
    assert "61 clinicians" in page.text and "page 1 of 2" in page.text
    assert f'href="/providers/{sample.provider_id}"' in page.text
    found = auditor.get("/providers?q=a123456")  # a licence number
    assert "1 clinician " in found.text and "Maria Elena Gonzalez" in found.text
    icu = auditor.get("/providers?department=ICU&category=registered_nurse&state=OR")
    assert "30 clinicians" in icu.text and "Nurse 01" in icu.text and "Nurse 00" not in icu.text
    # every filter stays in the links, so a view can be shared
    second = auditor.get("/providers?department=ICU&per_page=25&page=2&sort=name&desc=1")
    assert "page 2 of 2" in second.text
    assert 'href="/providers?department=ICU&amp;desc=1&amp;per_page=25"' in second.text
    # the compliance standing is judged on first view (a stale row judged inline)
    risky = auditor.get("/providers?standing=non_compliant&q=gonzalez")
    assert "Maria Elena Gonzalez" in risky.text
    # htmx asks for the results alone
    part = auditor.get(
        "/providers?q=nurse 0", headers={"HX-Request": "true", "HX-Target": "results"}
    )
    assert part.text.lstrip().startswith('<div id="results"') and "<html" not in part.text
    assert "10 clinicians" in part.text

    export = auditor.get("/providers.csv?department=Emergency")
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    assert "attachment" in export.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert len(rows) == 30 and {r["department"] for r in rows} == {"Emergency"}


def test_nobody_signed_in_is_sent_to_sign_in(db: Database, tmp_path: Path) -> None:
    app, sample = site(db, tmp_path)
    anonymous = client_as(app, None)
    for path in ("/providers?q=x", "/providers.csv", f"/providers/{sample.provider_id}"):
        r = anonymous.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=%2Fproviders")
    api_like = anonymous.get("/providers.csv", headers={"Authorization": "Bearer nope"})
    assert api_like.status_code == 401


def test_the_file_on_one_page(db: Database, tmp_path: Path) -> None:
    app, sample = site(db, tmp_path)
    manager = client_as(app, "manager")
    page = manager.get(f"/providers/{sample.provider_id}")
    assert page.status_code == 200
    html = page.text
    for section in ("details", "compliance", "credentials", "documents", "records",
                    "committee", "notifications", "holds", "actions"):  # fmt: skip
        assert f'<section id="{section}"' in html and f'href="#{section}"' in html
    assert "{# checklist #}" not in html  # the integrator's spot is a template comment
    assert "Ask the clinician for it" in html and "Ask for the renewal before it expires." in html
    assert f'href="/documents/{sample.document_id}/pages/1.png"' in html
    assert "Lakeside Clinic" in html and "initial appointment" in html
    assert "Your DEA registration expires soon" in html and "survey look-back" in html
    assert "a removal will be refused" in html
    for action in (f'action="/providers/{sample.provider_id}/details"',
                   f'action="/providers/{sample.provider_id}/references"',
                   f'href="/providers/{sample.provider_id}/summary"',
                   f'action="/providers/{sample.provider_id}/packet.pdf"',
                   f'action="/providers/{sample.provider_id}/remove"',
                   f'action="/compliance/providers/{sample.provider_id}/decisions"',
                   f'hx-get="/screening/providers/{sample.provider_id}"'):  # fmt: skip
        assert action in html, action
    # staff category is a choice of the configured requirement sets' categories
    select_ = re.search(r'<select id="d-category" name="staff_category">(.*?)</select>', html, re.S)
    assert select_ is not None
    values = re.findall(r'<option value="([^"]*)"', select_.group(1))
    assert values == ["", "advanced_practice_nurse", "physician", "physician_assistant",
                      "registered_nurse"]  # fmt: skip
    assert '<option value="physician" selected>' in select_.group(1)
    assert manager.get("/providers/999999").status_code == 404

    # an auditor reads the file but gets no forms that change it
    auditor = client_as(app, "auditor").get(f"/providers/{sample.provider_id}").text
    assert "Maria Elena Gonzalez" in auditor and "/details" not in auditor
    assert 'action="/providers/' + str(sample.provider_id) + '/remove"' not in auditor


def test_details_form_roles_csrf_category_and_audit(db: Database, tmp_path: Path) -> None:
    app, sample = site(db, tmp_path)
    url = f"/providers/{sample.provider_id}/details"
    form = {"email": "maria@example.org", "staff_category": "physician",
            "department": "Emergency Medicine", "states": "CA, nv", "active": "1",
            "other_names": "Maria Elena Ruiz"}  # fmt: skip
    coordinator = client_as(app, "coordinator")
    # without the CSRF token nothing changes
    assert coordinator.post(url, data=form, follow_redirects=False).status_code == 403
    # an auditor may not change it, even with the token
    auditor = client_as(app, "auditor")
    assert post_form(auditor, url, form).status_code == 403
    # a category no requirement set configures is refused, saying why
    bad = post_form(coordinator, url, {**form, "staff_category": "wizard"})
    assert bad.status_code == 422
    assert "not one of the configured requirement sets" in bad.text and 'role="alert"' in bad.text
    assert post_form(coordinator, url, {**form, "states": "CA XX"}).status_code == 422
    with db.session() as s:
        assert s.get_one(Provider, sample.provider_id).email == "mgonzalez@example.org"

    ok = post_form(coordinator, url, form)
    assert ok.status_code == 303
    assert ok.headers["location"].startswith(f"/providers/{sample.provider_id}?saved=")
    assert ok.headers["location"].endswith("#details")
    shown = coordinator.get(ok.headers["location"]).text
    assert "Saved: department, email, states." in shown
    assert "State medical licence (NV)" in shown  # judged again with the new state
    with db.session() as s:
        p = s.get_one(Provider, sample.provider_id)
        assert (p.email, p.department, p.states) == (
            "maria@example.org", "Emergency Medicine", ["CA", "NV"])  # fmt: skip
        assert p.other_names == ["Maria Elena Ruiz"]  # left as it was
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "provider.updated")).one()
        assert (event.actor, event.entity_id) == ("coordinator", sample.provider_id)
        assert event.note == "changed: department, email, states"
        detail = s.get_one(AuditDetail, event.id)
        assert detail.data["email"] == ["mgonzalez@example.org", "maria@example.org"]
    assert post_form(coordinator, "/providers/999999/details", form).status_code == 404
    # a manager may too; clearing the category is allowed
    manager = client_as(app, "manager")
    assert post_form(manager, url, {**form, "staff_category": ""}).status_code == 303


def test_old_pages_redirect_to_the_sections(db: Database, tmp_path: Path) -> None:
    app, sample = site(db, tmp_path)
    pid = sample.provider_id
    auditor = client_as(app, "auditor")
    r = auditor.get(f"/compliance/providers/{pid}?on=2026-01-02", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == f"/providers/{pid}?on=2026-01-02#compliance"
    r = auditor.get(f"/providers/{pid}/records", follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, f"/providers/{pid}#records")
    # the old forms still post to their routes and land on the file
    coordinator = client_as(app, "coordinator")
    asked = post_form(coordinator, f"/providers/{pid}/references",
                      {"kind": "employment", "recipient_name": "HR office"})  # fmt: skip
    assert asked.status_code == 303
    landed = coordinator.get(asked.headers["location"])
    assert landed.url.path == f"/providers/{pid}" and "HR office" in landed.text
    headers = {"X-CSRF-Token": csrf_of(coordinator)}
    assert coordinator.get(f"/api/providers/{pid}", headers=headers).status_code == 200
