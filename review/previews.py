"""Page previews of text-layer PDF pages, drawn from the stored PDF when first asked for.

Ingest writes a preview only for pages it OCR'd (their image was cleaned, deskewed and
turned, so it cannot be drawn again without reading the page again). A text page is the
PDF page itself: drawing it on request costs ~6 ms once per view, while drawing and
storing it during ingest cost a quarter of reading such a page.
"""

from __future__ import annotations

from pathlib import Path

import pypdfium2

from models.layout import page_png

DEFAULT_PAGE_IMAGE_DPI = 110  # as credflow's settings (page_image_dpi)


class NoPreview(Exception):
    """The page cannot be drawn (not a PDF, no such page, a damaged file)."""


def draw_pdf_page(path: Path, number: int, dpi: int) -> bytes:
    """Page `number` (1-based) of the PDF at `path`, drawn at `dpi`, as a PNG."""
    try:
        pdf = pypdfium2.PdfDocument(str(path))
    except pypdfium2.PdfiumError as e:
        raise NoPreview("the stored file cannot be opened as a PDF") from e
    try:
        if not 1 <= number <= len(pdf):
            raise NoPreview(f"the PDF has no page {number}")
        page = pdf[number - 1]
        try:
            bitmap = page.render(scale=dpi / 72, grayscale=True)
            return page_png(bitmap.to_pil())
        except pypdfium2.PdfiumError as e:
            raise NoPreview(f"page {number} of the PDF cannot be drawn") from e
        finally:
            page.close()
    finally:
        pdf.close()
