"""search terms (+ backfill) and queue indexes; merges the compliance and records heads

Revision ID: 0004_search
Revises: 0002_compliance, 0003_records
Create Date: 2026-11-26 19:25:00.000000
"""
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from sqlalchemy.engine import Connection

revision: str = '0004_search'
down_revision: str | Sequence[str] | None = ('0002_compliance', '0003_records')
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# frozen copies of models.search at this revision (a migration never imports live code)
NAME = "name"
NUMBER = "number"
PROVIDER = "provider"
NAME_FIELDS = ("person_name", "referee_name")
NUMBER_FIELDS = ("credential_number", "npi")
TERM_LENGTH = 100
_WORD = re.compile(r"[^\W_]+")


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


def rebuild(conn: Connection, batch_size: int = 5_000) -> int:
    """Write every term anew from the stored fields and providers; returns the rows written.

    A frozen copy of models.search.rebuild as it was at this revision (a migration
    never imports live code); reads in id order batches, so memory stays flat."""
    table = sa.table('search_terms', sa.column('id', sa.Integer), sa.column('document_id', sa.Integer),
                     sa.column('field_id', sa.Integer), sa.column('provider_id', sa.Integer),
                     sa.column('term', sa.String), sa.column('kind', sa.String))
    conn.execute(sa.delete(table))
    empty = {"document_id": None, "field_id": None, "provider_id": None}
    fields = sa.table(
        "document_fields",
        sa.column("id", sa.Integer),
        sa.column("document_id", sa.Integer),
        sa.column("name", sa.String),
        sa.column("value", sa.Text),
    )
    providers = sa.table("providers", sa.column("id", sa.Integer), sa.column("name", sa.String))
    written = 0
    last = 0
    while batch := conn.execute(
        sa.select(fields.c.id, fields.c.document_id, fields.c.name, fields.c.value)
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
            conn.execute(sa.insert(table), rows)
            written += len(rows)
    last = 0
    while people := conn.execute(
        sa.select(providers.c.id, providers.c.name)
        .where(providers.c.id > last)
        .order_by(providers.c.id)
        .limit(batch_size)
    ).all():
        last = people[-1].id
        rows = [empty | r for p in people for r in provider_rows(p.id, p.name)]
        if rows:
            conn.execute(sa.insert(table), rows)
            written += len(rows)
    return written



def upgrade() -> None:
    op.create_table('search_terms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('field_id', sa.Integer(), nullable=True),
    sa.Column('provider_id', sa.Integer(), nullable=True),
    sa.Column('term', sa.String(length=100).with_variant(sa.String(length=100, collation='C'), 'postgresql'), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_search_terms_document_id_documents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['field_id'], ['document_fields.id'], name=op.f('fk_search_terms_field_id_document_fields'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_search_terms_provider_id_providers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_terms'))
    )
    # backfill before indexing: one sort instead of a growing index per insert
    rebuild(op.get_bind())
    op.create_index(op.f('ix_search_terms_document_id'), 'search_terms', ['document_id'], unique=False)
    op.create_index(op.f('ix_search_terms_field_id'), 'search_terms', ['field_id'], unique=False)
    op.create_index(op.f('ix_search_terms_provider_id'), 'search_terms', ['provider_id'], unique=False)
    op.create_index('ix_search_terms_term', 'search_terms', ['term', 'kind', 'document_id'], unique=False)
    # plain CREATE INDEX (no batch rebuild): the audit triggers of 0003_records stay
    op.create_index('ix_documents_status_doc_type', 'documents', ['status', 'doc_type'], unique=False)
    op.create_index('ix_documents_status_updated', 'documents', ['status', 'updated_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_documents_status_updated', table_name='documents')
    op.drop_index('ix_documents_status_doc_type', table_name='documents')
    op.drop_index('ix_search_terms_term', table_name='search_terms')
    op.drop_index(op.f('ix_search_terms_provider_id'), table_name='search_terms')
    op.drop_index(op.f('ix_search_terms_field_id'), table_name='search_terms')
    op.drop_index(op.f('ix_search_terms_document_id'), table_name='search_terms')
    op.drop_table('search_terms')
