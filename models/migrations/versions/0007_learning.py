"""learning from confirmations: learned layouts, their examples, a version; field sources

Revision ID: 0007_learning
Revises: 0006_screening
Create Date: 2026-12-02 18:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0007_learning"
down_revision: str | Sequence[str] | None = "0006_screening"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "learned_layouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("doc_type", sa.String(length=40), nullable=False),
        sa.Column("anchors", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learned_layouts")),
    )
    op.create_table(
        "learned_examples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("layout_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("doc_type", sa.String(length=40), nullable=False),
        sa.Column("spots", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_learned_examples_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["layout_id"],
            ["learned_layouts.id"],
            name=op.f("fk_learned_examples_layout_id_learned_layouts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learned_examples")),
    )
    op.create_index(
        op.f("ix_learned_examples_document_id"), "learned_examples", ["document_id"], unique=False
    )
    op.create_index(
        op.f("ix_learned_examples_layout_id"), "learned_examples", ["layout_id"], unique=False
    )
    op.create_table(
        "learning_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learning_state")),
    )
    op.execute("INSERT INTO learning_state (id, version) VALUES (1, 0)")
    # plain ADD COLUMN (no batch rebuild): the audit triggers of 0003_records stay
    op.add_column("document_fields", sa.Column("source", sa.String(length=200), nullable=True))


def downgrade() -> None:
    op.drop_column("document_fields", "source")
    op.drop_table("learning_state")
    op.drop_index(op.f("ix_learned_examples_layout_id"), table_name="learned_examples")
    op.drop_index(op.f("ix_learned_examples_document_id"), table_name="learned_examples")
    op.drop_table("learned_examples")
    op.drop_table("learned_layouts")
