"""The inbox watcher: notices files, waits until each is whole, and hands it to intake once.

Native file events (inotify) by default; watchdog's PollingObserver for network shares
where events never fire. Events only nominate candidates: a startup scan and a periodic
rescan nominate everything too, so a missed event strands nothing. One thread takes
candidates one at a time, so nothing is taken twice, and any error with one file is logged
and retried later: the watcher thread never dies on a bad file.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

from ingest.intake import hint_for, is_ignored

log = logging.getLogger(__name__)

# a zero-byte file is usually a scanner or a network copy that has not written yet
EMPTY_FILE_SETTLE_FACTOR = 5
# after the writer closed the file (inotify IN_CLOSE_WRITE) it only has to stay still this
# long: a tool that closes and reopens between chunks is still caught
CLOSED_SETTLE_SECONDS = 0.2


@dataclass
class _Seen:
    size: int
    mtime_ns: int
    since: float  # monotonic time this (size, mtime) was first seen
    retry_at: float = 0.0  # after a failed take, not before this
    closed: bool = False  # the writer closed it and has not written since


def iter_files(root: Path) -> Iterator[Path]:
    """Every file under `root` that is not a temporary or system file, streamed."""
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if is_ignored(entry.name):
                        continue
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            stack.append(Path(entry.path))
                        elif entry.is_file(follow_symlinks=False):
                            yield Path(entry.path)
                    except OSError:
                        continue
        except OSError:
            continue


def is_locked(path: Path) -> bool:
    """Another program holds a lock on the file (it is still writing it)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    except OSError:
        return True
    finally:
        os.close(fd)


class _Nominate(FileSystemEventHandler):
    def __init__(self, note: Callable[[Path, bool | None], None]) -> None:
        self.note = note

    def on_any_event(self, event: FileSystemEvent) -> None:
        path = Path(os.fsdecode(getattr(event, "dest_path", "") or event.src_path))
        kind = event.event_type
        if event.is_directory:
            if kind in ("created", "moved"):
                self.note(path, None)
        elif kind == "closed":  # closed after writing
            self.note(path, True)
        elif kind in ("created", "modified", "moved"):
            self.note(path, False)


class InboxWatcher:
    """Calls `take(path, hint)` once for each whole file that lands in `inbox`."""

    def __init__(
        self,
        inbox: Path,
        take: Callable[[Path, str | None], object],
        *,
        settle_seconds: float = 1.0,
        poll_seconds: float | None = None,
        rescan_seconds: float = 60.0,
    ) -> None:
        self.inbox = inbox
        self.take = take
        self.settle = settle_seconds
        self.poll_seconds = poll_seconds
        self.rescan_seconds = rescan_seconds
        self._seen: dict[Path, _Seen] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._observer: BaseObserver | None = None
        self._thread: threading.Thread | None = None
        self.taken = 0
        self.errors = 0

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        self.inbox.mkdir(parents=True, exist_ok=True)
        self._observer = self._make_observer()
        self._observer.schedule(_Nominate(self._note), str(self.inbox), recursive=True)
        self._observer.start()
        self._thread = threading.Thread(target=self._run, name="inbox-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._observer is not None:
            self._observer.stop()
            with contextlib.suppress(RuntimeError):
                self._observer.join(5)
        if self._thread is not None:
            self._thread.join(10)

    def _make_observer(self) -> BaseObserver:
        if self.poll_seconds:
            return PollingObserver(timeout=self.poll_seconds)
        try:
            observer = Observer()
            observer.schedule(FileSystemEventHandler(), str(self.inbox), recursive=True)
            observer.unschedule_all()
            return observer
        except OSError as e:  # e.g. the inotify watch limit: polling still works
            log.warning("native file events unavailable (%s): polling the inbox every 5 s", e)
            return PollingObserver(timeout=5)

    def _note(self, path: Path, closed: bool | None = None) -> None:
        if closed is None and path.is_dir():
            for file in iter_files(path):  # a folder moved in whole brings no file events
                self._note(file)
            return
        try:
            rel = PurePosixPath(path.relative_to(self.inbox).as_posix())
        except ValueError:
            return
        if is_ignored(rel):
            return
        with self._lock:
            seen = self._seen.get(path)
            if seen is None:
                seen = self._seen[path] = _Seen(-1, -1, time.monotonic())
            if closed is not None:
                seen.closed = closed
        self._wake.set()

    def rescan(self) -> None:
        """Nominate every file in the inbox: what events missed is found here."""
        for path in iter_files(self.inbox):
            with self._lock:
                if path not in self._seen:
                    self._seen[path] = _Seen(-1, -1, time.monotonic())

    def _run(self) -> None:
        next_rescan = 0.0
        while not self._stop.is_set():
            try:
                if time.monotonic() >= next_rescan:
                    self.rescan()
                    next_rescan = time.monotonic() + self.rescan_seconds
                delay = self._check()
            except Exception:
                log.exception("inbox watcher: unexpected error; carrying on")
                delay = 1.0
            self._wake.wait(delay)
            self._wake.clear()

    def _check(self) -> float:
        """Take every candidate that is whole; returns how long to wait before looking again."""
        now = time.monotonic()
        wall = time.time()
        with self._lock:
            candidates = list(self._seen.items())
        next_look = 1.0
        for path, seen in candidates:
            if self._stop.is_set():
                break
            if seen.retry_at > now:
                continue
            try:
                st = path.stat()
            except FileNotFoundError:
                with self._lock:
                    self._seen.pop(path, None)
                continue
            except OSError:
                continue
            settle = self.settle * (EMPTY_FILE_SETTLE_FACTOR if st.st_size == 0 else 1)
            if seen.closed and st.st_size > 0:
                settle = min(settle, CLOSED_SETTLE_SECONDS)
            if (st.st_size, st.st_mtime_ns) != (seen.size, seen.mtime_ns):
                seen.size, seen.mtime_ns, seen.since = st.st_size, st.st_mtime_ns, now
            stable_for = now - seen.since
            if not self.poll_seconds:
                # local disk, one clock: the modification time says how long it has been still
                stable_for = max(
                    stable_for, min(wall - st.st_mtime_ns / 1e9, stable_for + self.settle)
                )
            if stable_for < settle:
                next_look = min(next_look, settle - stable_for + 0.02)
                continue
            if is_locked(path):
                seen.since = now
                next_look = min(next_look, settle)
                continue
            self._take(path, seen)
        return max(0.05, next_look)

    def _take(self, path: Path, seen: _Seen) -> None:
        rel = PurePosixPath(path.relative_to(self.inbox).as_posix())
        try:
            self.take(path, hint_for(rel))
            self.taken += 1
            with self._lock:
                self._seen.pop(path, None)
        except FileNotFoundError:
            with self._lock:
                self._seen.pop(path, None)
        except Exception as e:
            # the file stays in the inbox and is tried again; the name may be personal: not logged
            self.errors += 1
            seen.retry_at = time.monotonic() + max(5.0, self.settle)
            log.warning(
                "inbox: a file could not be taken (%s); it stays and is tried again",
                type(e).__name__,
            )
