"""Pages of a file as words with boxes: the PDF text layer where there is one, else OCR.

This first version reads text layers with pdfplumber and everything else with plain
tesseract; orientation, deskew and photo clean-up plug in at `ocr.read_image`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pdfplumber
import pypdfium2
from PIL import Image, ImageSequence

from extract import ocr
from extract.errors import (
    CorruptFileError,
    EmptyFileError,
    EncryptedPDFError,
    ImageTooLargeError,
    TooManyPagesError,
    UnsupportedFileError,
)
from extract.types import Page, ReadOptions, Word

PDF_MAGIC = b"%PDF"
IMAGE_MAGIC = {
    b"\x89PNG": "png",
    b"\xff\xd8\xff": "jpeg",
    b"II*\x00": "tiff",
    b"MM\x00*": "tiff",
}


def sniff(path: Path) -> str:
    """The file's kind from its first bytes (never its name): pdf, png, jpeg or tiff."""
    with path.open("rb") as fh:
        head = fh.read(1024)
    if not head:
        raise EmptyFileError("the file is empty (0 bytes): scan or copy it again")
    if PDF_MAGIC in head:
        return "pdf"
    for magic, kind in IMAGE_MAGIC.items():
        if head.startswith(magic):
            return kind
    raise UnsupportedFileError(
        "not a PDF, PNG, JPEG or TIFF file: save or scan it in one of those formats"
    )


def iter_pages(path: Path, options: ReadOptions = ReadOptions()) -> Iterator[Page]:
    """Yield the pages of a file one at a time, so a long file never sits whole in memory."""
    kind = sniff(path)
    if kind == "pdf":
        yield from _pdf_pages(path, options)
    else:
        yield from _image_pages(path, options)


def read_pages(path: Path, options: ReadOptions = ReadOptions()) -> list[Page]:
    return list(iter_pages(path, options))


def _image_pages(path: Path, options: ReadOptions) -> Iterator[Page]:
    Image.MAX_IMAGE_PIXELS = options.max_pixels
    try:
        with Image.open(path) as img:
            frames = getattr(img, "n_frames", 1)
            if frames > options.max_pages:
                raise TooManyPagesError(
                    f"{frames} pages is more than the limit of {options.max_pages}: split the file"
                )
            for n, frame in enumerate(ImageSequence.Iterator(img), start=1):
                frame.load()
                yield ocr.read_image(frame.copy(), n, options)
    except Image.DecompressionBombError as e:
        raise ImageTooLargeError(
            "the image is too large to be a scanned page (possible decompression bomb): "
            "rescan it at 300 dpi"
        ) from e
    except (OSError, SyntaxError, ValueError) as e:
        raise CorruptFileError(f"the image cannot be decoded ({type(e).__name__}): scan it again") from e


def _pdf_pages(path: Path, options: ReadOptions) -> Iterator[Page]:
    try:
        pdf = pypdfium2.PdfDocument(str(path))
    except pypdfium2.PdfiumError as e:
        msg = str(e).lower()
        if "password" in msg:
            raise EncryptedPDFError(
                "the PDF is password-protected: save an unprotected copy and drop it again"
            ) from e
        raise CorruptFileError(f"the PDF is damaged and cannot be opened ({e}): get a new copy") from e
    try:
        count = len(pdf)
        if count == 0:
            raise CorruptFileError("the PDF has no pages: get a new copy")
        if count > options.max_pages:
            raise TooManyPagesError(
                f"{count} pages is more than the limit of {options.max_pages}: split the file"
            )
        with _open_plumber(path) as plumber:
            for index in range(count):
                words = _text_layer_words(plumber, index) if plumber is not None else None
                if words:
                    page = pdf[index]
                    w, h = page.get_size()
                    image = _render(page, 110) if options.keep_images else None
                    yield Page(index + 1, w, h, "text", words, image=image)
                else:
                    image = _render(pdf[index], options.dpi)
                    yield ocr.read_image(image, index + 1, options)
    finally:
        pdf.close()


class _NullContext:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _open_plumber(path: Path) -> pdfplumber.PDF | _NullContext:
    """pdfplumber for the text layer; a PDF it cannot parse is still rendered and OCR'd."""
    try:
        return pdfplumber.open(path)
    except Exception:
        return _NullContext()


def _text_layer_words(plumber: pdfplumber.PDF, index: int) -> list[Word]:
    try:
        page = plumber.pages[index]
        raw = page.extract_words(keep_blank_chars=False, use_text_flow=False)
    except Exception:
        return []
    width, height = float(page.width), float(page.height)
    words: list[Word] = []
    line, last_top = 0, None
    for w in sorted(raw, key=lambda w: (round(float(w["top"]) / 3), float(w["x0"]))):
        top = float(w["top"])
        if last_top is not None and abs(top - last_top) > 3:
            line += 1
        last_top = top
        box = (float(w["x0"]) / width, top / height, float(w["x1"]) / width, float(w["bottom"]) / height)
        words.append(Word(w["text"], 1.0, box, 0, line))
    return words


def _render(page: pypdfium2.PdfPage, dpi: int) -> Image.Image:
    return page.render(scale=dpi / 72).to_pil()
