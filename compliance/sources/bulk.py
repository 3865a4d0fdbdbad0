"""Bulk inserts straight through the driver's executemany: list files hold hundreds of
thousands of rows, and SQLAlchemy's per-value processing would cost more than reading them.
Values arrive ready for the column (JSON as text); dates and times become text on SQLite in
the form SQLAlchemy stores them there."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection


def _sqlite_datetime(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


# SQLite's driver binds dates and times as text the way SQLAlchemy stores them there (the
# driver's own default adapters are deprecated); SQLAlchemy's typed binds never reach these
sqlite3.register_adapter(date, date.isoformat)
sqlite3.register_adapter(datetime, _sqlite_datetime)


def insert_rows(
    conn: Connection,
    table: str,
    columns: Sequence[str],
    rows: list[tuple[Any, ...]],
    *,
    upsert_key: str | None = None,
) -> None:
    """INSERT the rows (tuples in `columns` order); with `upsert_key`, a row whose key exists
    replaces it (INSERT ... ON CONFLICT DO UPDATE, on SQLite and PostgreSQL alike)."""
    if not rows:
        return
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"
    if upsert_key:
        sets = ", ".join(f"{c} = excluded.{c}" for c in columns if c != upsert_key)
        sql += f" ON CONFLICT ({upsert_key}) DO UPDATE SET {sets}"
    conn.exec_driver_sql(sql, rows)
