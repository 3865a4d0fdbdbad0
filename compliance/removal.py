"""Removal on request: one document, or everything about a provider, from the document
store and the database, unless a retention hold applies.

What goes: the original file and page images (overwritten, then unlinked), the pages' text
and words, the proposed fields, the arrivals, the credentials the document evidences (they
repeat its values; a credential with no evidence would pass for verified), the personal
values of audit events (`AuditDetail`), and every row of any table that references a removed
row (found through the foreign keys, so tables added later are covered: `SET NULL` keys are
unlinked, other rows deleted). The provider row itself is deleted.

The Document row stays as a tombstone (status `deleted`, every personal column cleared)
rather than being deleted, because:
- its id keeps meaning "this document, removed on request" in audit events, links and
  queue pages; SQLite reuses the highest rowid of a deleted row (the tables do not use
  AUTOINCREMENT), so a deleted document's id could be given to the next arrival and old
  audit events would then point at someone else's document;
- `sha256` is cleared, so the same bytes may arrive again later as a new document.

Every removal writes one audit event per removed document and provider (who, when, why)
that holds ids and the reason only. On SQLite, call `erase_freed_space` after the commit so
the WAL and free pages keep no copy (Database sets `secure_delete`, which zeroes deleted
cells; the checkpoint and VACUUM deal with the WAL and the file's layout).
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Table, and_, delete, or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from compliance import errors
from models import (
    AuditDetail,
    AuditEvent,
    Base,
    Credential,
    Database,
    Document,
    DocumentStatus,
    Provider,
    StoreLayout,
    record_event,
)
from models.compliance_status import mark_stale
from models.document_state import move_all
from models.learned_layout import forget_documents
from models.records import ReferenceRequest, RetentionHold

log = logging.getLogger(__name__)

REMOVED_FILENAME = "removed"


class RemovalError(Exception):
    """Base of the reasons a removal did not happen; `str(err)` is shown to the person."""


class NotFound(RemovalError, errors.NotFound):
    pass


class RemovalRefused(RemovalError, errors.Conflict):
    """The removal may not happen now (a hold applies, a worker is reading the document)."""


class HoldApplies(RemovalRefused):
    def __init__(self, hold: RetentionHold) -> None:
        self.hold_id = hold.id
        self.reason = hold.reason
        self.until = hold.until
        what = (
            f"provider {hold.provider_id}" if hold.provider_id else f"document {hold.document_id}"
        )
        until = f" until {hold.until.isoformat()}" if hold.until else " until released"
        super().__init__(f"retention hold {hold.id} on {what} applies{until}: {hold.reason}")

    def extra(self) -> dict[str, Any]:
        until = self.until.isoformat() if self.until else None
        return {"reason": self.reason, "hold_id": self.hold_id, "until": until}


@dataclass(frozen=True)
class Removal:
    """What a removal did: ids only."""

    entity_type: str  # "document" or "provider"
    entity_id: int
    documents: tuple[int, ...]
    credentials: tuple[int, ...]
    files_removed: int
    details_removed: int
    event_ids: tuple[int, ...]
    # tables rows were deleted from or changed in: `erase_freed_space` compacts these
    tables: tuple[str, ...] = field(default=())


class RemoveFunction(Protocol):
    """`remove_document` and `remove_provider` share this shape."""

    def __call__(
        self,
        session: Session,
        layout: StoreLayout,
        entity_id: int,
        /,
        *,
        actor: str,
        reason: str,
        today: date | None = None,
    ) -> Removal: ...


# --- retention holds -----------------------------------------------------------------------


@dataclass(frozen=True)
class HoldView:
    id: int
    provider_id: int | None
    provider_name: str | None
    document_id: int | None
    reason: str
    until: date | None
    created_by: str
    created_at: datetime
    released_by: str | None
    released_at: datetime | None
    active: bool


def active_holds(
    session: Session,
    *,
    provider_ids: Iterable[int] = (),
    document_ids: Iterable[int] = (),
    today: date | None = None,
) -> list[RetentionHold]:
    """Holds that apply today to any of these providers or documents."""
    today = today or date.today()
    pids, dids = list(provider_ids), list(document_ids)
    if not pids and not dids:
        return []
    rows = session.scalars(
        select(RetentionHold)
        .where(
            or_(RetentionHold.provider_id.in_(pids), RetentionHold.document_id.in_(dids)),
            RetentionHold.released_at.is_(None),
            or_(RetentionHold.until.is_(None), RetentionHold.until >= today),
        )
        .order_by(RetentionHold.id)
    )
    return list(rows)


def place_hold(
    session: Session,
    *,
    actor: str,
    reason: str,
    until: date | None = None,
    provider_id: int | None = None,
    document_id: int | None = None,
) -> RetentionHold:
    """Keep a provider's file (or one document) from removal, e.g. for a survey look-back."""
    reason = (reason or "").strip()
    if not reason:
        raise errors.Invalid("a hold needs a reason")
    if (provider_id is None) == (document_id is None):
        raise errors.Invalid("a hold is on one provider or one document")
    if provider_id is not None and session.get(Provider, provider_id) is None:
        raise NotFound(f"provider {provider_id} not found")
    if document_id is not None:
        doc = session.get(Document, document_id)
        if doc is None or doc.status == DocumentStatus.DELETED:
            raise NotFound(f"document {document_id} not found")
    hold = RetentionHold(
        provider_id=provider_id,
        document_id=document_id,
        reason=reason,
        until=until,
        created_by=actor,
    )
    session.add(hold)
    session.flush()
    target = f"provider {provider_id}" if provider_id else f"document {document_id}"
    record_event(
        session,
        actor=actor,
        action="hold.placed",
        entity_type="retention_hold",
        entity_id=hold.id,
        note=f"{target}; until {until.isoformat() if until else 'released'}; {reason}",
    )
    return hold


def release_hold(session: Session, hold_id: int, *, actor: str) -> RetentionHold:
    """End a hold before its date (the row stays, with who released it and when)."""
    hold = session.get(RetentionHold, hold_id)
    if hold is None:
        raise NotFound(f"hold {hold_id} not found")
    if hold.released_at is None:
        hold.released_at = datetime.now(UTC)
        hold.released_by = actor
        record_event(
            session,
            actor=actor,
            action="hold.released",
            entity_type="retention_hold",
            entity_id=hold.id,
        )
    return hold


def list_holds(
    session: Session, *, include_inactive: bool = False, today: date | None = None
) -> list[HoldView]:
    today = today or date.today()
    rows = session.execute(
        select(RetentionHold, Provider.name)
        .outerjoin(Provider, Provider.id == RetentionHold.provider_id)
        .order_by(RetentionHold.id.desc())
    ).all()
    out = []
    for hold, name in rows:
        active = hold.applies_on(today)
        if active or include_inactive:
            out.append(
                HoldView(
                    id=hold.id,
                    provider_id=hold.provider_id,
                    provider_name=name,
                    document_id=hold.document_id,
                    reason=hold.reason,
                    until=hold.until,
                    created_by=hold.created_by,
                    created_at=hold.created_at,
                    released_by=hold.released_by,
                    released_at=hold.released_at,
                    active=active,
                )
            )
    return out


# --- removal -------------------------------------------------------------------------------


def remove_document(
    session: Session,
    layout: StoreLayout,
    document_id: int,
    *,
    actor: str,
    reason: str,
    today: date | None = None,
) -> Removal:
    """Remove one document and what was read from it, in the session's transaction.

    Raises NotFound, HoldApplies (a hold on the document or on its provider) or
    RemovalRefused (a worker is reading it). Files are removed after the database changes
    flushed cleanly; if the commit then fails, running the removal again finishes it."""
    reason = _check_reason(reason)
    doc = _live_document(session, document_id)
    cred_rows = session.execute(
        select(Credential.id, Credential.provider_id).where(Credential.document_id == doc.id)
    ).all()
    provider_ids = {pid for _, pid in cred_rows}
    if doc.provider_id is not None:
        provider_ids.add(doc.provider_id)
    _refuse_if_held(session, provider_ids, [doc.id], today)
    _refuse_if_processing([doc])
    shas = [doc.sha256] if doc.sha256 else []

    touched: set[str] = set()
    cred_ids = [cid for cid, _ in cred_rows]
    details = _delete_details(session, document_ids=[doc.id], credential_ids=cred_ids)
    _delete_rows(session, Credential.__table__, cred_ids, touched)
    mark_stale(session, provider_ids)  # their compliance is judged again without it
    _remove_document_rows(session, [doc.id], touched)
    event = record_event(
        session,
        actor=actor,
        action="document.removed",
        entity_type="document",
        entity_id=doc.id,
        note=_note(reason, provider=doc.provider_id, credentials=cred_ids),
    )
    session.flush()
    files = _remove_files(layout, shas)
    session.expire_all()
    return Removal(
        entity_type="document",
        entity_id=document_id,
        documents=(document_id,),
        credentials=tuple(cred_ids),
        files_removed=files,
        details_removed=details,
        event_ids=(event.id,),
        tables=tuple(sorted(touched | {"audit_details", "documents"})),
    )


def remove_provider(
    session: Session,
    layout: StoreLayout,
    provider_id: int,
    *,
    actor: str,
    reason: str,
    today: date | None = None,
) -> Removal:
    """Remove everything about a provider: their documents (as in `remove_document`),
    credentials, reference requests, holds that no longer apply, and any other row that
    references them, then the provider row. Refused while a hold applies to the provider
    or to any of their documents."""
    reason = _check_reason(reason)
    if session.get(Provider, provider_id, with_for_update=True) is None:
        raise NotFound(f"provider {provider_id} not found")
    doc_ids = set(session.scalars(select(Document.id).where(Document.provider_id == provider_id)))
    doc_ids |= {
        d
        for d in session.scalars(
            select(Credential.document_id).where(Credential.provider_id == provider_id)
        )
        if d is not None
    }
    doc_ids |= {
        d
        for d in session.scalars(
            select(ReferenceRequest.document_id).where(ReferenceRequest.provider_id == provider_id)
        )
        if d is not None
    }
    docs = list(
        session.scalars(
            select(Document)
            .where(Document.id.in_(doc_ids), Document.status != DocumentStatus.DELETED)
            .order_by(Document.id)
        )
    )
    live_ids = [d.id for d in docs]
    _refuse_if_held(session, [provider_id], live_ids, today)
    _refuse_if_processing(docs)
    shas = [d.sha256 for d in docs if d.sha256]

    touched: set[str] = set()
    cred_ids = list(
        session.scalars(
            select(Credential.id).where(
                or_(Credential.provider_id == provider_id, Credential.document_id.in_(live_ids))
            )
        )
    )
    details = _delete_details(
        session, document_ids=live_ids, credential_ids=cred_ids, provider_ids=[provider_id]
    )
    # other clinicians whose credentials cite these documents are judged again
    mark_stale(session, session.scalars(select(Credential.provider_id).where(
        Credential.id.in_(cred_ids), Credential.provider_id != provider_id)))  # fmt: skip
    _delete_rows(session, Credential.__table__, cred_ids, touched)
    _remove_document_rows(session, live_ids, touched)
    # everything else that points at the provider; documents were unlinked above
    _delete_rows(session, Provider.__table__, [provider_id], touched, skip={"documents"})

    event_ids = []
    for doc in docs:
        event_ids.append(
            record_event(
                session,
                actor=actor,
                action="document.removed",
                entity_type="document",
                entity_id=doc.id,
                note=_note(reason, provider=provider_id),
            ).id
        )
    event_ids.append(
        record_event(
            session,
            actor=actor,
            action="provider.removed",
            entity_type="provider",
            entity_id=provider_id,
            note=_note(reason, documents=live_ids, credentials=cred_ids),
        ).id
    )
    session.flush()
    files = _remove_files(layout, shas)
    session.expire_all()
    return Removal(
        entity_type="provider",
        entity_id=provider_id,
        documents=tuple(live_ids),
        credentials=tuple(cred_ids),
        files_removed=files,
        details_removed=details,
        event_ids=tuple(event_ids),
        tables=tuple(sorted(touched | {"audit_details", "documents", "providers"})),
    )


@dataclass(frozen=True)
class Erasure:
    """Outcome of `erase_freed_space`: `complete` is False when a reader kept the WAL."""

    complete: bool
    seconds: float


def erase_freed_space(db: Database, tables: Sequence[str] = (), *, attempts: int = 5) -> Erasure:
    """After a removal committed: leave no copy of removed rows in the database files.

    SQLite: checkpoint the WAL into the database, VACUUM (rewrites the file without free
    pages), and checkpoint with TRUNCATE so the WAL file is emptied. PostgreSQL: VACUUM
    the touched tables so dead row versions are pruned (the server's own WAL and backups
    follow their retention; they are outside what the application can erase)."""
    started = time.perf_counter()
    complete = True
    try:
        with db.engine.connect() as conn:
            auto = conn.execution_options(isolation_level="AUTOCOMMIT")
            if db.is_sqlite:
                auto.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                auto.exec_driver_sql("VACUUM")
                for attempt in range(attempts):
                    busy = auto.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()[0]
                    if not busy:
                        break
                    time.sleep(0.2 * (attempt + 1))
                else:
                    complete = False
                    log.warning("WAL still in use by a reader; erased at the next checkpoint")
            elif db.engine.dialect.name == "postgresql":
                known = set(Base.metadata.tables)
                for name in sorted(set(tables) & known):
                    auto.exec_driver_sql(f'VACUUM "{name}"')
    except OperationalError as e:
        # the removal itself is committed; a busy database only delays the compaction
        complete = False
        log.warning("could not compact the database after a removal: %s", type(e).__name__)
    return Erasure(complete=complete, seconds=time.perf_counter() - started)


# --- helpers -------------------------------------------------------------------------------


def _check_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise errors.Invalid("a removal needs a reason")
    return reason


def _note(
    reason: str,
    *,
    provider: int | None = None,
    documents: Sequence[int] = (),
    credentials: Sequence[int] = (),
) -> str:
    parts = [f"removed on request: {reason}"]
    if provider is not None:
        parts.append(f"provider {provider}")
    if documents:
        parts.append("documents " + ", ".join(map(str, documents)))
    if credentials:
        parts.append("credentials " + ", ".join(map(str, credentials)))
    return "; ".join(parts)


def _live_document(session: Session, document_id: int) -> Document:
    doc = session.get(Document, document_id, with_for_update=True)
    if doc is None or doc.status == DocumentStatus.DELETED:
        raise NotFound(f"document {document_id} not found")
    return doc


def _refuse_if_held(
    session: Session, provider_ids: Iterable[int], document_ids: Iterable[int], today: date | None
) -> None:
    holds = active_holds(session, provider_ids=provider_ids, document_ids=document_ids, today=today)
    if holds:
        raise HoldApplies(holds[0])


def _refuse_if_processing(docs: Iterable[Document]) -> None:
    now = datetime.now(UTC)
    for doc in docs:
        if (
            doc.status == DocumentStatus.PROCESSING
            and doc.lease_expires_at is not None
            and doc.lease_expires_at > now
        ):
            raise RemovalRefused(
                f"document {doc.id} is being read by a worker; try again in a few minutes"
            )


def _delete_details(
    session: Session,
    *,
    document_ids: Sequence[int] = (),
    credential_ids: Sequence[int] = (),
    provider_ids: Sequence[int] = (),
) -> int:
    """Delete the personal values of every audit event about these rows (the events stay)."""
    about = select(AuditEvent.id).where(
        or_(
            and_(AuditEvent.entity_type == "document", AuditEvent.entity_id.in_(document_ids)),
            and_(AuditEvent.entity_type == "credential", AuditEvent.entity_id.in_(credential_ids)),
            and_(AuditEvent.entity_type == "provider", AuditEvent.entity_id.in_(provider_ids)),
        )
    )
    result = session.execute(
        delete(AuditDetail).where(
            or_(
                AuditDetail.document_id.in_(document_ids),
                AuditDetail.provider_id.in_(provider_ids),
                AuditDetail.event_id.in_(about),
            )
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _remove_document_rows(session: Session, doc_ids: Sequence[int], touched: set[str]) -> None:
    """Delete what references the documents, then clear the rows to tombstones."""
    if not doc_ids:
        return
    # what their words taught a layout goes too; words other documents also printed stay
    if forget_documents(session, set(doc_ids)):
        touched.update({"learned_layouts", "learned_examples"})
    table = Document.__table__
    assert isinstance(table, Table)
    _purge_references(session, table, doc_ids, touched, skip=set())
    move_all(
        session,
        DocumentStatus.DELETED,
        ids=doc_ids,
        filename=REMOVED_FILENAME,
        sha256=None,
        hint=None,
        error=None,
        size=0,
        expires_on=None,
        review_note=None,
        provider_id=None,
        lease_owner=None,
        lease_expires_at=None,
        claimed_by_id=None,
        claim_expires_at=None,
    )


def _delete_rows(
    session: Session,
    table: object,
    ids: Sequence[int],
    touched: set[str],
    *,
    skip: set[str] | None = None,
) -> None:
    assert isinstance(table, Table)
    if not ids:
        return
    _purge_references(session, table, ids, touched, skip=skip or set())
    pk = _single_pk(table)
    assert pk is not None
    session.execute(delete(table).where(table.c[pk].in_(ids)))
    touched.add(table.name)


def _purge_references(
    session: Session,
    table: Table,
    ids: Sequence[int],
    touched: set[str],
    *,
    skip: set[str],
    depth: int = 0,
) -> None:
    """Unlink (`SET NULL` keys) or delete every row of any table that references `ids`."""
    if not ids:
        return
    if depth > 8:
        raise RuntimeError(f"foreign keys nest too deep below {table.name}")
    for child in Base.metadata.sorted_tables:
        if child.name in skip:
            continue
        for fk in child.foreign_keys:
            if fk.column.table is not table:
                continue
            col = fk.parent
            touched.add(child.name)
            if (fk.ondelete or "").upper() == "SET NULL" and col.nullable:
                session.execute(update(child).where(col.in_(ids)).values({col.name: None}))
                continue
            pk = _single_pk(child)
            if pk is not None:
                child_ids = list(session.scalars(select(child.c[pk]).where(col.in_(ids))))
                _purge_references(session, child, child_ids, touched, skip=set(), depth=depth + 1)
            session.execute(delete(child).where(col.in_(ids)))


def _single_pk(table: Table) -> str | None:
    cols = list(table.primary_key.columns)
    return cols[0].name if len(cols) == 1 else None


def _remove_files(layout: StoreLayout, shas: Iterable[str]) -> int:
    """Overwrite, then unlink the originals and page images (best effort against recovery
    on filesystems that write in place; copy-on-write filesystems and SSDs may keep blocks)."""
    count = 0
    for sha in shas:
        original = layout.original(sha)
        if original.is_file():
            _shred(original)
            count += 1
        _rmdir_quietly(original.parent)
        pages = layout.page_dir(sha)
        if pages.is_dir():
            for path in sorted(pages.rglob("*"), reverse=True):
                if path.is_file() or path.is_symlink():
                    _shred(path)
                    count += 1
                else:
                    _rmdir_quietly(path)
            _rmdir_quietly(pages)
    return count


def _shred(path: Path) -> None:
    if path.is_symlink():
        path.unlink()
        return
    size = path.stat().st_size
    chunk = b"\0" * (1 << 20)
    with open(path, "r+b") as fh:
        left = size
        while left > 0:
            n = min(left, len(chunk))
            fh.write(chunk[:n])
            left -= n
        fh.flush()
        os.fsync(fh.fileno())
    path.unlink()


def _rmdir_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.rmdir()


def remove(
    db: Database, layout: StoreLayout, kind: str, target_id: int, *, actor: str, reason: str
) -> Removal:
    """Remove a provider (`kind` "provider") or a document in a transaction of its own,
    then erase the space it freed. Raises as `remove_provider` / `remove_document` do."""
    with db.session() as s:
        fn = remove_provider if kind == "provider" else remove_document
        result = fn(s, layout, target_id, actor=actor, reason=reason)
    erase_freed_space(db, result.tables)
    return result


def document_preview(session: Session, document_id: int) -> dict[str, Any]:
    """What removing a document would take with it, and the holds that would refuse it."""
    doc = session.get(Document, document_id)
    if doc is None or doc.status == DocumentStatus.DELETED:
        raise NotFound("No such document.")
    credentials = list(
        session.scalars(select(Credential.id).where(Credential.document_id == document_id))
    )
    holds = active_holds(
        session, provider_ids=[doc.provider_id] if doc.provider_id else [], document_ids=[doc.id]
    )
    return {"target": doc, "credentials": credentials, "holds": holds}


def hold_view(session: Session, hold_id: int) -> HoldView:
    """One hold as the lists show it (released or not)."""
    return next(h for h in list_holds(session, include_inactive=True) if h.id == hold_id)
