"""Backfill: folders and .zip archives of old files, taken in and read, resumably.

Memory stays flat however large the archive: folders are walked with `os.scandir` one
entry at a time, and archives are read entry by entry from their local headers with
`stream_unzip` (never their whole central directory), nested archives streamed through the
same reader. Each entry's bytes are hashed while they are copied into the store. Work in
flight is bounded by the worker pool's room, so the parent holds only a few ids at once.

Resumable: an arrival recorded by an earlier run (same bytes, name, folder) is skipped;
documents that run left `received` are read now.
"""

from __future__ import annotations

import logging
import os
import struct
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from stream_unzip import stream_unzip

from ingest.intake import Intake, hint_for, is_ignored
from ingest.pool import WorkerConfig, WorkerPool
from ingest.store import CHUNK, TooLargeError, file_chunks
from models import Database, DocumentStatus, StoreLayout

log = logging.getLogger(__name__)

MAX_ZIP_DEPTH = 4  # zips inside zips inside zips...: deeper is refused (a "zip quine" bomb)
MAX_REFUSALS_KEPT = 200


@dataclass(frozen=True)
class Found:
    """One file to take: its name, the folder/archive path it sat in, and its bytes."""

    name: str
    hint: str | None
    chunks: Iterable[bytes]


@dataclass(frozen=True)
class Refused:
    where: str  # archive path of the entry (shown to the operator, never logged)
    reason: str


@dataclass
class Summary:
    found: int = 0  # files taken or looked at
    read: int = 0  # now awaiting review
    duplicates: int = 0  # same bytes as a document already there
    skipped: int = 0  # taken by an earlier run of the same backfill
    failed: int = 0  # stored, but cannot be read (reason on the document)
    queued: int = 0  # left `received` for the running service (--workers 0)
    refused: int = 0  # not taken: zip-slip, too large, damaged archive
    bytes: int = 0
    refusals: list[Refused] = field(default_factory=list)

    def refuse(self, item: Refused) -> None:
        self.refused += 1
        if len(self.refusals) < MAX_REFUSALS_KEPT:
            self.refusals.append(item)


def is_zip_name(name: str) -> bool:
    return name.lower().endswith(".zip")


def unsafe_entry(name: str) -> bool:
    """An archive entry whose path would escape the folder it is unpacked into (zip-slip)."""
    norm = name.replace("\\", "/")
    if norm.startswith("/") or (len(norm) > 1 and norm[1] == ":"):
        return True
    return any(part == ".." for part in norm.split("/"))


def _drain(chunks: Iterable[bytes]) -> int:
    return sum(len(c) for c in chunks)


def _decode(name: bytes) -> str:
    try:
        return name.decode("utf-8")
    except UnicodeDecodeError:
        return name.decode("cp437")


def iter_zip(chunks: Iterable[bytes], prefix: str, depth: int = 1) -> Iterator[Found | Refused]:
    """The files of an archive (and of archives inside it), streamed in archive order.

    Each Found's chunks must be consumed (or drained) before asking for the next item.
    """
    try:
        for raw_name, _size, entry in stream_unzip(chunks, chunk_size=CHUNK):
            name = _decode(raw_name)
            where = f"{prefix}/{name}"
            if name.endswith("/"):
                _drain(entry)
            elif unsafe_entry(name):
                _drain(entry)
                yield Refused(
                    where, "the entry's path leads outside the archive (zip-slip): not taken"
                )
            elif is_ignored(PurePosixPath(name.replace("\\", "/"))):
                _drain(entry)
            elif is_zip_name(name):
                if depth >= MAX_ZIP_DEPTH:
                    _drain(entry)
                    yield Refused(
                        where, f"archives nested more than {MAX_ZIP_DEPTH} deep: unpack it by hand"
                    )
                else:
                    yield from iter_zip(entry, where, depth + 1)
                    _drain(entry)
            else:
                rel = PurePosixPath(name.replace("\\", "/"))
                folder = hint_for(rel)
                yield Found(rel.name, f"{prefix}/{folder}" if folder else prefix, entry)
    except Exception as e:
        yield Refused(
            prefix,
            f"the archive is damaged or encrypted ({type(e).__name__}): "
            "the rest of it was not read",
        )


def iter_sources(paths: Iterable[Path]) -> Iterator[Found | Refused]:
    """Every file under the given folders, archives and files, one at a time."""
    for root in paths:
        if root.is_dir():
            yield from _iter_folder(root)
        elif root.is_file():
            if is_zip_name(root.name):
                yield from iter_zip(file_chunks(root), root.name)
            else:
                yield Found(root.name, None, file_chunks(root))
        else:
            yield Refused(str(root), "no such file or folder")


def _iter_folder(root: Path) -> Iterator[Found | Refused]:
    stack: list[Path] = [root]
    while stack:
        folder = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)  # one folder, not the tree
        except OSError as e:
            yield Refused(str(folder), f"cannot list the folder ({e.strerror})")
            continue
        subfolders: list[Path] = []
        for entry in entries:
            if is_ignored(entry.name):
                continue
            path = Path(entry.path)
            rel = PurePosixPath(path.relative_to(root).as_posix())
            if entry.is_dir(follow_symlinks=False):
                subfolders.append(path)
            elif entry.is_file(follow_symlinks=False):
                if is_zip_name(entry.name):
                    yield from iter_zip(file_chunks(path), f"{root.name}/{rel}")
                else:
                    folder_hint = hint_for(rel)
                    yield Found(
                        entry.name,
                        f"{root.name}/{folder_hint}" if folder_hint else root.name,
                        file_chunks(path),
                    )
        stack.extend(reversed(subfolders))


def zip_entry_count(path: Path) -> int | None:
    """Entries an archive declares in its end record (read from its last bytes only)."""
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            tail_len = min(size, 65536 + 22)
            fh.seek(size - tail_len)
            tail = fh.read()
    except OSError:
        return None
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(tail):
        return None
    total = struct.unpack("<H", tail[at + 10 : at + 12])[0]
    if total == 0xFFFF:
        loc = tail.rfind(b"PK\x06\x06")
        if loc >= 0 and loc + 40 <= len(tail):
            total = struct.unpack("<Q", tail[loc + 32 : loc + 40])[0]
    return int(total)


def estimate_total(paths: Iterable[Path]) -> int:
    """A quick count for the progress bar (archives by their end record; nested ones grow it)."""
    total = 0
    for root in paths:
        if root.is_file():
            total += (zip_entry_count(root) or 1) if is_zip_name(root.name) else 1
            continue
        stack = [root]
        while stack:
            try:
                with os.scandir(stack.pop()) as entries:
                    for e in entries:
                        if is_ignored(e.name):
                            continue
                        if e.is_dir(follow_symlinks=False):
                            stack.append(Path(e.path))
                        elif e.is_file(follow_symlinks=False):
                            total += (
                                (zip_entry_count(Path(e.path)) or 1) if is_zip_name(e.name) else 1
                            )
            except OSError:
                continue
    return total


Progress = Callable[[Summary, int], None]  # (summary so far, files finished so far)


class Backfill:
    """Takes files in through intake (source "backfill") and reads them with a worker pool."""

    def __init__(
        self,
        db: Database,
        layout: StoreLayout,
        *,
        max_file_mb: int,
        workers: int,
        worker_config: WorkerConfig | None,
        max_attempts: int = 3,
        page_timeout: float = 300.0,
    ) -> None:
        self.db = db
        self.layout = layout
        self.workers = workers
        self.worker_config = worker_config
        self.max_attempts = max_attempts
        self.page_timeout = page_timeout
        self.intake = Intake(db, layout, max_file_mb=max_file_mb, source="backfill")
        self._lock = threading.Lock()
        self._finished = 0
        self._done = threading.Condition(self._lock)

    def dry_run(self, paths: list[Path], progress: Progress | None = None) -> Summary:
        summary = Summary()
        for item in iter_sources(paths):
            if isinstance(item, Refused):
                summary.refuse(item)
            else:
                summary.found += 1
                summary.bytes += _drain(item.chunks)
            if progress is not None:
                progress(summary, summary.found + summary.refused)
        return summary

    def run(self, paths: list[Path], progress: Progress | None = None) -> Summary:
        summary = Summary()
        pool = self._start_pool(summary) if self.workers > 0 else None
        try:
            if pool is not None:
                self._resume_interrupted()
            for item in iter_sources(paths):
                if isinstance(item, Refused):
                    summary.refuse(item)
                    self._finish_one(summary, progress)
                    continue
                summary.found += 1
                self._take(item, summary, pool, progress)
            if pool is not None:
                self._wait_idle(pool, summary, progress)
        finally:
            if pool is not None:
                pool.stop()
        return summary

    # -- internals ----------------------------------------------------------------------
    def _start_pool(self, summary: Summary) -> WorkerPool:
        assert self.worker_config is not None

        def done(doc_id: int, status: str | None) -> None:
            with self._lock:
                if status == DocumentStatus.AWAITING_REVIEW:
                    summary.read += 1
                elif status == DocumentStatus.FAILED:
                    summary.failed += 1
                if status != DocumentStatus.RECEIVED:
                    self._finished += 1
                self._done.notify_all()

        pool = WorkerPool(
            self.worker_config, self.workers, page_timeout=self.page_timeout, on_done=done
        )
        pool.start()
        return pool

    def _resume_interrupted(self) -> None:
        """Work an interrupted run left half done (its workers killed) is given back first;
        the documents it took in but never read come up again as the paths are walked."""
        from ingest import leases

        with self.db.session() as s:
            leases.sweep(s, self.max_attempts)

    def _submit(
        self, pool: WorkerPool, doc_id: int, summary: Summary, progress: Progress | None
    ) -> None:
        while True:
            with self._lock:
                if pool.room() > 0:
                    break
                self._done.wait(0.5)
            if progress is not None:
                progress(summary, self._finished)
        if not pool.submit(doc_id):
            self._finish_one(summary, progress)  # the same entry twice in this run: read once

    def _take(
        self, item: Found, summary: Summary, pool: WorkerPool | None, progress: Progress | None
    ) -> None:
        try:
            result = self.intake.take_chunks(item.chunks, filename=item.name, hint=item.hint)
        except TooLargeError as e:
            _drain(item.chunks)
            summary.refuse(
                Refused(
                    f"{item.hint}/{item.name}" if item.hint else item.name,
                    f"{e} once unpacked: not taken",
                )
            )
            self._finish_one(summary, progress)
            return
        if result.already_recorded:
            summary.skipped += 1
            if result.status == DocumentStatus.RECEIVED and pool is not None:
                self._submit(pool, result.document_id, summary, progress)
                return
        elif result.duplicate:
            summary.duplicates += 1
        elif result.status == DocumentStatus.FAILED:
            summary.failed += 1
        elif pool is None:
            summary.queued += 1
        else:
            self._submit(pool, result.document_id, summary, progress)
            return
        self._finish_one(summary, progress)

    def _finish_one(self, summary: Summary, progress: Progress | None) -> None:
        with self._lock:
            self._finished += 1
        if progress is not None:
            progress(summary, self._finished)

    def _wait_idle(self, pool: WorkerPool, summary: Summary, progress: Progress | None) -> None:
        while not pool.idle():
            with self._lock:
                self._done.wait(0.5)
            if progress is not None:
                progress(summary, self._finished)
        if progress is not None:
            progress(summary, self._finished)
