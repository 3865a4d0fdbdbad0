"""What every command that touches the data needs: settings, the database, the file layout."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from credflow.settings import Settings, load_settings
from models import Database, StoreLayout


@dataclass
class Context:
    settings: Settings
    db: Database
    layout: StoreLayout

    def close(self) -> None:
        self.db.dispose()


def open_context(
    data_dir: Path | None = None, *, migrate: bool = True, **overrides: object
) -> Context:
    """Settings (environment, then command-line overrides), folders, and a migrated database."""
    settings = load_settings(data_dir, **overrides)
    settings.ensure_dirs()
    db = Database(settings.db_url)
    if migrate:
        db.upgrade()
    return Context(settings, db, StoreLayout(settings.data_dir))
