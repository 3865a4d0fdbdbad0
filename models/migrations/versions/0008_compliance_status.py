"""each clinician's compliance judgement, kept as dates (compliance.standing)

Revision ID: 0008
Revises: 0007_learning
Create Date: 2026-12-02 18:20:00.000000

The tables start empty: every clinician is judged by the first refresh (the dashboard
starts it in the background, or `credflow compliance refresh`), under the rules in force.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008'
down_revision: str | Sequence[str] | None = '0007_learning'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LABEL = sa.Text().with_variant(sa.Text(collation='C'), 'postgresql')


def upgrade() -> None:
    op.create_table('provider_compliance',
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('rules_key', sa.String(length=80), nullable=False),
    sa.Column('stale', sa.Boolean(), nullable=False),
    sa.Column('changes', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('department', sa.String(length=200), nullable=True),
    sa.Column('category', sa.String(length=60), nullable=True),
    sa.Column('states', sa.String(length=400), nullable=False),
    sa.Column('at_risk_from', sa.Date(), nullable=True),
    sa.Column('non_compliant_from', sa.Date(), nullable=True),
    sa.Column('judged_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_provider_compliance_provider_id_providers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('provider_id', name=op.f('pk_provider_compliance'))
    )
    op.create_index('ix_provider_compliance_key_stale', 'provider_compliance', ['rules_key', 'stale'], unique=False)
    op.create_index('ix_provider_compliance_department', 'provider_compliance', ['department'], unique=False)
    op.create_index('ix_provider_compliance_category', 'provider_compliance', ['category'], unique=False)
    op.create_table('compliance_spans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('starts', sa.Date(), nullable=False),
    sa.Column('ends', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_compliance_spans_provider_id_providers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_compliance_spans'))
    )
    op.create_index(op.f('ix_compliance_spans_provider_id'), 'compliance_spans', ['provider_id'], unique=False)
    op.create_table('compliance_items',
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('credential_id', sa.Integer(), nullable=True),
    sa.Column('doc_type', sa.String(length=40), nullable=True),
    sa.Column('item', LABEL, nullable=False),
    sa.Column('due', sa.Date(), nullable=True),
    sa.Column('shows_from', sa.Date(), nullable=False),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.Column('verified_on', sa.Date(), nullable=True),
    sa.Column('limit_days', sa.Integer(), nullable=True),
    sa.Column('name', LABEL, nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('department', sa.String(length=200), nullable=True),
    sa.Column('category', sa.String(length=60), nullable=True),
    sa.Column('states', sa.String(length=400), nullable=False),
    sa.ForeignKeyConstraint(['credential_id'], ['credentials.id'], name=op.f('fk_compliance_items_credential_id_credentials'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_compliance_items_provider_id_providers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('provider_id', 'seq', name=op.f('pk_compliance_items'))
    )
    op.create_index(op.f('ix_compliance_items_credential_id'), 'compliance_items', ['credential_id'], unique=False)
    op.create_index('ix_compliance_items_section', 'compliance_items', ['kind', 'active', 'due', 'name', 'item', 'provider_id', 'seq', 'department', 'category', 'states'], unique=False)
    op.create_index('ix_compliance_items_shows', 'compliance_items', ['kind', 'active', 'shows_from', 'department', 'category', 'states'], unique=False)
    op.create_table('compliance_meta',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rules_key', sa.String(length=80), nullable=False),
    sa.Column('refreshed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_compliance_meta'))
    )
    op.execute("INSERT INTO compliance_meta (id, rules_key) VALUES (1, '')")


def downgrade() -> None:
    op.drop_table('compliance_meta')
    op.drop_index('ix_compliance_items_shows', table_name='compliance_items')
    op.drop_index('ix_compliance_items_section', table_name='compliance_items')
    op.drop_index(op.f('ix_compliance_items_credential_id'), table_name='compliance_items')
    op.drop_table('compliance_items')
    op.drop_index(op.f('ix_compliance_spans_provider_id'), table_name='compliance_spans')
    op.drop_table('compliance_spans')
    op.drop_index('ix_provider_compliance_category', table_name='provider_compliance')
    op.drop_index('ix_provider_compliance_department', table_name='provider_compliance')
    op.drop_index('ix_provider_compliance_key_stale', table_name='provider_compliance')
    op.drop_table('provider_compliance')
