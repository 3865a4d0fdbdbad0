"""Work leases: a worker owns a document only while its lease lasts.

Every transition is one guarded move of models.document_state (a conditional UPDATE), so
two workers (processes, machines) can never both own a document, and the database stays
the single truth about who does what.
A lease owner is `host:pid:start-time`, so on the same machine a dead owner is recognised
at once instead of after the lease runs out.
"""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime, timedelta
from typing import Any

import psutil
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from models import Document, DocumentStatus, record_event
from models.document_state import move, move_all

HOST = socket.gethostname()


def now() -> datetime:
    return datetime.now(UTC)


def owner_id(pid: int | None = None) -> str:
    """This process as a lease owner."""
    pid = pid or os.getpid()
    try:
        started = int(psutil.Process(pid).create_time())
    except psutil.Error:
        started = 0
    return f"{HOST}:{pid}:{started}"


def owner_is_dead(owner: str | None) -> bool:
    """True only when the owner ran on this machine and that process is gone."""
    if not owner:
        return True
    try:
        host, pid, started = owner.rsplit(":", 2)
        if host != HOST:
            return False
        proc = psutil.Process(int(pid))
        return int(proc.create_time()) != int(started) or proc.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True
    except (ValueError, psutil.Error):
        return False


def claim(session: Session, doc_id: int, owner: str, lease_seconds: int, max_attempts: int) -> bool:
    """Take a document for processing; False when it is not (or no longer) free to take."""
    t = now()
    return move(
        session,
        doc_id,
        DocumentStatus.PROCESSING,
        expect=(DocumentStatus.RECEIVED, DocumentStatus.PROCESSING),
        where=[
            Document.attempts < max_attempts,
            # a processing document only once its lease ran out
            or_(Document.status == DocumentStatus.RECEIVED, Document.lease_expires_at < t),
        ],
        lease_owner=owner,
        lease_expires_at=t + timedelta(seconds=lease_seconds),
        attempts=Document.attempts + 1,
        updated_at=t,
    )


def renew(session: Session, doc_id: int, owner: str, lease_seconds: int) -> bool:
    """Extend a lease while a long document is still being read."""
    result = session.execute(
        update(Document)
        .where(
            Document.id == doc_id,
            Document.lease_owner == owner,
            Document.status == DocumentStatus.PROCESSING,
        )
        .values(lease_expires_at=now() + timedelta(seconds=lease_seconds))
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def release(
    session: Session, doc_id: int, owner: str | None, *, reason: str | None, max_attempts: int
) -> str | None:
    """Give a document back after its worker crashed, was killed or was stopped.

    Back to `received` to be tried again, or `failed` with `reason` once it has used all
    its attempts. Returns the new status, or None when `owner` no longer held it (it
    finished, or someone else gave it back first): every change is conditional.
    """
    held = [Document.lease_owner.is_(None) if owner is None else Document.lease_owner == owner]
    t = now()
    gone: dict[str, Any] = {"lease_owner": None, "lease_expires_at": None, "updated_at": t}
    if move(
        session,
        doc_id,
        DocumentStatus.RECEIVED,
        expect=DocumentStatus.PROCESSING,
        where=[*held, Document.attempts < max_attempts],
        **gone,
    ):
        return DocumentStatus.RECEIVED
    if move(
        session,
        doc_id,
        DocumentStatus.FAILED,
        expect=DocumentStatus.PROCESSING,
        where=[*held, Document.attempts >= max_attempts],
        error=reason or gave_up_reason(max_attempts),
        **gone,
    ):
        record_event(
            session,
            actor="system",
            action="document.failed",
            entity_type="document",
            entity_id=doc_id,
            note=f"gave up after {max_attempts} attempts",
        )
        return DocumentStatus.FAILED
    return None


def gave_up_reason(attempts: int) -> str:
    return (
        f"reading stopped {attempts} times before it finished (the worker crashed or was "
        "killed): retry it; if it fails again the file is probably damaged, get a new copy"
    )


def sweep(session: Session, max_attempts: int) -> list[int]:
    """Find work that was interrupted and make it available again.

    Returns the ids given back as `received` (expired leases, or leases whose owner on this
    machine is dead). Documents that used up their attempts are failed instead.
    """
    t = now()
    rows = session.execute(
        select(Document.id, Document.lease_owner, Document.lease_expires_at)
        .where(Document.status == DocumentStatus.PROCESSING)
        .order_by(Document.id)
        .limit(1000)
    ).all()
    requeued: list[int] = []
    for doc_id, owner, expires in rows:
        if not ((expires is not None and expires < t) or owner_is_dead(owner)):
            continue
        status = release(session, doc_id, owner, reason=None, max_attempts=max_attempts)
        if status == DocumentStatus.RECEIVED:
            requeued.append(doc_id)
    # received documents with no attempts left (e.g. a retry raced a crash): fail them
    given_up = move_all(
        session,
        DocumentStatus.FAILED,
        expect=DocumentStatus.RECEIVED,
        where=[Document.attempts >= max_attempts],
        error=gave_up_reason(max_attempts),
        updated_at=t,
    )
    for doc_id in given_up:
        record_event(
            session,
            actor="system",
            action="document.failed",
            entity_type="document",
            entity_id=doc_id,
            note=f"gave up after {max_attempts} attempts",
        )
    return requeued
