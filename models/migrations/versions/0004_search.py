"""search terms (+ backfill) and queue indexes; merges the compliance and records heads

Revision ID: 0004_search
Revises: 0002_compliance, 0003_records
Create Date: 2026-11-26 19:25:00.000000
"""
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from models.search import NAME_FIELDS, NUMBER_FIELDS, field_rows, provider_rows

revision: str = '0004_search'
down_revision: str | Sequence[str] | None = ('0002_compliance', '0003_records')
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5_000


def upgrade() -> None:
    terms = op.create_table('search_terms',
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
    _backfill(terms)
    # indexes after the backfill: one sort instead of a growing index per insert
    op.create_index(op.f('ix_search_terms_document_id'), 'search_terms', ['document_id'], unique=False)
    op.create_index(op.f('ix_search_terms_field_id'), 'search_terms', ['field_id'], unique=False)
    op.create_index(op.f('ix_search_terms_provider_id'), 'search_terms', ['provider_id'], unique=False)
    op.create_index('ix_search_terms_term', 'search_terms', ['term', 'kind', 'document_id'], unique=False)
    # plain CREATE INDEX (no batch rebuild): the audit triggers of 0003_records stay
    op.create_index('ix_documents_status_doc_type', 'documents', ['status', 'doc_type'], unique=False)
    op.create_index('ix_documents_status_updated', 'documents', ['status', 'updated_at'], unique=False)


def _backfill(terms: sa.Table) -> None:
    """Terms of the fields and providers already stored, in batches (memory stays flat)."""
    conn = op.get_bind()
    fields = sa.table('document_fields', sa.column('id', sa.Integer), sa.column('document_id', sa.Integer),
                      sa.column('name', sa.String), sa.column('value', sa.Text))
    providers = sa.table('providers', sa.column('id', sa.Integer), sa.column('name', sa.String))
    empty = {'document_id': None, 'field_id': None, 'provider_id': None}
    last = 0
    while True:
        batch = conn.execute(
            sa.select(fields.c.id, fields.c.document_id, fields.c.name, fields.c.value)
            .where(fields.c.id > last, fields.c.name.in_(NAME_FIELDS + NUMBER_FIELDS),
                   fields.c.value.is_not(None))
            .order_by(fields.c.id).limit(BATCH)
        ).all()
        if not batch:
            break
        last = batch[-1].id
        rows: list[dict[str, Any]] = [empty | r for f in batch for r in field_rows(f.id, f.document_id, f.name, f.value)]
        if rows:
            conn.execute(terms.insert(), rows)
    last = 0
    while True:
        batch = conn.execute(
            sa.select(providers.c.id, providers.c.name).where(providers.c.id > last)
            .order_by(providers.c.id).limit(BATCH)
        ).all()
        if not batch:
            break
        last = batch[-1].id
        rows = [empty | r for p in batch for r in provider_rows(p.id, p.name)]
        if rows:
            conn.execute(terms.insert(), rows)


def downgrade() -> None:
    op.drop_index('ix_documents_status_updated', table_name='documents')
    op.drop_index('ix_documents_status_doc_type', table_name='documents')
    op.drop_index('ix_search_terms_term', table_name='search_terms')
    op.drop_index(op.f('ix_search_terms_provider_id'), table_name='search_terms')
    op.drop_index(op.f('ix_search_terms_field_id'), table_name='search_terms')
    op.drop_index(op.f('ix_search_terms_document_id'), table_name='search_terms')
    op.drop_table('search_terms')
