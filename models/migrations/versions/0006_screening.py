"""screening: list imports, list rows, NPI records, screening results; providers gain
date_of_birth and other_names

Revision ID: 0006_screening
Revises: 0005
Create Date: 2026-12-02 17:59:53.962846
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


# the covering index's columns, as they stand in this revision
SCREENING_COLUMNS = (
    'source', 'id', 'ended_on', 'starts_on', 'entry_key', 'content_hash', 'family_norm',
    'given_norm', 'middle_norm', 'npi', 'date_of_birth', 'state', 'city', 'specialty',
)


revision: str = '0006_screening'
down_revision: str | Sequence[str] | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('source_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('file_name', sa.String(length=300), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('list_date', sa.Date(), nullable=True),
    sa.Column('rows_read', sa.Integer(), nullable=False),
    sa.Column('rows_kept', sa.Integer(), nullable=False),
    sa.Column('rows_rejected', sa.Integer(), nullable=False),
    sa.Column('rejections', sa.JSON(), nullable=False),
    sa.Column('rows_ended', sa.Integer(), nullable=False),
    sa.Column('imported_by', sa.String(length=100), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_source_imports')),
    sa.UniqueConstraint('sha256', name=op.f('uq_source_imports_sha256'))
    )
    with op.batch_alter_table('source_imports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_source_imports_source'), ['source'], unique=False)

    op.create_table('list_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('entry_key', sa.String(length=64), nullable=False),
    sa.Column('content_hash', sa.String(length=40), nullable=False),
    sa.Column('family_norm', sa.String(length=120), nullable=True),
    sa.Column('given_norm', sa.String(length=120), nullable=True),
    sa.Column('middle_norm', sa.String(length=120), nullable=True),
    sa.Column('business', sa.String(length=300), nullable=True),
    sa.Column('npi', sa.String(length=10), nullable=True),
    sa.Column('upin', sa.String(length=10), nullable=True),
    sa.Column('date_of_birth', sa.Date(), nullable=True),
    sa.Column('state', sa.String(length=2), nullable=True),
    sa.Column('city', sa.String(length=100), nullable=True),
    sa.Column('specialty', sa.String(length=200), nullable=True),
    sa.Column('starts_on', sa.Date(), nullable=True),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('end_reason', sa.Text(), nullable=True),
    sa.Column('ended_by_import_id', sa.Integer(), nullable=True),
    sa.Column('record', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['ended_by_import_id'], ['source_imports.id'], name=op.f('fk_list_entries_ended_by_import_id_source_imports')),
    sa.ForeignKeyConstraint(['import_id'], ['source_imports.id'], name=op.f('fk_list_entries_import_id_source_imports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_list_entries'))
    )
    with op.batch_alter_table('list_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_list_entries_import_id'), ['import_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_list_entries_npi'), ['npi'], unique=False)
        batch_op.create_index('ix_list_entries_screening', list(SCREENING_COLUMNS), unique=False)
        batch_op.create_index('ix_list_entries_source_key', ['source', 'entry_key'], unique=False)

    op.create_table('npi_records',
    sa.Column('npi', sa.String(length=10), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('entity_type', sa.String(length=1), nullable=True),
    sa.Column('last_name', sa.String(length=120), nullable=True),
    sa.Column('first_name', sa.String(length=120), nullable=True),
    sa.Column('middle_name', sa.String(length=120), nullable=True),
    sa.Column('organization', sa.String(length=300), nullable=True),
    sa.Column('credential', sa.String(length=100), nullable=True),
    sa.Column('deactivated_on', sa.Date(), nullable=True),
    sa.Column('reactivated_on', sa.Date(), nullable=True),
    sa.Column('licenses', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['source_imports.id'], name=op.f('fk_npi_records_import_id_source_imports')),
    sa.PrimaryKeyConstraint('npi', name=op.f('pk_npi_records'))
    )
    with op.batch_alter_table('npi_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_npi_records_import_id'), ['import_id'], unique=False)

    op.create_table('screening_results',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.String(length=40), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('result', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.Column('entry_key', sa.String(length=64), nullable=True),
    sa.Column('npi', sa.String(length=10), nullable=True),
    sa.Column('fingerprint', sa.String(length=40), nullable=True),
    sa.Column('list_import_id', sa.Integer(), nullable=True),
    sa.Column('list_date', sa.Date(), nullable=True),
    sa.Column('screened_on', sa.Date(), nullable=False),
    sa.Column('screened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.String(length=100), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['entry_id'], ['list_entries.id'], name=op.f('fk_screening_results_entry_id_list_entries')),
    sa.ForeignKeyConstraint(['list_import_id'], ['source_imports.id'], name=op.f('fk_screening_results_list_import_id_source_imports')),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_screening_results_provider_id_providers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_screening_results'))
    )
    with op.batch_alter_table('screening_results', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_screening_results_fingerprint'), ['fingerprint'], unique=False)
        batch_op.create_index(batch_op.f('ix_screening_results_provider_id'), ['provider_id'], unique=False)
        batch_op.create_index('ix_screening_results_provider_source', ['provider_id', 'source', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_screening_results_run_id'), ['run_id'], unique=False)
        batch_op.create_index('ix_screening_results_status', ['status', 'result'], unique=False)

    # plain ADD COLUMN (no batch rebuild of providers); existing rows get no other names
    op.add_column('providers', sa.Column('date_of_birth', sa.Date(), nullable=True))
    op.add_column('providers', sa.Column('other_names', sa.JSON(), nullable=False,
                                         server_default=sa.text("'[]'")))



def downgrade() -> None:
    with op.batch_alter_table('providers', schema=None) as batch_op:
        batch_op.drop_column('other_names')
        batch_op.drop_column('date_of_birth')

    with op.batch_alter_table('screening_results', schema=None) as batch_op:
        batch_op.drop_index('ix_screening_results_status')
        batch_op.drop_index(batch_op.f('ix_screening_results_run_id'))
        batch_op.drop_index('ix_screening_results_provider_source')
        batch_op.drop_index(batch_op.f('ix_screening_results_provider_id'))
        batch_op.drop_index(batch_op.f('ix_screening_results_fingerprint'))

    op.drop_table('screening_results')
    with op.batch_alter_table('npi_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_npi_records_import_id'))

    op.drop_table('npi_records')
    with op.batch_alter_table('list_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_list_entries_source_key')
        batch_op.drop_index('ix_list_entries_screening')
        batch_op.drop_index(batch_op.f('ix_list_entries_npi'))
        batch_op.drop_index(batch_op.f('ix_list_entries_import_id'))

    op.drop_table('list_entries')
    with op.batch_alter_table('source_imports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_source_imports_source'))

    op.drop_table('source_imports')
