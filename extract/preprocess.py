"""Cleaning a page image before OCR: crop a photographed page, flatten light, deskew, scale.

Tesseract reads clean, upright, ~300 dpi black-on-white pages well and everything else
worse. Each step here is cheap (it works on a downscaled copy wherever it can), because
reading a page must cost about what plain tesseract costs: the estimates are made small
and only the final warp/rotation touches the full-size image.
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image

# Workers run one process per core: OpenCV's own thread pool would only fight them.
cv2.setNumThreads(1)

Gray = NDArray[Any]  # 2-D uint8 pixels (cv2's stubs make finer types a fiction)

# Median height of character-sized blobs on a 300 dpi page of 10-12 pt text; smaller
# means tesseract sees too few pixels per glyph (its documented sweet spot is a capital
# height of 20-40 px).
_TARGET_BLOB_HEIGHT = 20.0
_MAX_UPSCALE = 2.2
_MIN_UPSCALE = 1.6  # only really small text: 1.3-1.5x found no more values on dev photos, cost 30%


def to_gray(image: Image.Image) -> tuple[Gray, NDArray[Any] | None]:
    """Grayscale pixels, plus the RGB pixels when the image has colour (for page finding)."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        # transparent areas are paper, not black
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        background.alpha_composite(image.convert("RGBA"))
        image = background.convert("RGB")
    if image.mode == "RGB":
        rgb = np.asarray(image)
        return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), rgb
    if image.mode in ("1", "L"):
        return np.asarray(image.convert("L")), None
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(image, dtype=np.float64)
        lo, hi = float(arr.min()), float(arr.max())
        arr = (arr - lo) * (255.0 / max(hi - lo, 1.0))
        return arr.astype(np.uint8), None
    rgb = np.asarray(image.convert("RGB"))
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), rgb


def image_dpi(image: Image.Image) -> float | None:
    """The resolution stored in the file, when it is believable (72/96 are screen defaults)."""
    dpi = image.info.get("dpi")
    try:
        value = float(dpi[0]) if dpi else 0.0
    except (TypeError, ValueError, IndexError):
        return None
    if value < 100 or value > 1200:
        return None
    return value


def _downscale(gray: Gray, longest: int) -> tuple[Gray, float]:
    """A copy at most about `longest` pixels long, by whole-number area averaging.

    OpenCV's area resize is fast only for whole-number factors (ten times faster than
    a fractional one on a photo), and the estimates made on the copy need no more.
    """
    h, w = gray.shape[:2]
    k = -(-max(h, w) // longest)
    if k <= 1:
        return gray, 1.0
    cropped = gray[: h - h % k, : w - w % k]
    small = cv2.resize(cropped, (w // k, h // k), interpolation=cv2.INTER_AREA)
    return small, 1.0 / k


# ---------------------------------------------------------------- page in a photo


def find_page(gray: Gray, rgb: NDArray[Any] | None) -> NDArray[Any] | None:
    """Corners (tl, tr, br, bl) of a page photographed on a background, or None.

    The page is first looked for by its outline (the sheet's edge is a sharp step, while
    a background's vignette or lamp light changes slowly), then as the big solid region
    whose colour differs from the border's. Scans (paper up to the border) and pages that
    fill the frame give None and are left as they are.
    """
    src = rgb if rgb is not None else gray
    small, f = _downscale(src, 400)
    small = cv2.GaussianBlur(small, (5, 5), 0)
    lab = (
        cv2.cvtColor(small, cv2.COLOR_RGB2LAB).astype(np.float32)
        if small.ndim == 3
        else small.astype(np.float32)[:, :, None]
    )
    h, w = lab.shape[:2]
    b = max(3, min(h, w) // 40)
    border = _border(lab, b).reshape(-1, lab.shape[2])
    bg = np.median(border, axis=0)
    spread = float(np.median(np.abs(border - bg).sum(axis=1)))
    paper_like = float(bg[0]) > 200  # L* of 8-bit Lab (and gray) runs 0..255
    if paper_like and spread < 12:
        return None  # the border is clean paper: a scan, nothing to crop
    for mask, min_solidity in (
        (_outline_mask(lab, b), 0.93),
        (_colour_mask(lab, border, bg), 0.85),
    ):
        quad = _page_quad(mask, min_solidity)
        if quad is not None:
            return (quad / f).astype(np.float32)
    return None


def _border(img: NDArray[Any], b: int) -> NDArray[Any]:
    """The pixels of the outer band `b` wide, one after the other (corners twice)."""
    rest = img.shape[2:]
    return np.concatenate(
        [
            img[:b].reshape(-1, *rest),
            img[-b:].reshape(-1, *rest),
            img[:, :b].reshape(-1, *rest),
            img[:, -b:].reshape(-1, *rest),
        ]
    )


# Colour steps (Lab units per pixel of the small copy) weaker than this are light, not an edge.
_MIN_EDGE = 3.0


def _outline_mask(lab: NDArray[Any], b: int) -> Gray:
    """Everything the background cannot reach from the border without crossing an edge.

    An edge is a step clearly stronger than the background's own texture (wood grain,
    brushed metal), measured in its border band; chroma counts double, so a white sheet on
    a grey desk of the same brightness still has an outline.
    """
    mag = np.zeros(lab.shape[:2], np.float32)
    for c in range(lab.shape[2]):
        gx = cv2.Sobel(lab[:, :, c], cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(lab[:, :, c], cv2.CV_32F, 0, 1, ksize=3)
        mag = np.maximum(mag, (1.0 if c == 0 else 2.0) / 8 * cv2.magnitude(gx, gy))
    texture = float(np.percentile(_border(mag, b), 95))
    edges = cv2.dilate((mag > max(_MIN_EDGE, 1.5 * texture)).astype(np.uint8), np.ones((3, 3)))
    _, labels = cv2.connectedComponents(1 - edges, connectivity=4)
    outside = np.unique(_border(labels, 1))
    background = np.isin(labels, outside) & (edges == 0)
    # the edge band was widened by a pixel above: give that pixel back to the background
    return cv2.erode(np.where(background, 0, 255).astype(np.uint8), np.ones((3, 3)))


def _colour_mask(lab: NDArray[Any], border: NDArray[Any], bg: NDArray[Any]) -> Gray:
    """Pixels unlike the border's colour (Otsu on the distance), grown into coloured parts."""
    dist = np.abs(lab - bg).sum(axis=2)
    d8 = np.clip(dist * (255.0 / max(float(dist.max()), 1.0)), 0, 255).astype(np.uint8)
    otsu, mask = cv2.threshold(d8, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    # coloured parts of the page (a red header band) differ from the background less than
    # white paper does: grow the page into anything clearly unlike the background
    border_d8 = np.clip(
        np.abs(border - bg).sum(axis=1) * (255.0 / max(float(dist.max()), 1.0)), 0, 255
    )
    low = max(0.5 * otsu, 1.3 * float(np.percentile(border_d8, 95)))
    if low < otsu:
        weak = cv2.morphologyEx(
            (d8 > low).astype(np.uint8) * 255, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8)
        )
        n, labels = cv2.connectedComponents(weak)
        if n > 1:
            hits = np.bincount(labels[mask > 0], minlength=n)
            hits[0] = 0
            grown = labels == int(np.argmax(hits))
            mask = np.where(grown, 255, mask).astype(np.uint8)
    return cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))


def _page_quad(mask: Gray, min_solidity: float) -> NDArray[Any] | None:
    """The corners of the biggest region of `mask` when it looks like one sheet of paper."""
    h, w = mask.shape[:2]
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    biggest = max(contours, key=cv2.contourArea)
    area = cv2.contourArea(biggest)
    if area < 0.2 * h * w or area > 0.97 * h * w:
        return None
    hull = cv2.convexHull(biggest)
    if area / max(cv2.contourArea(hull), 1.0) < min_solidity:
        return None  # not one solid sheet
    return _quad(hull)


def _quad(hull: NDArray[Any]) -> NDArray[Any] | None:
    peri = cv2.arcLength(hull, True)
    for eps in (0.02, 0.03, 0.045, 0.06):
        approx = cv2.approxPolyDP(hull, eps * peri, True)
        if len(approx) == 4:
            return _order(approx.reshape(4, 2).astype(np.float32))
    # rounded corners or a curled edge: the tightest rotated rectangle is close enough
    rect = cv2.boxPoints(cv2.minAreaRect(hull))
    return _order(rect.astype(np.float32))


def _order(pts: NDArray[Any]) -> NDArray[Any]:
    s = pts.sum(axis=1)
    d = np.diff(pts, axis=1).ravel()
    return np.array(
        [pts[np.argmin(s)], pts[np.argmin(d)], pts[np.argmax(s)], pts[np.argmax(d)]],
        dtype=np.float32,
    )


def warp_page(gray: Gray, quad: NDArray[Any]) -> Gray:
    """Cut the page out along its corners and make it a flat rectangle."""
    tl, tr, br, bl = quad
    width = round(max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl)))
    height = round(max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr)))
    dst = np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], np.float32)
    m = cv2.getPerspectiveTransform(quad, dst)
    return cv2.warpPerspective(
        gray, m, (width, height), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
    )


def flatten_light(gray: Gray) -> Gray:
    """Divide out uneven lighting and shadows, then stretch contrast to black on white.

    The paper's brightness is estimated on a small copy (text removed by a max filter and
    a median), so the cost is one division of the full image.
    """
    small, _ = _downscale(gray, 500)
    k = max(3, round(min(small.shape) / 60) | 1)
    bg = cv2.dilate(small, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    bg = cv2.medianBlur(bg, max(3, (3 * k) | 1))
    bg = cv2.resize(bg, (gray.shape[1], gray.shape[0]), interpolation=cv2.INTER_LINEAR)
    flat = cv2.divide(gray, np.maximum(bg, 1), scale=255)
    lo = float(np.percentile(flat[::4, ::4], 0.5))
    if lo >= 200:
        return flat
    # map the darkest ink to black, paper stays white
    lut = np.clip((np.arange(256, dtype=np.float32) - lo) * (255.0 / (255.0 - lo)), 0, 255)
    return cv2.LUT(flat, lut.astype(np.uint8))


# ---------------------------------------------------------------- bilevel scans and faxes

# Strokes thinner than this (inches) in a black-and-white scan come out broken: a fax or a
# 200 dpi bilevel scan of light print.
_THIN_STROKE_INCHES = 0.02


def thicken_thin_bilevel(gray: Gray, dpi: float | None) -> Gray:
    """A black-and-white scan with thin, broken strokes, with each stroke a pixel bolder.

    Thresholding light print leaves letters in pieces that tesseract reads as other
    letters; growing the ink by one pixel joins them. Greyscale scans, and bilevel ones
    with solid strokes, are left alone (bolder strokes would close up their letters).
    """
    sample = gray[::4, ::4]
    if np.count_nonzero((sample > 0) & (sample < 255)) > 0.005 * sample.size:
        return gray  # greys: not a bilevel image
    mask = ink_mask(gray)
    area = int(np.count_nonzero(mask))
    if area == 0:
        return gray
    edge = area - int(np.count_nonzero(cv2.erode(mask, np.ones((3, 3), np.uint8))))
    stroke = 2 * area / max(edge, 1)  # mean stroke width in pixels
    if stroke >= _THIN_STROKE_INCHES * (dpi or 300):
        return gray
    return cv2.erode(gray, np.ones((2, 2), np.uint8))  # dark ink on white: erode grows ink


# ---------------------------------------------------------------- skew


def ink_mask(gray: Gray) -> Gray:
    """Dark marks (text) as 255 on 0, by Otsu: cheap and good enough for estimates."""
    _, mask = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    return mask


def estimate_skew(gray: Gray, limit: float = 12.0) -> float:
    """Small skew angle of the text lines in degrees (positive: lines rise to the right).

    Projection profiles of the ink of a downscaled copy: at the right angle the rows of
    text give the sharpest profile. Works modulo 90 degrees, so a page lying sideways
    is deskewed as well.
    """
    small, _ = _downscale(gray, 800)
    mask = ink_mask(small)
    ys, xs = np.nonzero(mask)
    if len(xs) < 200:
        return 0.0
    ink_share = len(xs) / mask.size
    if ink_share > 0.35:
        return 0.0  # mostly dark: a photo or a graphic, no text lines to follow
    if len(xs) > 20000:
        pick = np.random.default_rng(0).choice(len(xs), 20000, replace=False)
        xs, ys = xs[pick], ys[pick]
    xs = xs.astype(np.float32) - small.shape[1] / 2
    ys = ys.astype(np.float32) - small.shape[0] / 2

    def sharpness(deg: float) -> float:
        best = 0.0
        for base in (0.0, 90.0):
            t = math.radians(deg + base)
            proj = ys * math.cos(t) - xs * math.sin(t)
            hist = np.bincount((proj - proj.min()).astype(np.int32))
            best = max(best, float(np.dot(hist, hist)))
        return best

    coarse = np.arange(-limit, limit + 0.01, 1.0)
    scores = [sharpness(a) for a in coarse]
    a0 = float(coarse[int(np.argmax(scores))])
    fine = np.arange(max(-limit, a0 - 1.0), min(limit, a0 + 1.0) + 0.01, 0.2)
    scores = [sharpness(a) for a in fine]
    angle = float(fine[int(np.argmax(scores))])
    # below half a degree tesseract reads as well and turning the image is wasted time
    return 0.0 if abs(angle) < 1.0 else angle


def rotate(gray: Gray, degrees: float) -> Gray:
    """Turn counter-clockwise by `degrees`, growing the canvas and filling with white.

    Cubic interpolation: linear softens thin strokes enough to cost tesseract words
    (three dev scans lost a field value with linear, none with cubic).
    """
    if degrees % 360 == 0:
        return gray
    quarter = round(degrees / 90) % 4 if abs(degrees / 90 - round(degrees / 90)) < 1e-6 else None
    if quarter is not None:
        return np.ascontiguousarray(np.rot90(gray, quarter))
    h, w = gray.shape[:2]
    t = math.radians(degrees)
    cos, sin = abs(math.cos(t)), abs(math.sin(t))
    nw, nh = round(w * cos + h * sin), round(w * sin + h * cos)
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    m[0, 2] += (nw - w) / 2
    m[1, 2] += (nh - h) / 2
    return cv2.warpAffine(
        gray,
        m,
        (nw, nh),
        flags=cv2.INTER_CUBIC,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=255,
    )


# ---------------------------------------------------------------- scale


def blob_height(gray: Gray) -> float | None:
    """Median height in pixels of character-sized ink blobs, or None without text."""
    mask = ink_mask(gray)
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n < 20:
        return None
    hs = stats[1:, cv2.CC_STAT_HEIGHT].astype(np.float32)
    ws = stats[1:, cv2.CC_STAT_WIDTH].astype(np.float32)
    area = stats[1:, cv2.CC_STAT_AREA].astype(np.float32)
    keep = (hs >= 5) & (hs <= 150) & (ws <= 3 * hs) & (ws >= 1) & (area >= 0.1 * hs * ws)
    if keep.sum() < 20:
        return None
    return float(np.median(hs[keep]))


def letter_blobs(gray: Gray) -> int:
    """How many ink blobs of a letter's size and shape the page holds (about its letters)."""
    mask = ink_mask(gray)
    _n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    hs = stats[1:, cv2.CC_STAT_HEIGHT].astype(np.float32)
    ws = stats[1:, cv2.CC_STAT_WIDTH].astype(np.float32)
    area = stats[1:, cv2.CC_STAT_AREA].astype(np.float32)
    keep = (hs >= 8) & (hs <= 120) & (ws <= 2 * hs) & (ws >= 2) & (area >= 0.15 * hs * ws)
    return int(keep.sum())


def upscale_factor(gray: Gray, dpi: float | None) -> float:
    """How much to enlarge so small text reaches what tesseract reads best."""
    if dpi is not None and dpi >= 280:
        return 1.0
    height = blob_height(gray)
    if height is None:
        return 1.0
    factor = min(_MAX_UPSCALE, _TARGET_BLOB_HEIGHT / height)
    return factor if factor >= _MIN_UPSCALE else 1.0


def resize(gray: Gray, factor: float) -> Gray:
    if factor == 1.0:
        return gray
    h, w = gray.shape[:2]
    interp = cv2.INTER_CUBIC if factor > 1 else cv2.INTER_AREA
    return cv2.resize(gray, (round(w * factor), round(h * factor)), interpolation=interp)


def remove_rules(gray: Gray) -> Gray:
    """Paint lines that are not text white: table rules, underlines, and the dark edge of
    the sheet (or a strip of desk) that cropping a photo leaves along the border.

    Tesseract often drops ruled cells as images, and a dark bar down one side of the image
    upsets its page layout so that whole table cells go unread. A rule is a long line with
    paper along at least one side. In a blurred photo a word in bold comes out of the ink
    mask as a long bar too, but with its letters' strokes above and below it: such bars
    are kept.
    """
    mask = ink_mask(gray)
    h, w = gray.shape[:2]
    text = blob_height(gray) or 12.0
    # thin rules blurred by a camera come out grey, lighter than Otsu's threshold for ink:
    # they are looked for again among all marks clearly darker than the paper, where only
    # runs that are mostly pale count (blurred text, merged into a bar, is dark at its
    # strokes)
    paper = float(np.median(gray[::4, ::4]))
    pale = np.where(gray < 0.85 * paper, 255, 0).astype(np.uint8)
    rules = np.zeros_like(mask)
    for found, dark in ((mask, None), (pale, mask)):
        rules |= _rules_across(found, max(40, w // 25), text, dark)
        rules |= _rules_across(found.T, max(40, h // 25), text, None if dark is None else dark.T).T
    rules = cv2.dilate(rules, np.ones((3, 3), np.uint8)) | _edge_ink(mask)
    if not rules.any():
        return gray
    out = gray.copy()
    out[rules > 0] = 255
    return out


def _edge_ink(mask: Gray) -> Gray:
    """Ink touching the image border, within a narrow band along it (3% of the page).

    Text stops at the page's margin; what reaches the border is the sheet's edge, its
    shadow or the desk. Only the band is cleared, so a rule running from the border into
    a table keeps its inner part.
    """
    h, w = mask.shape[:2]
    band = max(3, round(0.03 * min(h, w)))
    _, labels = cv2.connectedComponents(mask, connectivity=8)
    touching = np.unique(_border(labels[:, :, None], 1))
    touching = touching[touching > 0]
    out = np.zeros_like(mask)
    if not len(touching):
        return out
    near = np.zeros(mask.shape[:2], bool)
    near[:band], near[-band:], near[:, :band], near[:, -band:] = True, True, True, True
    out[near & np.isin(labels, touching)] = 255
    return out


def _rules_across(mask: Gray, length: int, text: float, dark: Gray | None = None) -> Gray:
    """Horizontal rules of a mask (255 on 0): thin runs at least `length` long (and
    several letters long) with no marks just above or just below them (a shaded band with
    a heading in it is no rule); given `dark`, only runs of which at most a third is dark."""
    mask = np.ascontiguousarray(mask)
    lines = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((1, length), np.uint8))
    out = np.zeros_like(mask)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(lines, connectivity=8)
    h = mask.shape[0]
    gap, reach = 2, max(3, round(0.5 * text))  # skip the blurred fringe, look half a letter
    steps = np.arange(gap, gap + reach)
    for i in range(1, n):
        x, y, bw, bh = stats[i, :4]
        own = labels[y : y + bh, x : x + bw] == i
        cols = np.nonzero(own.any(axis=0))[0]
        thickness = stats[i, cv2.CC_STAT_AREA] / len(cols)
        if thickness > 0.5 * text or len(cols) < max(3 * text, 12 * thickness):
            continue  # a letter's stroke (the I of a name in big type), not a rule
        if (
            dark is not None
            and np.count_nonzero(dark[y : y + bh, x : x + bw][own]) > 0.33 * own.sum()
        ):
            continue
        top = y + own[:, cols].argmax(axis=0)
        bottom = y + bh - 1 - own[::-1, cols].argmax(axis=0)
        xs = x + cols
        above = mask[np.clip(top[:, None] - steps, 0, h - 1), xs[:, None]].any(axis=1)
        below = mask[np.clip(bottom[:, None] + steps, 0, h - 1), xs[:, None]].any(axis=1)
        if min(above.mean(), below.mean()) < 0.5:
            out[y : y + bh, x : x + bw][own] = 255
    return out


# ---------------------------------------------------------------- faxes and bilevel images

# Resolutions across and down that differ by more than this are not square pixels (a fax in
# standard mode is 204 x 98 dpi): the short axis is stretched to match.
_SQUARE_TOLERANCE = 1.15
# Isolated ink dots (no ink among the 8 neighbours) per pixel of the page from which a
# bilevel page is taken for dithered: line noise leaves about one in a thousand, dithering
# grey paper and letter edges five and more.
_DITHER_DOTS = 0.0035
# A row or column of a bilevel page this much ink is a scanner's fault (a dropped line, a
# dirty glass streak), not print: nothing printed is that long and that solid.
_STREAK_INK = 0.8
# Isolated dots per pixel from which a bilevel page is speckled by line noise and they are
# dropped (faxes have 0.2-2 per thousand; clean bitonal scans almost none, and are left be).
_SPECKLES = 0.00015
# A blurred dithered page is ink where darker than this: chosen on dithered faxes, where
# 140-175 read alike and Otsu's level (about 200) kept the paper's dots.
_DEDITHER_LEVEL = 160


def image_dpi_xy(image: Image.Image) -> tuple[float, float] | None:
    """Both resolutions stored in the file, when believable (see `image_dpi`)."""
    dpi: Any = image.info.get("dpi")
    try:
        x, y = float(dpi[0]), float(dpi[1])
    except (TypeError, ValueError, IndexError):
        return None
    if min(x, y) < 50 or not 100 <= max(x, y) <= 1200:
        return None  # 72 or 96: a screen default (phone photos), no scanner's figure
    return x, y


def square_pixels(gray: Gray, dpi: tuple[float, float] | None) -> tuple[Gray, float | None]:
    """The page resampled so that a pixel is as tall as it is wide, at the higher of its
    two resolutions (a standard-mode fax, 204 x 98 dpi, has its rows doubled): tesseract
    assumes square pixels and reads squashed letters as other letters or not at all."""
    if dpi is None:
        return gray, None
    x, y = dpi
    if max(x, y) / min(x, y) <= _SQUARE_TOLERANCE:
        return gray, max(x, y)
    res = max(x, y)
    h, w = gray.shape[:2]
    size = (round(w * res / x), round(h * res / y))
    return cv2.resize(gray, size, interpolation=cv2.INTER_LINEAR), res


def is_bilevel(gray: Gray) -> bool:
    """Only black and white pixels (a fax, a bitonal scan)."""
    sample = gray[::3, ::3]
    return bool(np.count_nonzero((sample > 8) & (sample < 247)) <= 0.005 * sample.size)


def lonely_dots(gray: Gray) -> Gray:
    """Ink pixels with no ink around them (255 on 0)."""
    ink = np.where(gray < 128, 255, 0).astype(np.uint8)
    ring = np.ones((3, 3), np.uint8)
    ring[1, 1] = 0
    around = cv2.dilate(ink, ring)  # 255 where any of the 8 neighbours is ink
    return cv2.bitwise_and(ink, cv2.bitwise_not(around))


def dedither(gray: Gray, dpi: float) -> Gray:
    """A dithered page as solid ink on white: a blur about two dot pitches wide merges the
    dots of a letter's stroke and spreads the scattered dots of grey paper thin, and a
    threshold a little darker than mid-grey then keeps the strokes only (Otsu's would keep
    the paper's denser patches, which tesseract reads as letters)."""
    k = max(3, round(dpi / 40) | 1)
    blurred = cv2.GaussianBlur(gray, (k, k), 0)
    return np.where(blurred < _DEDITHER_LEVEL, 0, 255).astype(np.uint8)


def clear_streaks(gray: Gray) -> Gray:
    """Rows and columns that are almost all ink (dropped scan lines, a streak down the
    page from dirt on a fax's glass) painted white: they cut through every letter."""
    ink = gray < 128
    rows = ink.mean(axis=1) > _STREAK_INK
    cols = ink.mean(axis=0) > _STREAK_INK
    # a dark band at the image's edge is the scanner's lid or the sheet's shadow, not a
    # streak across the print: tesseract sets it aside by itself
    for lines in (rows, cols):
        edge = max(1, round(0.02 * len(lines)))
        lines[:edge] = lines[-edge:] = False
    if not rows.any() and not cols.any():
        return gray
    out = gray.copy()
    out[rows, :] = 255
    out[:, cols] = 255
    return out


def clean_bilevel(gray: Gray, dpi: tuple[float, float] | None) -> tuple[Gray, float | None]:
    """A page with a fax's faults made good before OCR: streaks cleared, speckles dropped,
    dithering made solid, non-square pixels resampled. Decided from the pixels and the
    stored resolutions only, so a fax saved as TIFF, PNG or PDF is treated alike; a page
    with greys (a photo, a greyscale scan) keeps its pixels, only made square."""
    if not is_bilevel(gray):
        return square_pixels(gray, dpi)
    gray = clear_streaks(gray)
    dots = lonely_dots(gray)
    dithered = np.count_nonzero(dots) > _DITHER_DOTS * dots.size
    if not dithered and np.count_nonzero(dots) > _SPECKLES * dots.size:
        gray = np.maximum(gray, dots)  # line noise: specks tesseract reads as punctuation
    gray, res = square_pixels(gray, dpi)
    if dithered:
        gray = dedither(gray, res or 200.0)
    return gray, res


# ---------------------------------------------------------------- scanner marks

# A dark region touching the image's edge and running along at least this share of it is
# the scanner's lid or the sheet's shadow around a page (text keeps a margin from the edge).
_BORDER_RUN = 0.25
# Hole punches: round dark disks this wide (inches) near an edge of the sheet.
_PUNCH_INCHES = (0.12, 0.5)
_PUNCH_EDGE = 0.15  # share of the width or height from an edge where punches are found


def _dark(gray: Gray) -> Gray:
    """Marks clearly darker than the paper (255 on 0): the lid and punches are near black."""
    paper = float(np.median(gray[::8, ::8]))
    return np.where(gray < min(110.0, 0.5 * paper), 255, 0).astype(np.uint8)


def whiten_scanner_marks(gray: Gray, dpi: float | None) -> Gray:
    """The page with what the scanner saw around and through the sheet painted white: a
    dark border (the lid, the sheet's shadow) and hole punches. Left in, they make the
    deskew estimate follow the border instead of the text lines and tesseract's layout
    analysis take the page for a picture and keep only a few lines of it. The marks are
    found on small copies (they are big) and painted on the full page."""
    small, f = _downscale(gray, _MARKS_SIZE)
    dark = _dark(small)
    if not dark.any():
        return gray
    drop: Gray = cv2.bitwise_or(_lid(dark), _punches(dark, (dpi or 300.0) * f))
    if not drop.any():
        return gray
    # the lid's edge is soft and the copy coarse: take in a fringe too
    drop = cv2.dilate(drop, np.ones((3, 3), np.uint8))
    full = cv2.resize(drop, (gray.shape[1], gray.shape[0]), interpolation=cv2.INTER_NEAREST)
    out = gray.copy()
    out[full > 0] = 255
    return out


_MARKS_SIZE = 1600  # pixels along the longest side of the copy the marks are found on


def _lid(dark: Gray) -> Gray:
    """Dark regions running along an edge of the image (255 on 0).

    A small opening first drops thin lines, so a streak or a table rule reaching the edge
    never carries the print it crosses away with it."""
    h, w = dark.shape[:2]
    lid = cv2.morphologyEx(dark, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    _n, labels, stats, _ = cv2.connectedComponentsWithStats(lid, connectivity=8)
    x, y, bw, bh = (stats[1:, i] for i in range(4))
    touches = (x == 0) | (y == 0) | (x + bw >= w) | (y + bh >= h)
    border = np.flatnonzero(touches & ((bw >= _BORDER_RUN * w) | (bh >= _BORDER_RUN * h))) + 1
    return np.isin(labels, border).astype(np.uint8) * 255


def _punches(dark: Gray, dpi: float) -> Gray:
    """Round dark disks of a punch's size near an edge (255 on 0); `dpi` of `dark`.

    An opening by a disk a little smaller than the smallest punch leaves only solid
    regions wider than any stroke: the punches, even where they cut a printed frame. It is
    done on a copy half as big again (punches are big, and the opening costs)."""
    h, w = dark.shape[:2]
    half = cv2.resize(dark, (w // 2, h // 2), interpolation=cv2.INTER_NEAREST)
    lo, hi = (v * dpi / 2 for v in _PUNCH_INCHES)
    d = max(3, round(0.6 * lo))
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (d, d))
    solid = cv2.morphologyEx(half, cv2.MORPH_OPEN, disk)
    _n, labels, stats, _ = cv2.connectedComponentsWithStats(solid, connectivity=8)
    x, y, bw, bh, area = (stats[1:, i].astype(np.float64) for i in range(5))
    cx, cy, side = x + bw / 2, y + bh / 2, np.maximum(bw, bh)
    hh, hw = half.shape[:2]
    near_edge = (np.minimum(cx, hw - cx) < _PUNCH_EDGE * hw) | (
        np.minimum(cy, hh - cy) < _PUNCH_EDGE * hh
    )
    round_ = (np.minimum(bw, bh) >= 0.8 * side) & (area >= 0.65 * bw * bh) & (area <= 0.9 * bw * bh)
    punches = np.flatnonzero(near_edge & round_ & (side >= lo) & (side <= hi)) + 1
    if not len(punches):
        return np.zeros_like(dark)
    mask = np.isin(labels, punches).astype(np.uint8) * 255
    return cv2.resize(mask, (w, h), interpolation=cv2.INTER_NEAREST)
