"""The inbox watcher: whole files only, once each, temp files never, and it never dies."""

from __future__ import annotations

import fcntl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from ingest.intake import Intake
from ingest.store import sha256_file
from ingest.watcher import InboxWatcher
from models import Database, Document, StoreLayout
from tests.ingest.helpers import make_text_pdf, wait_for

SETTLE = 0.4


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'credflow.db'}")
    db.upgrade()
    yield db
    db.dispose()


class Recorder:
    """Intake that also remembers what it was handed, in order."""

    def __init__(self, db: Database, layout: StoreLayout) -> None:
        self.intake = Intake(db, layout)
        self.taken: list[tuple[str, str | None]] = []
        self.fail_next = 0
        self.lock = threading.Lock()

    def __call__(self, path: Path, hint: str | None) -> object:
        with self.lock:
            if self.fail_next:
                self.fail_next -= 1
                raise RuntimeError("the disk hiccuped")
            self.taken.append((path.name, hint))
        return self.intake.take_file(path, hint=hint, remove=True)


def _start(
    tmp_path: Path, db: Database, **kwargs: float
) -> tuple[InboxWatcher, Recorder, StoreLayout]:
    layout = StoreLayout(tmp_path)
    recorder = Recorder(db, layout)
    options: dict[str, float] = {"settle_seconds": SETTLE, "rescan_seconds": 60.0} | kwargs
    watcher = InboxWatcher(layout.inbox, recorder, **options)
    watcher.start()
    return watcher, recorder, layout


def test_half_written_file_waits_until_it_is_whole(tmp_path: Path, sqlite_db: Database) -> None:
    watcher, recorder, layout = _start(tmp_path, sqlite_db)
    content = make_text_pdf(tmp_path / "src.pdf", 1).read_bytes()
    target = layout.inbox / "scan.pdf"
    try:
        with target.open("wb") as fh:
            fh.write(content[: len(content) // 2])
            fh.flush()
            threading.Event().wait(SETTLE * 0.6)
            fh.write(content[len(content) // 2 : -10])
            fh.flush()
            threading.Event().wait(SETTLE * 0.6)
            assert recorder.taken == [] and target.exists()
            fh.write(content[-10:])
        wait_for(lambda: recorder.taken, timeout=30)
        wait_for(lambda: not target.exists(), timeout=30)
        with sqlite_db.session() as s:
            [sha] = s.scalars(select(Document.sha256)).all()
        assert sha == sha256_file(tmp_path / "src.pdf")  # the whole file, not half
    finally:
        watcher.stop()


def test_locked_file_is_left_until_the_lock_goes(tmp_path: Path, sqlite_db: Database) -> None:
    watcher, recorder, layout = _start(tmp_path, sqlite_db)
    target = make_text_pdf(layout.inbox / "scan.pdf", 2)
    try:
        with target.open("rb") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            threading.Event().wait(SETTLE * 4)
            assert recorder.taken == []
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        wait_for(lambda: recorder.taken == [("scan.pdf", None)], timeout=30)
    finally:
        watcher.stop()


def test_temporary_files_are_ignored_and_subfolders_become_hints(
    tmp_path: Path, sqlite_db: Database
) -> None:
    watcher, recorder, layout = _start(tmp_path, sqlite_db)
    inbox = layout.inbox
    try:
        for name in [
            "~$scan.pdf",
            "scan.pdf.part",
            "x.tmp",
            ".DS_Store",
            "Thumbs.db",
            ".hidden.pdf",
        ]:
            (inbox / name).write_bytes(b"%PDF-1.4 not yet")
        make_text_pdf(inbox / "@eaDir" / "thumb.pdf", 3)
        make_text_pdf(inbox / "__MACOSX" / "x.pdf", 4)
        make_text_pdf(inbox / "Gonzalez, Maria" / "licence.pdf", 5)
        make_text_pdf(inbox / "plain.pdf", 6)
        wait_for(lambda: len(recorder.taken) == 2, timeout=30)
        threading.Event().wait(SETTLE * 3)
        assert sorted(recorder.taken) == [("licence.pdf", "Gonzalez, Maria"), ("plain.pdf", None)]
        with sqlite_db.session() as s:
            assert (
                s.scalar(select(Document.hint).where(Document.filename == "licence.pdf"))
                == "Gonzalez, Maria"
            )
        assert (inbox / "~$scan.pdf").exists() and (inbox / "@eaDir" / "thumb.pdf").exists()
    finally:
        watcher.stop()


def test_files_present_at_start_are_taken_and_polling_works(
    tmp_path: Path, sqlite_db: Database
) -> None:
    layout = StoreLayout(tmp_path)
    make_text_pdf(layout.inbox / "before.pdf", 7)
    watcher, recorder, _ = _start(tmp_path, sqlite_db, poll_seconds=0.3)
    try:
        wait_for(lambda: ("before.pdf", None) in recorder.taken, timeout=30)
        make_text_pdf(layout.inbox / "Smith" / "after.pdf", 8)
        wait_for(lambda: ("after.pdf", "Smith") in recorder.taken, timeout=30)
    finally:
        watcher.stop()


def test_the_periodic_rescan_finds_what_no_event_announced(
    tmp_path: Path, sqlite_db: Database
) -> None:
    # a poller that effectively never polls: only the rescan can find the file
    watcher, recorder, layout = _start(tmp_path, sqlite_db, poll_seconds=3600.0, rescan_seconds=0.5)
    try:
        threading.Event().wait(0.5)
        make_text_pdf(layout.inbox / "quiet.pdf", 9)
        wait_for(lambda: recorder.taken == [("quiet.pdf", None)], timeout=30)
    finally:
        watcher.stop()


def test_an_error_with_one_file_never_stops_the_watcher(
    tmp_path: Path, sqlite_db: Database
) -> None:
    watcher, recorder, layout = _start(tmp_path, sqlite_db)
    recorder.fail_next = 1
    try:
        make_text_pdf(layout.inbox / "first.pdf", 10)
        wait_for(lambda: watcher.errors == 1, timeout=30)
        assert (layout.inbox / "first.pdf").exists()  # left where it was
        make_text_pdf(layout.inbox / "second.pdf", 11)
        wait_for(lambda: ("second.pdf", None) in recorder.taken, timeout=30)
        wait_for(lambda: ("first.pdf", None) in recorder.taken, timeout=30)  # tried again
        assert watcher.alive
        with sqlite_db.session() as s:
            assert sorted(s.scalars(select(Document.filename))) == ["first.pdf", "second.pdf"]
    finally:
        watcher.stop()
