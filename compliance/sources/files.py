"""Opening a published file (plain CSV or JSON, or the CSV inside SAM's daily ZIP) as a
stream of text, with a count of the bytes read for a progress bar, and small parsers of
the date formats the agencies use."""

from __future__ import annotations

import codecs
import hashlib
import io
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import IO

CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


class CountingReader(io.RawIOBase):
    """A binary stream that counts what was read through it (the progress bar's position)."""

    def __init__(self, inner: IO[bytes], on_read: Callable[[int], None] | None = None) -> None:
        self.inner = inner
        self.count = 0
        self.on_read = on_read

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self.inner.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.count += n
        if self.on_read is not None:
            self.on_read(n)
        return n


def zip_member(path: Path) -> zipfile.ZipInfo | None:
    """The one CSV inside a ZIP (SAM's daily extract), or None when there is none."""
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            if info.filename.lower().endswith(".csv") and not info.is_dir():
                return info
    return None


@contextmanager
def open_text(path: Path, on_read: Callable[[int], None] | None = None) -> Iterator[IO[str]]:
    """The file's text, streamed (a ZIP's CSV member is read out of the archive as it goes).
    Bytes that are not UTF-8 (older LEIE copies are Latin-1) are read as Latin-1."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            info = zip_member(path)
            if info is None:
                raise ValueError("a ZIP without a CSV file in it")
            with zf.open(info) as raw:
                yield _text(raw, on_read)
        return
    with path.open("rb") as raw:
        yield _text(raw, on_read)


def _text(raw: IO[bytes], on_read: Callable[[int], None] | None) -> IO[str]:
    counted = io.BufferedReader(CountingReader(raw, on_read), CHUNK)
    return io.TextIOWrapper(counted, encoding="utf-8-sig", errors="latin1fallback", newline="")


def _latin1_fallback(err: UnicodeError) -> tuple[str, int]:
    if not isinstance(err, UnicodeDecodeError):
        raise err
    return err.object[err.start : err.end].decode("latin-1"), err.end


codecs.register_error("latin1fallback", _latin1_fallback)


def size_of(path: Path) -> int:
    """Bytes the stream will yield: the uncompressed member of a ZIP, else the file."""
    if zipfile.is_zipfile(path):
        info = zip_member(path)
        return info.file_size if info else 0
    return path.stat().st_size


# --- dates -----------------------------------------------------------------------------


def ymd(text: str) -> date | None:
    """LEIE's YYYYMMDD; '00000000' and blanks are no date."""
    text = text.strip()
    if len(text) != 8 or not text.isdigit() or text == "00000000":
        return None
    return date(int(text[:4]), int(text[4:6]), int(text[6:]))


def mdy(text: str, *, past: bool = False) -> date | None:
    """MM/DD/YYYY, or MM/DD/YY (older LEIE supplements). A two-digit year of a birth date
    (`past`) is the latest year not in the future."""
    text = text.strip()
    if not text:
        return None
    parts = text.split("/")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValueError(f"not a MM/DD/YYYY date: {text[:20]!r}")
    month, day, year = (int(p) for p in parts)
    if len(parts[2]) == 2:
        year += 2000
        if past and year > date.today().year:
            year -= 100
    return date(year, month, day)


def iso(text: str) -> date | None:
    text = text.strip()[:10]
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def any_date(text: str, *, past: bool = False) -> date | None:
    """Whichever of the agencies' formats the text is in; None when blank or none."""
    text = text.strip()
    if not text:
        return None
    if "/" in text:
        return mdy(text, past=past)
    if "-" in text:
        return iso(text)
    return ymd(text)
