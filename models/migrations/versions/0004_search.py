"""search terms (+ backfill) and queue indexes; merges the compliance and records heads

Revision ID: 0004_search
Revises: 0002_compliance, 0003_records
Create Date: 2026-11-26 19:25:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models.search import rebuild

revision: str = '0004_search'
down_revision: str | Sequence[str] | None = ('0002_compliance', '0003_records')
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


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
