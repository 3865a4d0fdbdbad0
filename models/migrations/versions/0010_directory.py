"""indexes for the clinician directory (compliance.directory)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 01:40:00.000000

The directory filters on category, department and active, pages in name order, and finds a
clinician by a credential's number typed in any case.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | Sequence[str] | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_providers_staff_category', 'providers', ['staff_category'], unique=False)
    op.create_index('ix_providers_department', 'providers', ['department'], unique=False)
    op.create_index('ix_providers_active_name', 'providers', ['active', 'name', 'id'], unique=False)
    op.create_index(
        'ix_credentials_number_upper', 'credentials', [sa.text('upper(credential_number)')],
        unique=False,
    )
    op.create_index(
        'ix_provider_compliance_standing', 'provider_compliance',
        ['rules_key', 'non_compliant_from', 'at_risk_from'], unique=False,
    )


def downgrade() -> None:
    op.drop_index('ix_provider_compliance_standing', table_name='provider_compliance')
    op.drop_index('ix_credentials_number_upper', table_name='credentials')
    op.drop_index('ix_providers_active_name', table_name='providers')
    op.drop_index('ix_providers_department', table_name='providers')
    op.drop_index('ix_providers_staff_category', table_name='providers')
