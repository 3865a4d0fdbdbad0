"""applicants: a status per provider, primary-source verifications, gap explanations, letters

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 01:40:00.000000

Every provider already on file is on the staff: status `active` (or `inactive` when not
active), since the migration ran.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | Sequence[str] | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table('providers') as batch:
        batch.add_column(sa.Column('status', sa.String(length=20), nullable=False,
                                   server_default='active'))
        batch.add_column(sa.Column('status_since', STAMP, nullable=False,
                                   server_default=sa.func.current_timestamp()))
        batch.create_index('ix_providers_status', ['status'])
    op.execute("UPDATE providers SET status = 'inactive' WHERE NOT active")
    op.create_table('credential_verifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('credential_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=300), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('verified_on', sa.Date(), nullable=False),
    sa.Column('result', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('created_at', STAMP, nullable=False),
    sa.ForeignKeyConstraint(['credential_id'], ['credentials.id'], name=op.f('fk_credential_verifications_credential_id_credentials'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_credential_verifications_document_id_documents'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credential_verifications'))
    )
    op.create_index('ix_credential_verifications_cred_day', 'credential_verifications', ['credential_id', 'verified_on'], unique=False)
    op.create_index(op.f('ix_credential_verifications_document_id'), 'credential_verifications', ['document_id'], unique=False)
    op.create_table('gap_explanations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('gap_start', sa.Date(), nullable=False),
    sa.Column('gap_end', sa.Date(), nullable=False),
    sa.Column('explanation', sa.Text(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('created_at', STAMP, nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_gap_explanations_provider_id_providers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gap_explanations'))
    )
    op.create_index(op.f('ix_gap_explanations_provider_id'), 'gap_explanations', ['provider_id'], unique=False)
    op.create_table('letters_sent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('sent_at', STAMP, nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('outbox_id', sa.Integer(), nullable=True),
    sa.Column('items', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['outbox_id'], ['outbox.id'], name=op.f('fk_letters_sent_outbox_id_outbox'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_letters_sent_provider_id_providers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_letters_sent'))
    )
    op.create_index(op.f('ix_letters_sent_provider_id'), 'letters_sent', ['provider_id'], unique=False)


def downgrade() -> None:
    op.drop_table('letters_sent')
    op.drop_table('gap_explanations')
    op.drop_table('credential_verifications')
    with op.batch_alter_table('providers') as batch:
        batch.drop_index('ix_providers_status')
        batch.drop_column('status_since')
        batch.drop_column('status')
