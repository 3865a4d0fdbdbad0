"""Search terms follow the fields they come from, and prefix searches find documents by a
part of a name or a number, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import delete, insert, select

from models import Database, Document, DocumentField, Provider
from models.search import (
    NAME,
    NUMBER,
    SearchTerm,
    matching_documents,
    matching_providers,
    next_prefix,
    rebuild,
)


def _document(db: Database, name: str, fields: dict[str, str]) -> int:
    with db.session() as session:
        doc = Document(filename=name, status="awaiting_review")
        doc.fields = [DocumentField(name=k, value=v) for k, v in fields.items()]
        session.add(doc)
        session.flush()
        return doc.id


def _terms(db: Database, doc_id: int) -> set[tuple[str, str]]:
    with db.session() as session:
        rows = session.execute(
            select(SearchTerm.term, SearchTerm.kind).where(SearchTerm.document_id == doc_id)
        )
        return {(term, kind) for term, kind in rows}


def _found(db: Database, q: str) -> set[int]:
    query = matching_documents(q)
    if query is None:
        return set()
    with db.session() as session:
        return set(session.scalars(query))


def test_terms_are_written_follow_updates_and_vanish(db: Database) -> None:
    doc = _document(
        db,
        "licence.pdf",
        {
            "person_name": "María-José GONZÁLEZ",
            "credential_number": "35.123456",
            "issuer": "Medical Board of California",
        },
    )
    assert _terms(db, doc) == {
        ("maria", NAME),
        ("jose", NAME),
        ("mariajose", NAME),
        ("gonzalez", NAME),
        ("35123456", NUMBER),
    }  # the issuer is not searched

    with db.session() as session:
        field = session.scalars(
            select(DocumentField).where(
                DocumentField.document_id == doc, DocumentField.name == "person_name"
            )
        ).one()
        field.value = "Kwame Mensah"
    assert {t for t, kind in _terms(db, doc) if kind == NAME} == {"kwame", "mensah"}

    with db.session() as session:  # a bulk delete, as a worker re-reading a document does
        session.execute(delete(DocumentField).where(DocumentField.document_id == doc))
        session.add(DocumentField(document_id=doc, name="npi", value="1234567893"))
    assert _terms(db, doc) == {("1234567893", NUMBER)}

    with db.session() as session:
        session.delete(session.get_one(Document, doc))
    with db.session() as session:
        assert session.scalar(select(SearchTerm.id)) is None


def test_prefix_search_by_name_part_and_number(db: Database) -> None:
    maria = _document(
        db, "a.pdf", {"person_name": "Maria Elena Gonzalez", "credential_number": "35.123456"}
    )
    kwame = _document(db, "b.pdf", {"person_name": "Kwame Mensah", "npi": "1234567893"})
    dea = _document(db, "c.pdf", {"referee_name": "Grace Hopper", "credential_number": "AB1234563"})
    other = _document(db, "d.pdf", {"person_name": "Gonzalo Ruiz"})

    assert _found(db, "gonzalez") == {maria}
    assert _found(db, "Gonz") == {maria, other}
    assert _found(db, "GONZÁLEZ") == {maria}  # case and accents ignored
    assert _found(db, "elena gonz") == {maria}  # every word must match
    assert _found(db, "gonzalez kwame") == set()
    assert _found(db, "35.1234") == {maria}
    assert _found(db, "35 1234") == {maria}
    assert _found(db, "1234567893") == {kwame}
    assert _found(db, "12345") == {kwame, dea}  # the DEA number's digits alone
    assert _found(db, "ab12") == {dea}
    assert _found(db, "grace") == {dea}  # referees too
    assert _found(db, "zzz") == set()
    assert _found(db, "%") == set()
    assert next_prefix("gonz") == "gon{"


def test_provider_name_terms(db: Database) -> None:
    with db.session() as session:
        ana = Provider(name="Ana Núñez")
        bo = Provider(name="Bo Nunn")
        session.add_all([ana, bo])
    with db.session() as session:
        query = matching_providers("nun")
        assert query is not None
        assert set(session.scalars(query)) == {ana.id, bo.id}
        session.get_one(Provider, bo.id).name = "Bo Smith"
    with db.session() as session:
        assert set(session.scalars(matching_providers("nun"))) == {ana.id}  # type: ignore[arg-type]
        assert set(session.scalars(matching_providers("ana nune"))) == {ana.id}  # type: ignore[arg-type]


def test_rebuild_indexes_rows_loaded_in_bulk(db: Database) -> None:
    """Core inserts bypass the session hook: `rebuild` (as the migration's backfill) fills in."""
    with db.engine.begin() as conn:
        conn.execute(insert(Document), [{"id": 7, "filename": "x.pdf", "status": "approved"}])
        conn.execute(
            insert(DocumentField),
            [{"document_id": 7, "name": "person_name", "value": "Ngozi Okafor"}],
        )
        conn.execute(insert(Provider), [{"name": "Ngozi Okafor", "npi": "1234567893"}])
    assert _found(db, "okafor") == set()
    with db.engine.begin() as conn:
        assert rebuild(conn) == 4  # two name words for the document, two for the provider
    assert _found(db, "okafor") == {7}
    with db.session() as session:
        assert len(set(session.scalars(matching_providers("ngozi")))) == 1  # type: ignore[arg-type]
