"""Reference and employment verification requests: asked, due, received with the letter's
document, and the overdue list the reminder pass uses."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from compliance.references import (
    list_requests,
    mark_received,
    overdue_requests,
    request_letter,
    suggest_request,
)
from models import AuditDetail, AuditEvent, Credential, Database, Document, Provider

MONDAY = date(2026, 11, 2)


def test_requests_become_overdue_until_the_letter_arrives(db: Database) -> None:
    with db.session() as s:
        p = Provider(name="Ada Quill", email="ada@example.org")
        s.add(p)
        s.flush()
        ref = request_letter(
            s,
            provider_id=p.id,
            kind="reference",
            recipient_name="Dr Boris Helm",
            recipient_email="helm@mercy.example.org",
            organisation="Mercy Hospital",
            actor="coordinator1",
            requested_on=MONDAY,
        )
        job = request_letter(
            s,
            provider_id=p.id,
            kind="employment",
            recipient_name="HR office",
            organisation="Lakeside Clinic",
            actor="coordinator1",
            requested_on=MONDAY,
            due_on=MONDAY + timedelta(days=30),
        )
        with pytest.raises(ValueError):
            request_letter(s, provider_id=p.id, kind="gossip", recipient_name="x", actor="c")
        with pytest.raises(ValueError):
            request_letter(s, provider_id=p.id, kind="reference", recipient_name=" ", actor="c")
        provider_id, ref_id, job_id = p.id, ref.id, job.id
        assert ref.due_on == MONDAY + timedelta(days=14)

    with db.session() as s:
        assert overdue_requests(s, MONDAY + timedelta(days=14)) == []
        late = overdue_requests(s, MONDAY + timedelta(days=20))
        assert [(r.id, r.status, r.days_overdue) for r in late] == [(ref_id, "overdue", 6)]
        assert late[0].recipient_email == "helm@mercy.example.org"
        assert late[0].provider_name == "Ada Quill"
        assert late[0].provider_email == "ada@example.org"
        later = overdue_requests(s, MONDAY + timedelta(days=40))
        assert [r.id for r in later] == [ref_id, job_id]

        letter = Document(sha256="b" * 64, filename="helm.pdf", doc_type="reference_letter")
        s.add(letter)
        s.flush()
        mark_received(
            s,
            ref_id,
            document_id=letter.id,
            actor="coordinator1",
            received_on=MONDAY + timedelta(9),
        )
        with pytest.raises(LookupError):
            mark_received(s, job_id, document_id=letter.id + 99, actor="coordinator1")

    with db.session() as s:
        assert [r.id for r in overdue_requests(s, MONDAY + timedelta(days=40))] == [job_id]
        views = {r.id: r for r in list_requests(s, provider_id=provider_id, today=MONDAY)}
        assert views[ref_id].status == "received" and views[ref_id].document_id == letter.id
        assert views[job_id].status == "open"
        assert [r.id for r in list_requests(s, open_only=True, today=MONDAY)] == [job_id]
        # who was asked is a personal value: kept in the event's detail, not its note
        events = s.scalars(select(AuditEvent).where(AuditEvent.action.like("reference.%"))).all()
        assert [e.action for e in events] == [
            "reference.requested",
            "reference.requested",
            "reference.received",
        ]
        assert all("Helm" not in (e.note or "") for e in events)
        details = s.scalars(select(AuditDetail.data)).all()
        assert {"recipient_name": "Dr Boris Helm", "recipient_email": "helm@mercy.example.org"} in (
            details
        )


def test_an_approved_letter_suggests_the_request_it_answers(db: Database) -> None:
    with db.session() as s:
        p = Provider(name="Ada Quill")
        s.add(p)
        s.flush()
        for name, org in (("Dr Boris Helm", "Mercy Hospital"), ("Dr Clara Stone", "St Jude")):
            request_letter(
                s,
                provider_id=p.id,
                kind="reference",
                recipient_name=name,
                organisation=org,
                actor="c",
                requested_on=MONDAY,
            )
        letter = Document(sha256="c" * 64, filename="letter.pdf")
        other = Document(sha256="d" * 64, filename="other.pdf")
        s.add_all([letter, other])
        s.flush()
        s.add(
            Credential(
                provider_id=p.id,
                document_id=letter.id,
                doc_type="reference_letter",
                referee_name="Boris Helm",
                issuer="Mercy Hospital",
            )
        )
        s.add(
            Credential(
                provider_id=p.id,
                document_id=other.id,
                doc_type="reference_letter",
                referee_name="Someone Else",
                issuer="Elsewhere",
            )
        )
        s.flush()
        found = suggest_request(s, letter.id)
        assert found is not None and found.recipient_name == "Dr Boris Helm"
        assert suggest_request(s, other.id) is None
