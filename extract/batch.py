"""Reading several files with shared tesseract runs: how a worker keeps up with tesseract.

Starting tesseract costs about 0.1 s (it loads its model every time), a sixth of what
reading a scanned page costs. So the scanned pages of consecutive files are collected,
prepared where they are decoded, and read in batches of up to `batch_pages` pages, one
tesseract run per batch. A file is handed back as soon as its last page is read; a file
that cannot be read is handed back with its error and never holds up the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from extract import ocr
from extract.errors import ExtractError
from extract.pages import iter_sources
from extract.types import Page, ReadOptions

BATCH_PAGES = 8  # pages per tesseract run: ~15 MB of page images each while they wait


@dataclass
class FileRead:
    """One file's pages in page order, or the reason it could not be read."""

    index: int  # position in the list of paths given
    pages: list[Page] = field(default_factory=list)
    error: ExtractError | MemoryError | None = None
    waiting: int = 0  # its scans queued for tesseract
    listed: bool = False  # every page of the file has been seen
    handed_back: bool = False


def read_files(
    paths: Sequence[Path],
    options: ReadOptions = ReadOptions(),
    *,
    batch_pages: int = BATCH_PAGES,
    on_file: Callable[[int], None] | None = None,
    on_page: Callable[[int, Page], None] | None = None,
    heartbeat: Callable[[], None] | None = None,
) -> Iterator[FileRead]:
    """Yield each file once all its pages are read (or it failed), roughly in order.

    `on_file(index)` is called before a file is opened (a worker that dies while
    decoding then knows which file killed it); `on_page(index, page)` after each page is
    read, so the caller can store a preview and drop the page image; `heartbeat` while
    the pages of a failed batch are read again one by one.
    """
    files = [FileRead(i) for i in range(len(paths))]
    queue: list[tuple[FileRead, ocr.Scan]] = []

    def read_queue() -> None:
        batch = [(f, s) for f, s in queue if f.error is None]
        queue.clear()
        if not batch:
            return
        pages = ocr.read_scans([s for _, s in batch], options, heartbeat)
        for (file, _), page in zip(batch, pages, strict=True):
            file.waiting -= 1
            if file.error is not None:
                continue  # an earlier page of the file failed in this batch
            if isinstance(page, ExtractError):
                file.error = page
            else:
                _add(file, page, on_page)

    for file, path in zip(files, paths, strict=True):
        if on_file is not None:
            on_file(file.index)
        try:
            for source in iter_sources(path, options):
                if isinstance(source, Page):
                    _add(file, source, on_page)
                    continue
                queue.append((file, source))
                file.waiting += 1
                if len(queue) >= batch_pages:
                    read_queue()
                    yield from _finished(files)
        except (ExtractError, MemoryError) as e:
            file.error = e
            file.waiting = 0
            queue[:] = [(f, s) for f, s in queue if f is not file]
        file.listed = True
        yield from _finished(files)
    read_queue()
    yield from _finished(files)


def _add(file: FileRead, page: Page, on_page: Callable[[int, Page], None] | None) -> None:
    file.pages.append(page)
    if on_page is not None:
        on_page(file.index, page)


def _finished(files: list[FileRead]) -> Iterator[FileRead]:
    for file in files:
        if file.listed and file.waiting == 0 and not file.handed_back:
            file.handed_back = True
            file.pages.sort(key=lambda p: p.number)
            yield file
