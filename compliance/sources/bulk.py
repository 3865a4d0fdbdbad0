"""Bulk inserts straight through the driver's executemany: list files hold hundreds of
thousands of rows, and SQLAlchemy's per-value processing would cost more than reading them.
Values arrive ready for the column (JSON as text); dates and times become text on SQLite in
the form SQLAlchemy stores them there."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection


def insert_rows(
    conn: Connection,
    table: str,
    columns: Sequence[str],
    rows: list[tuple[Any, ...]],
    *,
    date_columns: Sequence[int] = (),
    upsert_key: str | None = None,
) -> None:
    """INSERT the rows (tuples in `columns` order); with `upsert_key`, a row whose key exists
    replaces it (INSERT ... ON CONFLICT DO UPDATE, on SQLite and PostgreSQL alike)."""
    if not rows:
        return
    if conn.dialect.name == "sqlite" and date_columns:
        rows = [_iso_dates(r, date_columns) for r in rows]
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"
    if upsert_key:
        sets = ", ".join(f"{c} = excluded.{c}" for c in columns if c != upsert_key)
        sql += f" ON CONFLICT ({upsert_key}) DO UPDATE SET {sets}"
    conn.exec_driver_sql(sql, rows)


def _iso_dates(row: tuple[Any, ...], at: Sequence[int]) -> tuple[Any, ...]:
    out = list(row)
    for i in at:
        value = out[i]
        if isinstance(value, datetime):  # as SQLAlchemy's UTCDateTime keeps them on SQLite
            out[i] = value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        elif isinstance(value, date):
            out[i] = value.isoformat()
    return tuple(out)
