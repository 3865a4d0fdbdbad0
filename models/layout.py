"""Where files live under the data directory: shared by intake, the review pages and removal."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class StoreLayout:
    """Content-addressed originals and the page images derived from them.

    originals: `store/<sha256[:2]>/<sha256>`; page images: `pages/<sha256>/page-<n>.png`.
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
