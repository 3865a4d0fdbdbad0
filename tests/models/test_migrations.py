"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from models import Database
from models.db import alembic_config


def test_upgrade_matches_models_and_downgrades(db_url: str) -> None:
    database = Database(db_url)
    database.upgrade()
    assert {"documents", "providers", "credentials", "users", "audit_events"} <= set(
        inspect(database.engine).get_table_names()
    )
    # raises when the models and the migrations disagree
    command.check(alembic_config(db_url))
    command.downgrade(alembic_config(db_url), "base")
    assert "documents" not in inspect(database.engine).get_table_names()
    database.dispose()
