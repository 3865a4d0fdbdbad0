"""The content-addressed document store: originals kept under their SHA-256.

Bytes are hashed while they are copied, in one pass, into a temporary file inside the
store (same filesystem), fsync'd, then renamed to `<sha[:2]>/<sha>` and the folder fsync'd.
A crash at any moment leaves either no file, a stray temporary file (removed at the next
start), or the complete original: never a half-written original under its final name.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from models import StoreLayout

CHUNK = 1 << 20
TEMP_PREFIX = ".incoming-"


@dataclass(frozen=True)
class Stored:
    """An original now safe in the store."""

    sha256: str
    size: int
    path: Path
    head: bytes  # the first bytes, to recognise the file's kind without reading it again


def fsync_dir(path: Path) -> None:
    """Make a rename or a new file in `path` survive a power cut."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def file_chunks(path: Path, chunk: int = CHUNK) -> Iterable[bytes]:
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            yield block


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    for block in file_chunks(path):
        digest.update(block)
    return digest.hexdigest()


def put_chunks(
    layout: StoreLayout, chunks: Iterable[bytes], *, max_bytes: int | None = None
) -> Stored:
    """Copy a stream of bytes into the store; returns where it went and its hash.

    Raises `TooLargeError` when the stream is longer than `max_bytes` (nothing is kept).
    """
    layout.store.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    head = b""
    fd, tmp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=layout.store)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for block in chunks:
                if len(head) < 1024:
                    head += block[: 1024 - len(head)]
                size += len(block)
                if max_bytes is not None and size > max_bytes:
                    raise TooLargeError(size, max_bytes)
                digest.update(block)
                out.write(block)
            out.flush()
            os.fsync(out.fileno())
        sha = digest.hexdigest()
        final = layout.original(sha)
        if final.exists() and final.stat().st_size == size:
            tmp.unlink()  # already stored (an earlier arrival, or a crash before commit)
        else:
            final.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(tmp, 0o640)
            os.replace(tmp, final)
            fsync_dir(final.parent)
        return Stored(sha, size, final, head)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def put_file(layout: StoreLayout, path: Path, *, max_bytes: int | None = None) -> Stored:
    return put_chunks(layout, file_chunks(path), max_bytes=max_bytes)


def clean_temporaries(layout: StoreLayout) -> int:
    """Remove temporary files a crash left behind; their sources are still where they were."""
    removed = 0
    if layout.store.is_dir():
        for entry in os.scandir(layout.store):
            if entry.name.startswith(TEMP_PREFIX) and entry.is_file():
                Path(entry.path).unlink(missing_ok=True)
                removed += 1
    return removed


def write_atomic(path: Path, data: bytes) -> None:
    """Write a derived file (a page image) so readers never see half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp_name, 0o640)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


class TooLargeError(Exception):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"larger than {limit // (1 << 20)} MB")
        self.size = size
        self.limit = limit
