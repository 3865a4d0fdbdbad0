"""Letters: the missing-items letter leaves through the outbox to a real SMTP server
(aiosmtpd) naming each agency, is sent again on request with each sending recorded, and
prints as a PDF; reference and employment requests get their letter with a form; overdue
requests and ageing verifications remind the coordinator in the daily pass, never the
candidate. SQLite and PostgreSQL."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pdfplumber
import pytest
from sqlalchemy import select

from compliance.checklist import build_checklist
from compliance.letters import (
    LetterError,
    letters_sent,
    render_missing_items_pdf,
    render_request_pdf,
    send_missing_items_letter,
    send_request_letter,
)
from compliance.mail import SmtpConfig
from compliance.notify import NotifyOptions, run_pass, send_outbox
from compliance.references import request_letter
from compliance.requirements import load_requirements
from models import AuditEvent, Database, User
from models.compliance import OutboxMessage
from tests.compliance.applicant_support import TODAY, add_applicant, add_documents
from tests.compliance.test_notify import SmtpServer, settings_for, smtp  # noqa: F401

RULES = load_requirements()


def _send(db: Database, server: SmtpServer, tmp_path: Path) -> None:
    settings = settings_for(server, tmp_path)
    send_outbox(db, SmtpConfig.from_settings(settings), NotifyOptions.from_settings(settings))


def test_missing_items_letter_by_mail_twice_and_recorded(
    db: Database,
    smtp: SmtpServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    with db.session() as s:
        pid = add_applicant(s)
        add_documents(s, pid, only={"license_ca", "board", "degree"})
        c = build_checklist(s, RULES, pid, TODAY)
        first = send_missing_items_letter(s, c, actor="cora", domain="hospital.example")
    _send(db, smtp, tmp_path)
    with db.session() as s:
        again = send_missing_items_letter(
            s, build_checklist(s, RULES, pid, TODAY), actor="cora", domain="hospital.example"
        )
    _send(db, smtp, tmp_path)
    with db.session() as s:
        sent = letters_sent(s, pid)
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "letter.sent")).all()
        statuses = s.scalars(select(OutboxMessage.status).order_by(OutboxMessage.id)).all()
    assert len(smtp.messages) == 2 and statuses == ["sent", "sent"]
    msg = smtp.messages[0]
    assert msg["To"] == "ana.ruiz@example.org"
    assert msg["Subject"] == "Your credentialing file: 7 items still needed"
    body = msg.get_content()
    # missing: the NY licence, both DEA registrations, malpractice, BLS, references, jobs
    assert "State medical licence (NY) (missing): New York State Education Department" in body
    assert "DEA registration (CA) (missing): Drug Enforcement Administration (DEA)" in body
    assert "BLS card (missing): American Heart Association (AHA) or American Red Cross" in body
    assert "Professional liability insurance (missing): the insurance carrier" in body
    assert "State medical licence (CA)" not in body  # received: not asked again
    assert first.items == again.items == 7 and first.outbox_id != again.outbox_id
    assert [x.id for x in sent] == [again.letter_id, first.letter_id]
    assert [e.entity_id for e in events] == [pid, pid]


def test_letter_without_address_and_the_pdf(db: Database) -> None:
    with db.session() as s:
        pid = add_applicant(s, email=None)
        c = build_checklist(s, RULES, pid, TODAY)
        with pytest.raises(LetterError):
            send_missing_items_letter(s, c, actor="cora")
    pdf = render_missing_items_pdf(c)
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        text = "\n".join(p.extract_text() or "" for p in doc.pages)
    assert "Your credentialing file: items still needed" in text
    assert "Medical Board of California" in text and "New York State Education" in text
    assert "Drug Enforcement Administration" in text


def test_request_letters_and_coordinator_reminders(
    db: Database,
    smtp: SmtpServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    asked = TODAY - timedelta(days=30)
    with db.session() as s:
        s.add(User(username="cora", password_hash="x", role="coordinator",
                   email="cora@hospital.example"))  # fmt: skip
        pid = add_applicant(s)
        req = request_letter(
            s, provider_id=pid, kind="employment", recipient_name="HR, Kaiser Permanente",
            recipient_email="hr@kaiser.example.org", organisation="Kaiser Permanente",
            actor="cora", requested_on=asked, due_on=asked + timedelta(days=14),
        )  # fmt: skip
        s.flush()
        send_request_letter(s, req.id, actor="cora", domain="hospital.example")
        pdf = render_request_pdf(s, req.id)
    run_pass(db, settings_for(smtp, tmp_path), TODAY)
    by_to = {m["To"]: m for m in smtp.messages}
    assert set(by_to) == {"hr@kaiser.example.org", "cora@hospital.example"}
    form = by_to["hr@kaiser.example.org"].get_content()
    assert by_to["hr@kaiser.example.org"]["Subject"] == (
        "Employment verification request for Ana Ruiz"
    )
    assert "Eligible for rehire?" in form and "Dates of employment" in form
    reminder = by_to["cora@hospital.example"]
    assert reminder["Subject"] == "credflow: 1 reference/employment request overdue"
    assert "Ana Ruiz: employment from HR, Kaiser Permanente" in reminder.get_content()
    assert "16 days overdue" in reminder.get_content()
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        assert "Reason for leaving" in (doc.pages[0].extract_text() or "")
    # the pass again the same day queues nothing twice; the applicant got nothing
    run_pass(db, settings_for(smtp, tmp_path), TODAY)
    assert len(smtp.messages) == 2
    assert all(m["To"] != "ana.ruiz@example.org" for m in smtp.messages)
