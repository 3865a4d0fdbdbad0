"""Search terms: the words of people's names and the compact numbers of documents and
providers, kept in one indexed table so a search is a range scan instead of a LIKE over
every field value.

Terms are written by a session hook on every flush, so ingest workers, approval and removal
keep them right without knowing about them; rows vanish with their field, document or
provider through ON DELETE CASCADE (which also covers bulk `delete(DocumentField)`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    ForeignKey,
    Index,
    Integer,
    Select,
    String,
    Table,
    Text,
    and_,
    column,
    delete,
    event,
    insert,
    inspect,
    intersect,
    or_,
    select,
    union,
)
from sqlalchemy import table as sa_table
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from models.base import Base
from models.document import DocumentField
from models.provider import Provider

NAME = "name"  # a word of a person's or referee's name on a document
NUMBER = "number"  # a licence, DEA, NPI or policy number on a document, compacted
PROVIDER = "provider"  # a word of a provider's name

NAME_FIELDS = ("person_name", "referee_name")
NUMBER_FIELDS = ("credential_number", "npi")
TERM_LENGTH = 100
# byte order on PostgreSQL whatever the database's collation: the prefix range relies on it
TERM_TYPE = String(TERM_LENGTH).with_variant(String(TERM_LENGTH, collation="C"), "postgresql")

_WORD = re.compile(r"[^\W_]+")


class SearchTerm(Base):
    """One searchable term of a document field or of a provider's name."""

    __tablename__ = "search_terms"
    __table_args__ = (Index("ix_search_terms_term", "term", "kind", "document_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    field_id: Mapped[int | None] = mapped_column(
        ForeignKey("document_fields.id", ondelete="CASCADE"), index=True
    )
    provider_id: Mapped[int | None] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"), index=True
    )
    term: Mapped[str] = mapped_column(TERM_TYPE)
    kind: Mapped[str] = mapped_column(String(10))


def fold(text: str) -> str:
    """Lower case without accents: "González" and "GONZALEZ" are the same word."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def name_terms(text: str) -> set[str]:
    """Each word of a name, and hyphenated or apostrophed parts joined ("o'brien" -> "obrien")."""
    folded = fold(text)
    terms = set(_WORD.findall(folded))
    for chunk in folded.split():
        joined = "".join(_WORD.findall(chunk))
        if joined:
            terms.add(joined)
    return {t[:TERM_LENGTH] for t in terms}


def compact_number(text: str) -> str:
    """A number without spaces or punctuation, lower case: "35.123456" -> "35123456"."""
    return "".join(_WORD.findall(fold(text)))[:TERM_LENGTH]


def number_terms(text: str) -> set[str]:
    """The compact number, and its digits alone when it has letters ("ab1234563" -> "1234563")."""
    compact = compact_number(text)
    if not compact:
        return set()
    terms = {compact}
    digits = re.sub(r"\D", "", compact)
    if len(digits) >= 4 and digits != compact:
        terms.add(digits)
    return terms


def field_terms(name: str, value: str | None) -> list[tuple[str, str]]:
    """(term, kind) pairs of one document field; fields that are not searched give none."""
    if not value:
        return []
    if name in NAME_FIELDS:
        return [(t, NAME) for t in sorted(name_terms(value))]
    if name in NUMBER_FIELDS:
        return [(t, NUMBER) for t in sorted(number_terms(value))]
    return []


def field_rows(
    field_id: int, document_id: int, name: str, value: str | None
) -> list[dict[str, Any]]:
    return [
        {"document_id": document_id, "field_id": field_id, "term": term, "kind": kind}
        for term, kind in field_terms(name, value)
    ]


def provider_rows(provider_id: int, name: str | None) -> list[dict[str, Any]]:
    return [
        {"provider_id": provider_id, "term": t, "kind": PROVIDER}
        for t in sorted(name_terms(name or ""))
    ]


def next_prefix(prefix: str) -> str:
    """The smallest string after every string starting with `prefix`."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def starts_with(prefix: str) -> ColumnElement[bool]:
    """Terms starting with `prefix`, as a range both databases answer from the term index."""
    return and_(SearchTerm.term >= prefix, SearchTerm.term < next_prefix(prefix))


def query_words(q: str) -> list[str]:
    return sorted({w[:TERM_LENGTH] for w in _WORD.findall(fold(q))})


def matching_documents(q: str) -> Select[Any] | None:
    """Ids of documents with a name holding a word starting with each word of `q`, or a
    number starting with `q` (spaces and punctuation ignored); None when `q` has no word."""
    words = query_words(q)
    if not words:
        return None
    by_word = [
        select(SearchTerm.document_id).where(starts_with(w), SearchTerm.kind == NAME) for w in words
    ]
    names: Any = by_word[0] if len(by_word) == 1 else select(intersect(*by_word).subquery().c[0])
    numbers = select(SearchTerm.document_id).where(
        starts_with(compact_number(q)), SearchTerm.kind == NUMBER
    )
    return select(union(names, numbers).subquery().c[0])


def matching_providers(q: str) -> Select[Any] | None:
    """Ids of providers whose name has a word starting with each word of `q`."""
    words = query_words(q)
    if not words:
        return None
    by_word = [
        select(SearchTerm.provider_id).where(starts_with(w), SearchTerm.kind == PROVIDER)
        for w in words
    ]
    if len(by_word) == 1:
        return by_word[0]
    return select(intersect(*by_word).subquery().c[0])


def rebuild(conn: Connection, batch_size: int = 5_000) -> int:
    """Write every term anew from the stored fields and providers; returns the rows written.

    For the migration's backfill and for bulk loads that bypass the session (Core inserts);
    reads in id order batches, so memory stays flat."""
    table = cast(Table, SearchTerm.__table__)
    conn.execute(delete(table))
    empty = {"document_id": None, "field_id": None, "provider_id": None}
    fields = sa_table(
        "document_fields",
        column("id", Integer),
        column("document_id", Integer),
        column("name", String),
        column("value", Text),
    )
    providers = sa_table("providers", column("id", Integer), column("name", String))
    written = 0
    last = 0
    while batch := conn.execute(
        select(fields.c.id, fields.c.document_id, fields.c.name, fields.c.value)
        .where(
            fields.c.id > last,
            fields.c.name.in_(NAME_FIELDS + NUMBER_FIELDS),
            fields.c.value.is_not(None),
        )
        .order_by(fields.c.id)
        .limit(batch_size)
    ).all():
        last = batch[-1].id
        rows = [empty | r for f in batch for r in field_rows(f.id, f.document_id, f.name, f.value)]
        if rows:
            conn.execute(insert(table), rows)
            written += len(rows)
    last = 0
    while people := conn.execute(
        select(providers.c.id, providers.c.name)
        .where(providers.c.id > last)
        .order_by(providers.c.id)
        .limit(batch_size)
    ).all():
        last = people[-1].id
        rows = [empty | r for p in people for r in provider_rows(p.id, p.name)]
        if rows:
            conn.execute(insert(table), rows)
            written += len(rows)
    return written


def providers_with_any_word(words: Iterable[str]) -> Select[Any] | None:
    """Ids of providers whose name has a word starting with any of `words`."""
    folded = sorted({w for word in words for w in query_words(word)})
    if not folded:
        return None
    return select(SearchTerm.provider_id).where(
        or_(*[starts_with(w) for w in folded]), SearchTerm.kind == PROVIDER
    )


def _changed(obj: Any, *names: str) -> bool:
    attrs = inspect(obj).attrs
    return any(attrs[n].history.has_changes() for n in names)


def _keep_terms(session: Session, _context: Any) -> None:
    """After each flush: rewrite the terms of fields and providers added, changed or deleted."""
    stale_fields: list[int] = []
    stale_providers: list[int] = []
    rows: list[dict[str, Any]] = []
    for obj in _of(session.new, session.dirty):
        if isinstance(obj, DocumentField):
            if obj not in session.new:
                if not _changed(obj, "name", "value"):
                    continue
                stale_fields.append(obj.id)
            rows += field_rows(obj.id, obj.document_id, obj.name, obj.value)
        elif isinstance(obj, Provider):
            if obj not in session.new:
                if not _changed(obj, "name"):
                    continue
                stale_providers.append(obj.id)
            rows += provider_rows(obj.id, obj.name)
    for obj in session.deleted:
        if isinstance(obj, DocumentField):
            stale_fields.append(obj.id)
        elif isinstance(obj, Provider):
            stale_providers.append(obj.id)
    if not (stale_fields or stale_providers or rows):
        return
    conn = session.connection()
    table = cast(Table, SearchTerm.__table__)
    if stale_fields:
        conn.execute(delete(table).where(table.c.field_id.in_(stale_fields)))
    if stale_providers:
        conn.execute(delete(table).where(table.c.provider_id.in_(stale_providers)))
    if rows:
        conn.execute(
            insert(table),
            [{"document_id": None, "field_id": None, "provider_id": None} | r for r in rows],
        )


def _of(*groups: Iterable[Any]) -> Iterable[Any]:
    for group in groups:
        yield from group


def install_hook(sessions: sessionmaker[Session]) -> None:
    """Keep the search terms current in every session `sessions` makes (`Database` calls
    this once, at construction)."""
    if not event.contains(sessions, "after_flush", _keep_terms):
        event.listen(sessions, "after_flush", _keep_terms)
