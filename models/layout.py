"""Where files live under the data directory: shared by intake, the review pages and removal."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

# Sixteen greys look the same on a document page: the PNG is a quarter of an 8-bit one's
# size and four times as fast to write.
_GREYS = [level * 17 for level in range(16) for _ in range(3)]


def page_png(image: Image.Image) -> bytes:
    """A page image in the format of the store's page images: a 16-grey (4-bit) PNG."""
    pixels = np.asarray(image if image.mode == "L" else image.convert("L"))
    preview = Image.fromarray(np.right_shift(pixels, 4), "P")
    preview.putpalette(_GREYS)
    buf = io.BytesIO()
    preview.save(buf, format="PNG", bits=4, compress_level=1)
    return buf.getvalue()


@dataclass(frozen=True)
class StoreLayout:
    """Content-addressed originals and the page images derived from them.

    originals: `store/<sha256[:2]>/<sha256>`; page images: `pages/<sha256>/page-<n>.png`
    (`page_png`), written by ingest for the pages it OCR'd.
    """

    data_dir: Path

    @property
    def inbox(self) -> Path:
        return self.data_dir / "inbox"

    @property
    def store(self) -> Path:
        return self.data_dir / "store"

    @property
    def pages(self) -> Path:
        return self.data_dir / "pages"

    def original(self, sha256: str) -> Path:
        return self.store / sha256[:2] / sha256

    def page_dir(self, sha256: str) -> Path:
        return self.pages / sha256

    def page_image(self, sha256: str, number: int) -> Path:
        return self.page_dir(sha256) / f"page-{number}.png"
