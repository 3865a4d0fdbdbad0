"""Intake: a whole file becomes a stored, recorded Document before its source is removed.

Order matters and is the whole point: hash and copy into the store (fsync'd), commit the
Document and its DocumentArrival, and only then delete the inbox file. A crash before the
commit leaves the file in the inbox (taken again on restart); a crash after it leaves a
file whose arrival is already recorded (recognised and just removed on restart).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from extract.errors import ExtractError
from extract.pages import sniff
from ingest.store import Stored, put_chunks, put_file
from models import Database, Document, DocumentArrival, DocumentStatus, StoreLayout, record_event

log = logging.getLogger(__name__)

MEDIA_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "tiff": "image/tiff",
}
IGNORED_NAMES = {".ds_store", "thumbs.db", "desktop.ini", "@eadir", "__macosx"}
IGNORED_SUFFIXES = (".part", ".tmp", ".crdownload", ".partial", ".swp")


def is_ignored(relative: PurePosixPath | str) -> bool:
    """Temporary and system files (and anything inside system folders) are never taken."""
    for part in PurePosixPath(relative).parts:
        low = part.lower()
        if low in IGNORED_NAMES or part.startswith((".", "~$", "~")):
            return True
    return PurePosixPath(relative).name.lower().endswith(IGNORED_SUFFIXES)


@dataclass(frozen=True)
class IntakeResult:
    document_id: int
    status: str  # the document's status after intake
    duplicate: bool  # same bytes as an earlier document
    already_recorded: bool = False  # this very arrival was recorded before (resume, restart)

    @property
    def queued(self) -> bool:
        """Whether the document now waits for a worker."""
        return self.status == DocumentStatus.RECEIVED and not self.duplicate


class Intake:
    """Takes files (or streams of bytes) into the store and the database."""

    def __init__(
        self,
        db: Database,
        layout: StoreLayout,
        *,
        max_file_mb: int = 200,
        source: str = "inbox",
        on_received: Callable[[int], None] | None = None,
    ) -> None:
        self.db = db
        self.layout = layout
        self.max_bytes = max_file_mb * (1 << 20)
        self.source = source
        self.on_received = on_received

    def take_file(self, path: Path, *, hint: str | None, remove: bool) -> IntakeResult:
        """Store and record a whole file; remove it afterwards when `remove` is set."""
        mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        stored = put_file(self.layout, path)
        result = self._record(stored, path.name, hint, seen_since=mtime if remove else None)
        if remove:
            path.unlink(missing_ok=True)
            self._remove_empty_folders(path.parent)
        self._announce(result)
        return result

    def _remove_empty_folders(self, folder: Path) -> None:
        """Inbox subfolders are often named after a person (`inbox/Gonzalez, Maria/`): once
        their last file is taken, they go too (never the inbox itself, nor a folder that
        still holds anything)."""
        inbox = self.layout.inbox.resolve()
        current = folder.resolve()
        while current != inbox and inbox in current.parents:
            try:
                current.rmdir()
            except OSError:  # not empty (or already gone, or not ours to remove)
                return
            current = current.parent

    def take_chunks(
        self, chunks: Iterable[bytes], *, filename: str, hint: str | None
    ) -> IntakeResult:
        """Store and record a stream (an archive entry); never held whole in memory."""
        stored = put_chunks(self.layout, chunks, max_bytes=self.max_bytes)
        result = self._record(stored, filename, hint, seen_since=None)
        self._announce(result)
        return result

    def _announce(self, result: IntakeResult) -> None:
        if result.queued and not result.already_recorded and self.on_received is not None:
            self.on_received(result.document_id)

    def _record(
        self, stored: Stored, filename: str, hint: str | None, *, seen_since: datetime | None
    ) -> IntakeResult:
        try:
            result = self._record_once(stored, filename, hint, seen_since)
        except IntegrityError:
            # the same bytes were recorded at this very moment by another intake: a duplicate
            result = self._record_once(stored, filename, hint, seen_since)
        return result

    def _record_once(
        self, stored: Stored, filename: str, hint: str | None, seen_since: datetime | None
    ) -> IntakeResult:
        with self.db.session() as s:
            doc = s.scalar(select(Document).where(Document.sha256 == stored.sha256))
            if doc is not None:
                if self._already_recorded(s, doc.id, filename, hint, seen_since):
                    return IntakeResult(doc.id, doc.status, False, already_recorded=True)
                s.add(
                    DocumentArrival(
                        document_id=doc.id,
                        filename=filename,
                        hint=hint,
                        source=self.source,
                        duplicate=True,
                    )
                )
                record_event(
                    s,
                    actor="system",
                    action="document.duplicate",
                    entity_type="document",
                    entity_id=doc.id,
                    note=f"same bytes arrived again ({self.source})",
                    detail={"filename": filename, "hint": hint},
                    document_id=doc.id,
                )
                return IntakeResult(doc.id, doc.status, True)

            media_type, error = self._kind(stored)
            status = DocumentStatus.FAILED if error else DocumentStatus.RECEIVED
            doc = Document(
                sha256=stored.sha256,
                filename=filename,
                hint=hint,
                size=stored.size,
                media_type=media_type,
                status=status,
                error=error,
            )
            s.add(doc)
            s.flush()
            s.add(
                DocumentArrival(
                    document_id=doc.id, filename=filename, hint=hint, source=self.source
                )
            )
            record_event(
                s,
                actor="system",
                action="document.received" if not error else "document.failed",
                entity_type="document",
                entity_id=doc.id,
                note=f"stored from {self.source}" if not error else "cannot be read at intake",
                detail={"filename": filename, "hint": hint},
                document_id=doc.id,
            )
            s.flush()
            return IntakeResult(doc.id, status, False)

    def _already_recorded(
        self, s: Session, doc_id: int, filename: str, hint: str | None, seen_since: datetime | None
    ) -> bool:
        """This arrival (not a new one of the same bytes) was committed before: a restart
        after the commit but before the inbox file was removed, or a resumed backfill."""
        query = select(DocumentArrival.id).where(
            DocumentArrival.document_id == doc_id,
            DocumentArrival.filename == filename,
            DocumentArrival.source == self.source,
            DocumentArrival.hint.is_(None) if hint is None else DocumentArrival.hint == hint,
        )
        if seen_since is not None:
            query = query.where(DocumentArrival.arrived_at >= seen_since)
        return s.scalar(query.limit(1)) is not None

    def _kind(self, stored: Stored) -> tuple[str | None, str | None]:
        """(media type, reason it cannot be read) from the stored bytes' signature."""
        if stored.size > self.max_bytes:
            mb = stored.size / (1 << 20)
            return None, (
                f"the file is {mb:.0f} MB, over the limit of {self.max_bytes >> 20} MB: "
                "split it or scan it at a lower resolution"
            )
        try:
            kind = sniff(stored.path)
        except ExtractError as e:
            return None, str(e)
        return MEDIA_TYPES[kind], None


def hint_for(relative: PurePosixPath) -> str | None:
    """The folder a file sat in (relative to the inbox or archive root), kept as a hint."""
    parent = str(relative.parent)
    return None if parent in ("", ".") else parent
