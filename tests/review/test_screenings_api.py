"""Screening through the real app, end to end with a real SMTP server (aiosmtpd): a
coordinator creates a clinician with a date of birth and former names, the lists are
imported and screened, the open hit is adjudicated, the confirmed exclusion shows in the
deviations and the managers get mail at once. Roles as elsewhere: coordinators adjudicate,
auditors read."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import update

from compliance.screening.run import screen
from compliance.sources.importer import import_file
from credflow.settings import Settings
from models import AuditDetail, Database, User
from tests.compliance.screening_support import SAM_SAMPLE, leie_files
from tests.compliance.test_notify import SmtpServer, smtp  # noqa: F401  (the SMTP fixture)
from tests.review.test_api_support import add_users, client_as, csrf_of, make_app, post_form


def test_adjudication_deviation_and_mail(db: Database, smtp: SmtpServer, tmp_path: Path) -> None:  # noqa: F811
    add_users(db)
    with db.session() as s:
        s.execute(
            update(User).where(User.username == "manager").values(email="manager@hospital.example")
        )
    settings = Settings(
        data_dir=tmp_path,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_from="credentialing@hospital.example",
    )
    app = make_app(db, tmp_path, settings=settings)
    cora = client_as(app, "coordinator")
    made = cora.post(
        "/api/providers",
        headers={"X-CSRF-Token": csrf_of(cora)},
        json={
            "name": "Carlos Piexotto",
            "states": ["NY"],
            "staff_category": "physician",
            "email": "carlos@example.org",
            "date_of_birth": "1971-02-20",
            "other_names": ["Carlos P. Pereira"],
            "active": True,
        },
    )
    assert made.status_code == 201, made.text
    p = made.json()
    assert (p["states"], p["date_of_birth"], p["other_names"]) == (
        ["NY"],
        "1971-02-20",
        ["Carlos P. Pereira"],
    )
    pid = p["id"]
    patched = cora.patch(
        f"/api/providers/{pid}",
        headers={"X-CSRF-Token": csrf_of(cora)},
        json={"other_names": ["Carlos Pereira"]},
    )
    assert patched.json()["changed"] == ["other_names"]

    import_file(db, SAM_SAMPLE)
    screen(db, date(2023, 12, 1))
    got = cora.get(f"/api/providers/{pid}/screenings").json()["items"]
    (hit,) = [i for i in got if i["source"] == "sam"]
    assert set(hit) >= {
        "id",
        "source",
        "result",
        "status",
        "reason",
        "record",
        "list_date",
        "screened_at",
    }
    assert (hit["result"], hit["status"]) == ("possible", "open")
    assert hit["record"]["Last"] == "PIEXOTTO" and hit["list_date"] == "2023-11-22"
    assert "state agrees (NY)" in hit["reason"]

    queue = cora.get("/screening")
    assert queue.status_code == 200 and "Carlos Piexotto" in queue.text
    assert "<mark>" not in queue.text  # nothing of the list's row disagrees with ours
    auditor = client_as(app, "auditor")
    refused = auditor.post(
        f"/api/screenings/{hit['id']}/adjudicate",
        headers={"X-CSRF-Token": csrf_of(auditor)},
        json={"decision": "confirmed", "reason": "x"},
    )
    assert refused.status_code == 403
    no_reason = cora.post(
        f"/api/screenings/{hit['id']}/adjudicate",
        headers={"X-CSRF-Token": csrf_of(cora)},
        json={"decision": "confirmed", "reason": " "},
    )
    assert no_reason.status_code == 422

    done = cora.post(
        f"/api/screenings/{hit['id']}/adjudicate",
        headers={"X-CSRF-Token": csrf_of(cora)},
        json={"decision": "confirmed", "reason": "GSA confirmed by phone"},
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "confirmed" and done.json()["messages_queued"] == 1
    (msg,) = smtp.messages  # sent at once, not at the next daily pass
    assert msg["To"] == "manager@hospital.example"
    assert msg["Subject"] == "credflow: CRITICAL - Carlos Piexotto confirmed on SAM.gov exclusions"
    assert "GSA confirmed by phone" in msg.get_content()

    manager = client_as(app, "manager")
    devs = manager.get("/api/deviations").json()["items"]
    (d,) = [x for x in devs if x["provider_id"] == pid]
    assert d["kind"] == "exclusion" and d["status"] == "open" and d["owner"] == "manager"
    after = cora.get(f"/api/providers/{pid}/screenings").json()["items"]
    assert [i["status"] for i in after if i["source"] == "sam"] == ["confirmed"]
    assert cora.get("/api/screenings").json()["items"] == []


def test_pages_and_history(db: Database, tmp_path: Path) -> None:
    add_users(db)
    app = make_app(db, tmp_path, settings=Settings(data_dir=tmp_path))
    cora = client_as(app, "coordinator")
    pid = cora.post(
        "/api/providers",
        headers={"X-CSRF-Token": csrf_of(cora)},
        json={"name": "Kenneth Hill", "states": ["TX"]},
    ).json()["id"]
    for f in leie_files(range(4, 5)):
        import_file(db, f)
    screen(db, date(2016, 5, 31))
    screen(db, date(2016, 6, 30))
    latest = cora.get(f"/api/providers/{pid}/screenings").json()["items"]
    history = cora.get(f"/api/providers/{pid}/screenings?history=true").json()["items"]
    assert len(latest) == 1 and len(history) == 2
    assert latest[0]["screened_at"] >= history[1]["screened_at"]
    auditor = client_as(app, "auditor")
    imports = auditor.get("/screening/imports")
    assert (
        imports.status_code == 200
        and "1604EXCL.csv" in imports.text
        and "2016-04-01" in imports.text
    )
    page = auditor.get("/screening").text
    assert "Kenneth Hill" in page
    listed = auditor.get("/api/source-imports").json()["items"]
    assert [(i["file_name"], i["list_date"], i["rows_read"]) for i in listed] == [
        ("1604REIN.csv", "2016-04-01", 44),
        ("1604EXCL.csv", "2016-04-01", 359),
    ]
    assert '<tr class="differs">' in page and "<mark>TX</mark>" in page  # the list says CA
    assert 'value="confirmed"' not in auditor.get("/screening").text  # auditors only read
    part = auditor.get(f"/screening/providers/{pid}?history=true")
    assert part.status_code == 200 and part.text.count("data-result-id") == 2
    assert 'hx-get="/screening/providers/' in auditor.get(f"/providers/{pid}").text
    # the page form: a coordinator confirms or dismisses with a reason
    (hit,) = latest
    dismissed = post_form(
        cora, f"/screening/{hit['id']}", {"decision": "dismissed", "reason": "different person"}
    )
    assert dismissed.status_code == 303
    assert cora.get("/api/screenings").json()["items"] == []
    assert cora.get(f"/api/providers/{pid}/screenings").json()["items"][0]["status"] == "dismissed"
    assert cora.get("/api/providers/999999/screenings").status_code == 404
    with db.session() as s:  # the date of birth lives only in the audit's personal detail
        assert s.query(AuditDetail).count() >= 1
