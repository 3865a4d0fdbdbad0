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


def test_search_backfill_of_0004_writes_terms_of_existing_rows(db_url: str) -> None:
    """0004 backfills the search terms with its own frozen copy of the term rules."""
    from sqlalchemy import text

    from models.search import provider_rows

    database = Database(db_url)
    command.upgrade(alembic_config(db_url), "0003_records")
    with database.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO providers (name, states, active, created_at, updated_at) "
                "VALUES ('María O''Brien-Núñez', '[]', true, :now, :now)"
            ),
            {"now": "2026-01-01T00:00:00+00:00"},
        )
    command.upgrade(alembic_config(db_url), "0004_search")
    with database.engine.connect() as conn:
        pid = conn.execute(text("SELECT id FROM providers")).scalar_one()
        terms = set(
            conn.execute(text("SELECT term FROM search_terms WHERE provider_id = :p"), {"p": pid})
            .scalars()
            .all()
        )
    # the same terms the live rules give today
    assert terms == {r["term"] for r in provider_rows(pid, "María O'Brien-Núñez")}
    assert {"maria", "obriennunez", "brien"} <= terms
    command.downgrade(alembic_config(db_url), "base")
    database.dispose()
