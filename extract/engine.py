"""The OCR engine behind `extract.ocr`: tesseract kept loaded in this process, or the CLI.

Two engines, one interface, the same words out:

- `TesserocrEngine` keeps tesseract's model loaded in the process (the C API through
  tesserocr) and hands it the page's pixels directly: no program start, no model load,
  no temporary file per page. It asks tesseract for the same TSV the CLI writes
  (`GetTSVText`) and parses it the way pytesseract does, so words, boxes and
  confidences are identical to the CLI's.
- `CliEngine` runs the `tesseract` program through pytesseract on uncompressed TIFFs in
  /dev/shm (several pages in one run through a list file): the fallback when tesserocr
  is not installed, or was built against a different tesseract than the CLI (which
  would read differently).

`get()` gives this process's engine; `configure()` chooses one ("auto" prefers
tesserocr when it is usable).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Sequence
from typing import Any, Literal, Protocol

import cv2
import numpy as np
import pytesseract

from extract.errors import OCRError

Gray = np.ndarray
TSV = dict[str, list[Any]]
EngineName = Literal["auto", "tesserocr", "cli"]

TESSDATA_HINT = "install the tesseract-ocr and tesseract-ocr-eng packages"


class Engine(Protocol):
    """Tesseract's TSV of page images, and its orientation detection."""

    name: str

    def image_to_data(self, gray: Gray, dpi: int, language: str, psm: int, timeout: float) -> TSV:
        """One page: the TSV columns (`text`, `conf`, `left`, ...) as pytesseract's DICT."""
        ...

    def images_to_data(
        self, images: Sequence[tuple[Gray, int]], language: str, timeout: float
    ) -> list[TSV]:
        """Several pages read as one job (psm 3) that fails as a whole after `timeout`."""
        ...

    def osd(self, gray: Gray, dpi: int, timeout: float) -> tuple[int, float] | None:
        """(clockwise degrees that make the page upright, confidence), None if unsure."""
        ...

    def warm(self, language: str) -> None:
        """Load what the first page would (a worker does it before its first document)."""
        ...


def parse_tsv(tsv: str) -> TSV:
    """Tesseract's TSV as columns, numbers as pytesseract makes them (`int(float(x))`)."""
    rows = [row.split("\t") for row in tsv.strip().split("\n")]
    if len(rows) < 2:
        return {}
    header = rows.pop(0)
    if len(rows[-1]) < len(header):
        rows[-1].append("")  # an empty last word loses its cell
    text_col = len(header) - 1
    result: TSV = {}
    for i, head in enumerate(header):
        column: list[Any] = []
        for row in rows:
            if len(row) <= i:
                continue
            if i == text_col:
                column.append(row[i])
                continue
            try:
                column.append(int(float(row[i])))
            except ValueError:
                column.append(row[i])
        result[head] = column
    return result


TSV_HEADER = (
    "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\t"
    "left\ttop\twidth\theight\tconf\ttext\n"
)


# ---------------------------------------------------------------- in process


class TesserocrEngine:
    """Tesseract's C API, loaded once per process, fed pixels straight from memory."""

    name = "tesserocr"

    def __init__(self) -> None:
        import tesserocr

        self._tesserocr = tesserocr
        self._apis: dict[str, Any] = {}

    def _api(self, language: str) -> Any:
        api = self._apis.get(language)
        if api is None:
            try:
                api = self._tesserocr.PyTessBaseAPI(lang=language)
            except RuntimeError as e:
                raise OCRError(
                    f"tesseract has no '{language}' language data: {TESSDATA_HINT}"
                ) from e
            self._apis[language] = api
        return api

    def warm(self, language: str) -> None:
        self._api(language)

    def _set_image(self, api: Any, gray: Gray, dpi: int) -> None:
        gray = np.ascontiguousarray(gray, dtype=np.uint8)
        height, width = gray.shape[:2]
        api.SetImageBytes(gray.tobytes(), width, height, 1, width)
        api.SetSourceResolution(int(dpi))

    def _recognize(self, api: Any, timeout: float) -> bool:
        return bool(api.Recognize(timeout=max(1, int(timeout * 1000))))

    def image_to_data(self, gray: Gray, dpi: int, language: str, psm: int, timeout: float) -> TSV:
        api = self._api(language)
        api.SetPageSegMode(psm)
        self._set_image(api, gray, dpi)
        try:
            if not self._recognize(api, timeout):
                raise OCRError(
                    f"reading the page took longer than {timeout:.0f} s: rescan it at 300 dpi"
                )
            return parse_tsv(TSV_HEADER + (api.GetTSVText(0) or ""))
        finally:
            api.Clear()

    def images_to_data(
        self, images: Sequence[tuple[Gray, int]], language: str, timeout: float
    ) -> list[TSV]:
        deadline = time.monotonic() + timeout
        results: list[TSV] = []
        for n, (gray, dpi) in enumerate(images):
            left = deadline - time.monotonic()
            if left <= 0:
                raise OCRError(f"the shared run took longer than {timeout:.0f} s")
            api = self._api(language)
            api.SetPageSegMode(3)
            self._set_image(api, gray, dpi)
            try:
                if not self._recognize(api, left):
                    raise OCRError(f"the shared run took longer than {timeout:.0f} s")
                results.append(parse_tsv(TSV_HEADER + (api.GetTSVText(n) or "")))
            finally:
                api.Clear()
        return results

    def osd(self, gray: Gray, dpi: int, timeout: float) -> tuple[int, float] | None:
        # like `tesseract IMAGE stdout -l osd --psm 0 --dpi N osd`
        api = self._apis.get("osd")
        if api is None:
            try:
                api = self._tesserocr.PyTessBaseAPI(lang="osd", psm=self._tesserocr.PSM.OSD_ONLY)
            except RuntimeError:
                return None
            self._apis["osd"] = api
        self._set_image(api, gray, dpi)
        try:
            found = api.DetectOrientationScript()
        finally:
            api.Clear()
        if not found:
            return None
        # the CLI prints the confidence with two decimals, and says how to turn the page
        return (360 - int(found["orient_deg"])) % 360, round(float(found["orient_conf"]), 2)


# ---------------------------------------------------------------- the tesseract program


# Page images handed to tesseract live for a second: keep them in memory when we can.
_TEMP_DIR = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None


class CliEngine:
    """The `tesseract` program through pytesseract, one run per page or per list of pages."""

    name = "cli"

    def warm(self, language: str) -> None:
        pass  # each run loads the model itself

    def image_to_data(self, gray: Gray, dpi: int, language: str, psm: int, timeout: float) -> TSV:
        path = write_tiff(gray, dpi)
        try:
            return _run_tsv(path, language, psm, timeout)
        finally:
            os.unlink(path)

    def images_to_data(
        self, images: Sequence[tuple[Gray, int]], language: str, timeout: float
    ) -> list[TSV]:
        paths: list[str] = []
        try:
            for gray, dpi in images:
                paths.append(write_tiff(gray, dpi))
            fd, listing = tempfile.mkstemp(prefix="credflow-ocr-", suffix=".txt", dir=_TEMP_DIR)
            with os.fdopen(fd, "w") as fh:  # a text file of image paths is read as pages
                fh.write("\n".join(paths) + "\n")
            try:
                data = _run_tsv(listing, language, 3, timeout)
            finally:
                os.unlink(listing)
        finally:
            for path in paths:
                os.unlink(path)
        rows: dict[int, list[int]] = {n: [] for n in range(1, len(images) + 1)}
        for i, page in enumerate(data.get("page_num", [])):
            rows.setdefault(int(page), []).append(i)
        return [{k: [col[i] for i in rows[n]] for k, col in data.items()} for n in rows]

    def osd(self, gray: Gray, dpi: int, timeout: float) -> tuple[int, float] | None:
        path = write_tiff(gray, dpi)
        try:
            osd = pytesseract.image_to_osd(
                path,
                config=f"--psm 0 --dpi {dpi}",
                output_type=pytesseract.Output.DICT,
                timeout=timeout,
            )
        except (pytesseract.TesseractError, RuntimeError):
            return None
        finally:
            os.unlink(path)
        return int(osd.get("rotate", 0)) % 360, float(osd.get("orientation_conf", 0.0))


def _run_tsv(path: str, language: str, psm: int, timeout: float) -> TSV:
    """pytesseract's `image_to_data`, failures as OCRError saying what to do. No `--dpi`:
    each image file carries its own resolution, also the pages of a list file."""
    try:
        data: TSV = pytesseract.image_to_data(
            path,
            lang=language,
            config=f"--psm {psm}",
            output_type=pytesseract.Output.DICT,
            timeout=timeout,
        )
    except pytesseract.TesseractNotFoundError as e:
        raise OCRError("tesseract is not installed: install the tesseract-ocr package") from e
    except pytesseract.TesseractError as e:
        raise OCRError(f"tesseract could not read the page ({e.status}): scan it again") from e
    except RuntimeError as e:  # pytesseract's timeout
        raise OCRError(
            f"reading the page took longer than {timeout:.0f} s: rescan it at 300 dpi"
        ) from e
    return data


def write_tiff(gray: Gray, dpi: int) -> str:
    """The image as an uncompressed TIFF that carries its resolution (encoding a PNG
    costs a tenth of a second on a full page and buys nothing for a file that lives a
    second)."""
    fd, path = tempfile.mkstemp(prefix="credflow-ocr-", suffix=".tif", dir=_TEMP_DIR)
    os.close(fd)
    params = [
        cv2.IMWRITE_TIFF_COMPRESSION, 1,
        cv2.IMWRITE_TIFF_RESUNIT, 2,
        cv2.IMWRITE_TIFF_XDPI, dpi,
        cv2.IMWRITE_TIFF_YDPI, dpi,
    ]  # fmt: skip
    if not cv2.imwrite(path, gray, params):
        os.unlink(path)
        raise OCRError("the page image could not be prepared for OCR: scan it again")
    return path


# ---------------------------------------------------------------- which one


def tesserocr_problem() -> str | None:
    """Why tesserocr cannot be this process's engine, or None when it can."""
    try:
        import tesserocr
    except ImportError:
        return "tesserocr is not installed"
    try:
        cli = pytesseract.get_tesseract_version()
    except (pytesseract.TesseractNotFoundError, OSError):
        return "the tesseract program is not installed"
    linked = str(tesserocr.tesseract_version()).split()[1]
    if str(cli) != linked:
        return f"tesserocr is built against tesseract {linked}, the program is {cli}"
    return None


_chosen: EngineName = "auto"
_engine: Engine | None = None


def parse_name(name: str) -> EngineName:
    if name not in ("auto", "tesserocr", "cli"):
        raise ValueError(f"unknown OCR engine {name!r}: choose auto, tesserocr or cli")
    return name  # type: ignore[return-value]


def configure(name: EngineName) -> None:
    """Choose the engine for this process (before its first page)."""
    global _chosen, _engine
    _chosen, _engine = name, None


def get() -> Engine:
    """This process's engine, made on first use (tesseract's model loads once)."""
    global _engine
    if _engine is None:
        if _chosen == "cli":
            _engine = CliEngine()
        else:
            problem = tesserocr_problem()
            if problem is not None and _chosen == "tesserocr":
                raise OCRError(f"the in-process OCR engine cannot be used: {problem}")
            _engine = CliEngine() if problem is not None else TesserocrEngine()
    return _engine


def describe(name: EngineName = "auto") -> str:
    """One line saying which engine `name` gives here and why (for start-up and health)."""
    if name == "cli":
        return "cli (tesseract program per batch, as chosen in the settings)"
    problem = tesserocr_problem()
    if problem is not None and name == "tesserocr":
        return f"tesserocr chosen but unusable ({problem}): workers will fail their pages"
    if problem is None:
        import tesserocr

        version = str(tesserocr.tesseract_version()).split()[1]
        return f"tesserocr (tesseract {version} loaded in each worker)"
    return f"cli (tesseract program per batch: {problem})"
