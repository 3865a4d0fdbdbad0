"""The `DATA_DIR/sources/` folder that `credflow run` watches: a file is imported once its
size and modification time hold still between two looks; the same file is not hashed again
while it stays unchanged. A file that is refused is logged once, and stays for a person."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from compliance.sources.importer import ImportReport, UnknownFile, import_file
from models import Database

log = logging.getLogger(__name__)


@dataclass
class SourceFolder:
    folder: Path
    _pending: dict[Path, tuple[int, float]] = field(default_factory=dict)
    _done: dict[Path, tuple[int, float]] = field(default_factory=dict)

    def poll(self, db: Database) -> list[ImportReport]:
        """Import what is new and whole; returns the imports that changed something."""
        changed: list[ImportReport] = []
        if not self.folder.is_dir():
            return changed
        for path in sorted(p for p in self.folder.rglob("*") if p.is_file()):
            if path.name.startswith((".", "~")) or path.suffix in (".part", ".tmp"):
                continue
            try:
                st = path.stat()
            except OSError:
                continue
            stamp = (st.st_size, st.st_mtime)
            if self._done.get(path) == stamp:
                continue
            if self._pending.get(path) != stamp:
                self._pending[path] = stamp  # look again next time: still being written?
                continue
            self._pending.pop(path, None)
            self._done[path] = stamp
            try:
                report = import_file(db, path)
            except UnknownFile as e:
                log.warning("sources: refused %s: %s", path.name, e)
                continue
            except Exception:
                log.exception(
                    "sources: importing %s failed; it is tried again when it changes", path.name
                )
                continue
            log.info("sources: %s", report.line())
            if not report.unchanged:
                changed.append(report)
        return changed
