"""Recognising a learned layout on a new page: an inverted index of anchor tokens picks a
few candidate layouts in well under a millisecond, then a robust affine fit (RANSAC over
anchor-to-word pairs) checks that the shared words also sit where the layout puts them.
Scale, shift, skew and a fax's stretched rows are all affine; OCR noise loses a few
anchors, which the fit tolerates.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from rapidfuzz import fuzz, process

from extract.learned.model import LearnedLayout, LearnedLayouts
from extract.learned.text import token
from extract.types import Page

CANDIDATES = 3  # layouts checked geometrically per page
MIN_COVERAGE = 0.3  # share of a layout's anchor weight the page must show to be checked
MIN_INLIERS = 5
MIN_SHARE = 0.35  # share of a layout's anchors found in place for it to count as matched
# how far an anchor may sit from where the fit puts it, as fractions of the page: lines keep
# their places, but words slide along them when the text around them changes length
TOLERANCE_Y = 0.02
TOLERANCE_X = 0.08
ITERATIONS = 100
MAX_REPEATS = 4  # a token printed more often than this says nothing about position


@dataclass(frozen=True, slots=True)
class Match:
    """A page recognised as a learned layout: how well, and the fit layout -> page."""

    layout: LearnedLayout
    share: float  # anchors found in place / anchors
    inliers: int
    transform: NDArray[np.float64]  # 2x3: page = A @ [x, y, 1]
    anchored: dict[int, tuple[int, int]]  # anchor index -> (page number, word index)

    def apply(self, x: float, y: float) -> tuple[float, float]:
        a = self.transform
        return (a[0, 0] * x + a[0, 1] * y + a[0, 2], a[1, 0] * x + a[1, 1] * y + a[1, 2])

    def invert(self, x: float, y: float) -> tuple[float, float]:
        full = np.vstack([self.transform, [0.0, 0.0, 1.0]])
        u, v, _ = np.linalg.solve(full, [x, y, 1.0])
        return float(u), float(v)


class TokenIndex:
    """Anchor token -> the layouts that have it, weighted by rarity (idf)."""

    def __init__(self, layouts: list[LearnedLayout]) -> None:
        postings: dict[str, list[int]] = defaultdict(list)
        for i, layout in enumerate(layouts):
            for tok in {a.token for a in layout.anchors if len(a.token) >= 3}:
                postings[tok].append(i)
        n = max(1, len(layouts))
        self.idf = {t: math.log(1.0 + n / len(ids)) for t, ids in postings.items()}
        self.postings = {t: np.asarray(ids, dtype=np.int32) for t, ids in postings.items()}
        self.weights = {t: np.full(len(ids), self.idf[t]) for t, ids in postings.items()}
        self.total = np.zeros(len(layouts))
        for t, ids in self.postings.items():
            self.total[ids] += self.idf[t]
        self.count = len(layouts)

    def candidates(self, tokens: set[str], limit: int = CANDIDATES) -> list[tuple[int, float]]:
        """(layout index, coverage) of the layouts whose anchors the page shows most."""
        hits = [t for t in tokens if t in self.postings]
        if not hits or not self.count:
            return []
        ids = np.concatenate([self.postings[t] for t in hits])
        weights = np.concatenate([self.weights[t] for t in hits])
        coverage = np.bincount(ids, weights=weights, minlength=self.count) / np.maximum(
            self.total, 1e-9
        )
        top = np.argsort(-coverage)[:limit]
        return [(int(i), float(coverage[i])) for i in top if coverage[i] >= MIN_COVERAGE]


def _index(learned: LearnedLayouts) -> TokenIndex:
    if learned._index is None or learned._index.count != len(learned.layouts):
        learned._index = TokenIndex(learned.layouts)
    index: TokenIndex = learned._index
    return index


def page_tokens(pages: list[Page]) -> dict[str, list[tuple[int, int, float, float]]]:
    """token -> [(page, word index, centre x, centre y)] of every word that has a token."""
    out: dict[str, list[tuple[int, int, float, float]]] = defaultdict(list)
    for p in pages:
        for i, w in enumerate(p.words):
            tok = token(w.text)
            if tok:
                x0, y0, x1, y1 = w.box
                out[tok].append((p.number, i, (x0 + x1) / 2, (y0 + y1) / 2))
    return out


def match(pages: list[Page], learned: LearnedLayouts) -> Match | None:
    """The learned layout these pages are, or None when none fits well enough."""
    if not learned.layouts or not pages:
        return None
    words = page_tokens(pages)
    best: Match | None = None
    candidates = _index(learned).candidates(set(words))
    for i, coverage in candidates:
        if best is not None and coverage < 0.8 * candidates[0][1]:
            break  # far fewer of its words on the page than the one already matched
        found = fit(learned.layouts[i], words)
        if found is not None and (best is None or found.share > best.share):
            best = found
    return best


def _fuzzy_words(
    layout: LearnedLayout, words: dict[str, list[tuple[int, int, float, float]]]
) -> dict[str, str]:
    """Anchor tokens the page misspells (OCR) -> the page token they most resemble."""
    missing = {a.token for a in layout.anchors if a.token not in words and len(a.token) >= 5}
    if not missing:
        return {}
    choices = [t for t in words if len(t) >= 4]
    out = {}
    for tok in missing:
        hit = process.extractOne(tok, choices, scorer=fuzz.ratio, score_cutoff=80)
        if hit is not None:
            out[tok] = hit[0]
    return out


def fit(
    layout: LearnedLayout, words: dict[str, list[tuple[int, int, float, float]]]
) -> Match | None:
    """Fit layout -> page from anchor/word pairs; None if too few anchors sit in place."""
    fuzzy = _fuzzy_words(layout, words)
    src: list[tuple[float, float]] = []
    dst: list[tuple[float, float]] = []
    pairs: list[tuple[int, int, int]] = []
    unique: list[int] = []
    for ai, anchor in enumerate(layout.anchors):
        hits = [
            h for h in words.get(fuzzy.get(anchor.token, anchor.token), ()) if h[0] == anchor.page
        ]
        if not hits or len(hits) > MAX_REPEATS:
            continue
        if len(hits) == 1:
            unique.append(len(pairs))
        for page, wi, x, y in hits:
            src.append((anchor.x, anchor.y))
            dst.append((x, y))
            pairs.append((ai, page, wi))
    if len(pairs) < MIN_INLIERS:
        return None
    s = np.asarray(src)
    d = np.asarray(dst)
    sh = np.hstack([s, np.ones((len(s), 1))])
    pool = np.asarray(unique if len(unique) >= 3 else range(len(pairs)))
    rng = np.random.default_rng(len(pairs))
    best_in = _ransac(sh, d, pool, rng)
    if best_in is None or best_in.sum() < MIN_INLIERS:
        return None
    a = _solve(sh[best_in], d[best_in])
    if a is None:
        return None
    inl = _within(sh @ a.T - d, 1.0)
    # where the layout is rigid (forms, cards), a tight refit pins scale and skew down
    tight = np.linalg.norm(sh @ a.T - d, axis=1) < TOLERANCE_Y * 0.6
    if tight.sum() >= max(MIN_INLIERS, inl.sum() // 2):
        refit = _solve(sh[tight], d[tight])
        if refit is not None:
            a = refit
            inl = _within(sh @ a.T - d, 1.0)
    anchored: dict[int, tuple[int, int]] = {}
    for k in np.flatnonzero(inl):
        ai, page, wi = pairs[k]
        anchored.setdefault(ai, (page, wi))
    share = len(anchored) / max(1, len(layout.anchors))
    if len(anchored) < MIN_INLIERS or share < MIN_SHARE:
        return None
    return Match(layout, share, len(anchored), a, anchored)


def _ransac(
    sh: NDArray[np.float64], d: NDArray[np.float64], pool: NDArray[Any], rng: np.random.Generator
) -> NDArray[np.bool_] | None:
    """The inliers of the best of ITERATIONS three-pair fits, all solved and scored at once.

    MSAC: a pair costs its squared error up to the tolerance, so the fit that puts the most
    anchors most exactly in place wins (not merely the most within reach)."""
    picks = pool[rng.integers(0, len(pool), (ITERATIONS, 3))]
    distinct = (
        (picks[:, 0] != picks[:, 1]) & (picks[:, 0] != picks[:, 2]) & (picks[:, 1] != picks[:, 2])
    )
    picks = picks[distinct]
    src, dst = sh[picks], d[picks]  # (k, 3, 3), (k, 3, 2)
    ok = np.abs(np.linalg.det(src)) > 1e-9
    if not ok.any():
        return None
    models = np.linalg.solve(src[ok], dst[ok]).transpose(0, 2, 1)  # (k, 2, 3)
    det = models[:, 0, 0] * models[:, 1, 1] - models[:, 0, 1] * models[:, 1, 0]
    plausible = (
        (det > 0.4)
        & (det < 2.5)
        & (np.abs(models[:, 0, 1]) <= 0.3)
        & (np.abs(models[:, 1, 0]) <= 0.3)
    )
    if not plausible.any():
        return None
    models = models[plausible]
    residual = np.einsum("nj,kij->kni", sh, models) - d  # (k, n, 2)
    err = ((residual / (1.5 * np.array([TOLERANCE_X, TOLERANCE_Y]))) ** 2).sum(axis=2)
    best = int(np.argmin(np.minimum(err, 1.0).sum(axis=1)))
    return np.asarray(err[best] < 1.0)


def _scaled(residual: NDArray[np.float64], slack: float) -> NDArray[np.float64]:
    scaled = residual / (slack * np.array([TOLERANCE_X, TOLERANCE_Y]))
    return np.asarray((scaled**2).sum(axis=1))


def _within(residual: NDArray[np.float64], slack: float) -> NDArray[np.bool_]:
    return np.asarray(_scaled(residual, slack) < 1.0)


def _solve(src: NDArray[np.float64], dst: NDArray[np.float64]) -> NDArray[np.float64] | None:
    """Least-squares affine (2x3) from homogeneous points; None if degenerate or implausible
    (a page is not mirrored, nor scaled by more than 2 in its normalised frame)."""
    a, _, rank, _ = np.linalg.lstsq(src, dst, rcond=None)
    if rank < 3:
        return None
    a = a.T
    det = a[0, 0] * a[1, 1] - a[0, 1] * a[1, 0]
    if not 0.4 < det < 2.5 or abs(a[0, 1]) > 0.3 or abs(a[1, 0]) > 0.3:
        return None
    return np.asarray(a)
