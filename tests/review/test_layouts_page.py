"""The managers' page of learned layouts: what was learned (labels and field names, no
personal values), and forgetting a layout, which is an audit event. The review screen
says where a learned proposal came from."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select, update

from models import AuditEvent, Database, DocumentField, StoreLayout
from models.learned_layout import layout_summaries
from tests.compliance.test_removal_learning import read_and_approve
from tests.review.test_api_support import add_users, client_as, csrf_of, make_app, seed_document


def test_a_manager_sees_and_forgets_a_learned_layout(db: Database, tmp_path: Path) -> None:
    add_users(db)
    read_and_approve(db, "doc_0034.pdf")
    with db.session() as s:
        (layout,) = layout_summaries(s)
    app = make_app(db, tmp_path)
    assert client_as(app, "coordinator").get("/layouts").status_code == 403

    manager = client_as(app, "manager")
    page = manager.get("/layouts")
    assert page.status_code == 200
    assert "dea_registration" in page.text and f'href="/layouts/{layout.id}"' in page.text
    assert "Ifeoma" not in page.text and "AT6360781" not in page.text  # no personal values
    detail = manager.get(f"/layouts/{layout.id}")
    assert "credential_number" in detail.text and "expiration_date" in detail.text

    done = manager.post(
        f"/layouts/{layout.id}/forget",
        data={"csrf_token": csrf_of(manager)},
        follow_redirects=False,
    )
    assert done.status_code == 303
    with db.session() as s:
        assert layout_summaries(s) == []
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "layout.forgotten")).one()
        assert event.actor == "manager" and event.entity_id == layout.id
    assert manager.get(f"/layouts/{layout.id}").status_code == 404


def test_the_review_screen_says_where_a_proposal_came_from(db: Database, tmp_path: Path) -> None:
    add_users(db)
    doc_id = seed_document(db, StoreLayout(tmp_path))
    note = "from 3 confirmed documents of this layout"
    with db.session() as s:
        s.execute(
            update(DocumentField)
            .where(DocumentField.document_id == doc_id, DocumentField.name == "credential_number")
            .values(source=note)
        )
    client = client_as(make_app(db, tmp_path), "coordinator")
    page = client.get(f"/review/{doc_id}")
    assert page.status_code == 200
    assert f"Learned: {note}" in page.text
    api = client.get(f"/api/documents/{doc_id}").json()
    assert api["fields"]["credential_number"]["source"] == note
    assert api["fields"]["person_name"]["source"] is None
