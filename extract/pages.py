"""Pages of a file as words with boxes: the PDF text layer where it can be trusted, else OCR.

A PDF is read page by page, so a mixed file (some pages typed, some scanned) gets each
page from the better source; a page whose text layer is empty or garbage is rendered and
OCR'd. Images (PNG, JPEG, TIFF with any number of pages) are OCR'd. Anything that cannot
be read raises an `ExtractError` subclass whose message says what a person can do.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pypdfium2
from PIL import Image, ImageFile, UnidentifiedImageError

from extract import ocr, textlayer
from extract import preprocess as pp
from extract.errors import (
    CorruptFileError,
    EmptyFileError,
    EncryptedPDFError,
    ExtractError,
    ImageTooLargeError,
    TooManyPagesError,
    UnsupportedFileError,
)
from extract.types import Page, ReadOptions

PDF_MAGIC = b"%PDF"
IMAGE_MAGIC = {
    b"\x89PNG": "png",
    b"\xff\xd8\xff": "jpeg",
    b"II*\x00": "tiff",
    b"MM\x00*": "tiff",
}
PREVIEW_DPI = 110  # page previews of text PDFs (only when the caller keeps images)
MIN_SCAN_DPI = 200  # a scanned PDF page is rendered at its own resolution, at least this


def sniff(path: Path) -> str:
    """The file's kind from its first bytes (never its name): pdf, png, jpeg or tiff."""
    try:
        with path.open("rb") as fh:
            head = fh.read(1024)
    except OSError as e:
        raise CorruptFileError(f"the file cannot be opened ({e.strerror}): copy it again") from e
    if not head:
        raise EmptyFileError("the file is empty (0 bytes): scan or copy it again")
    if PDF_MAGIC in head:
        return "pdf"
    for magic, kind in IMAGE_MAGIC.items():
        if head.startswith(magic):
            return kind
    if _looks_like_pdf(path):
        return "pdf"  # a PDF with a damaged header: let the PDF reader try, or say why not
    raise UnsupportedFileError(
        "not a PDF, PNG, JPEG or TIFF file: save or scan it in one of those formats"
    )


def _looks_like_pdf(path: Path) -> bool:
    with path.open("rb") as fh:
        chunk = fh.read(65536)
    if PDF_MAGIC in chunk:
        return True
    return b" obj" in chunk and any(k in chunk for k in (b"xref", b"trailer", b"/Type", b"endobj"))


def iter_pages(path: Path, options: ReadOptions = ReadOptions()) -> Iterator[Page]:
    """Yield the pages of a file one at a time, so a long file never sits whole in memory."""
    path = Path(path)
    kind = sniff(path)
    with _explained(kind):
        for source in _sources(path, kind, options):
            yield ocr.read_image_scan(source, options) if isinstance(source, ocr.Scan) else source


def iter_sources(path: Path, options: ReadOptions = ReadOptions()) -> Iterator[Page | ocr.Scan]:
    """The pages of a file as read from a text layer, or as scans prepared for tesseract.

    For callers that OCR the scans of several pages or files together (`extract.batch`).
    """
    path = Path(path)
    kind = sniff(path)
    with _explained(kind):
        yield from _sources(path, kind, options)


def _sources(path: Path, kind: str, options: ReadOptions) -> Iterator[Page | ocr.Scan]:
    return _pdf_pages(path, options) if kind == "pdf" else _image_pages(path, options)


@contextmanager
def _explained(kind: str) -> Iterator[None]:
    """A library tripping over a damaged file must still end as a readable reason."""
    try:
        yield
    except (ExtractError, MemoryError, KeyboardInterrupt):
        raise
    except Exception as e:
        raise CorruptFileError(
            f"the {kind.upper()} file could not be read ({type(e).__name__}: {_why(e)}): "
            "get a new copy"
        ) from e


def read_pages(path: Path, options: ReadOptions = ReadOptions()) -> list[Page]:
    return list(iter_pages(path, options))


# ---------------------------------------------------------------- images


def _image_pages(path: Path, options: ReadOptions) -> Iterator[ocr.Scan]:
    Image.MAX_IMAGE_PIXELS = options.max_pixels  # Pillow's own bomb check, at our limit
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(path)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise _too_large() from e
    except UnidentifiedImageError as e:
        raise CorruptFileError("the image is damaged and cannot be opened: scan it again") from e
    except (OSError, SyntaxError, ValueError) as e:
        raise CorruptFileError(f"the image cannot be opened ({_why(e)}): scan it again") from e
    with img:
        frames = getattr(img, "n_frames", 1)
        if frames > options.max_pages:
            raise TooManyPagesError(
                f"{frames} pages is more than the limit of {options.max_pages}: split the file"
            )
        for n in range(1, frames + 1):
            frame = _load_frame(img, n, frames, options)
            yield ocr.prepare_scan(cleaned(frame), n)


def cleaned(image: Image.Image) -> Image.Image:
    """A scanned page with the scanner's marks and a fax's faults made good for OCR: the
    dark border and hole punches painted white (`preprocess.whiten_scanner_marks`), and a
    black-and-white or non-square page (a fax) cleaned (`preprocess.clean_bilevel`).
    Images without a resolution (phone photos) are cut out of their background later, by
    `ocr.prepare`, and are returned as they are."""
    xy = pp.image_dpi_xy(image)
    if xy is None:
        return image
    gray, _rgb = pp.to_gray(image)
    out = pp.whiten_scanner_marks(gray, max(xy))
    square = max(xy) / min(xy) <= 1.15
    dpi: float | None = max(xy)
    if not square or pp.is_bilevel(out):
        out, dpi = pp.clean_bilevel(out, xy)
    if out is gray and image.mode in ("L", "RGB", "1"):
        return image
    result = Image.fromarray(out)
    result.info = dict(image.info)
    if dpi:
        result.info["dpi"] = (dpi, dpi)
    return result


def _load_frame(img: Image.Image, n: int, frames: int, options: ReadOptions) -> Image.Image:
    """Decode page `n`; a damaged page is reported as such, a bomb before it is decoded."""
    where = f"page {n} of the image" if frames > 1 else "the image"
    try:
        if n > 1:
            img.seek(n - 1)
        w, h = img.size
        if w * h > options.max_pixels or w <= 0 or h <= 0:
            raise _too_large()
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        img.load()
        frame = img.copy()
        frame.info = dict(img.info)  # keep the dpi
        return frame
    except ExtractError:
        raise
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as e:
        raise CorruptFileError(
            f"{where} is damaged or cut short ({_why(e)}): scan or copy it again"
        ) from e


def _too_large() -> ImageTooLargeError:
    return ImageTooLargeError(
        "the image is too large to be a scanned page (possible decompression bomb): "
        "rescan it at 300 dpi"
    )


def _why(e: BaseException) -> str:
    text = str(e).splitlines()[0] if str(e) else type(e).__name__
    return text[:80]


# ---------------------------------------------------------------- PDFs


def _pdf_pages(path: Path, options: ReadOptions) -> Iterator[Page | ocr.Scan]:
    try:
        pdf = pypdfium2.PdfDocument(str(path))
    except pypdfium2.PdfiumError as e:
        msg = str(e).lower()
        if "password" in msg or "security" in msg:
            raise EncryptedPDFError(
                "the PDF is password-protected or encrypted: save an unprotected copy "
                "and drop it again"
            ) from e
        raise CorruptFileError(
            "the PDF is damaged and cannot be opened: get a new copy or print it to PDF again"
        ) from e
    try:
        count = len(pdf)
        if count == 0:
            raise CorruptFileError("the PDF has no pages: get a new copy")
        if count > options.max_pages:
            raise TooManyPagesError(
                f"{count} pages is more than the limit of {options.max_pages}: split the file"
            )
        for index in range(count):
            yield _pdf_page(pdf, index, options)
    finally:
        pdf.close()


def _pdf_page(pdf: pypdfium2.PdfDocument, index: int, options: ReadOptions) -> Page | ocr.Scan:
    number = index + 1
    try:
        page = pdf[index]
    except pypdfium2.PdfiumError as e:
        raise CorruptFileError(
            f"page {number} of the PDF is damaged and cannot be read: get a new copy"
        ) from e
    try:
        width, height = page.get_size()
        if width <= 0 or height <= 0:
            raise CorruptFileError(f"page {number} of the PDF has no size: get a new copy")
        try:
            words, check = textlayer.read_layer(page)
        except pypdfium2.PdfiumError:
            words, check = [], textlayer.LayerCheck()
        if check.verdict() is None:
            draw = options.keep_images and options.draw_text_pages
            image = _render(page, PREVIEW_DPI, options) if draw else None
            return Page(number, width, height, "text", words, image=image)
        dpi = options.dpi
        if check.image_cover > 0.5 and check.image_dpi > 0:
            # a scanned page: read it at its own resolution (more pixels cost time, add
            # nothing), but never below what tesseract needs
            dpi = round(min(options.dpi, max(MIN_SCAN_DPI, check.image_dpi)))
        image = _render(page, dpi, options)
        image.info["dpi"] = (dpi, dpi)
        return ocr.prepare_scan(cleaned(image), number)
    finally:
        page.close()


def _render(page: pypdfium2.PdfPage, dpi: int, options: ReadOptions) -> Image.Image:
    """The page as a grayscale image at `dpi`, scaled down if it would be a pixel bomb."""
    width, height = page.get_size()
    scale = dpi / 72
    pixels = width * height * scale * scale
    limit = min(options.max_pixels, 60_000_000)
    if pixels > limit:
        scale *= (limit / pixels) ** 0.5
    try:
        bitmap = page.render(scale=scale, grayscale=True)
        return bitmap.to_pil()
    except pypdfium2.PdfiumError as e:
        raise CorruptFileError(
            f"a page of the PDF cannot be drawn ({_why(e)}): get a new copy"
        ) from e
