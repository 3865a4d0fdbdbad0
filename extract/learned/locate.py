"""Finding a confirmed value among a page's words: OCR noise tolerated (rapidfuzz), dates
recognised in any printed form, a state by its name or code."""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz

from extract import dates
from extract.learned.text import DATE_FIELDS, key, state_names
from extract.types import Page, Word

MIN_RATIO = 80.0  # rapidfuzz ratio of the folded texts: two OCR slips in a value of ten letters
MAX_LINES = 2  # a value may wrap once ("American Board of / Internal Medicine")


@dataclass(frozen=True, slots=True)
class Found:
    """Where a value is printed: its page and the indices of its words in `page.words`."""

    page: int
    words: tuple[int, ...]
    score: float


def _sequence(pages: list[Page]) -> list[tuple[int, int, Word]]:
    return [(p.number, i, w) for p in pages for i, w in enumerate(p.words)]


def _spans(seq: list[tuple[int, int, Word]], start: int, longest: int) -> list[int]:
    """End indices (exclusive) of spans from `start` within one page and two lines."""
    ends = []
    page, _, first = seq[start]
    lines = {(first.block, first.line)}
    for end in range(start + 1, min(len(seq), start + longest) + 1):
        p, _, w = seq[end - 1]
        lines.add((w.block, w.line))
        if p != page or len(lines) > MAX_LINES:
            break
        ends.append(end)
    return ends


def _month_or_digit(text: str) -> bool:
    return any(c.isdigit() for c in text) or dates._month(text) is not None


def locate(pages: list[Page], field: str, value: str) -> Found | None:
    """The words that print `value` (in the spec's normal form) for `field`, or None."""
    seq = _sequence(pages)
    if not seq or not value:
        return None
    best: tuple[float, int, int] | None = None  # (score, -start, -end): best first
    if field in DATE_FIELDS:
        for start, (_, _, w) in enumerate(seq):
            if not _month_or_digit(w.text):
                continue
            for end in _spans(seq, start, 6):
                text = " ".join(x.text for _, _, x in seq[start:end])
                found = dates.find_dates(text)
                whole = (
                    found and found[0].start <= 1 and found[0].end >= len(text.rstrip(".,;")) - 1
                )
                if whole and found[0].for_field(field).isoformat() == value:
                    best = (100.0, -start, -end)
                    break
            if best:
                break
    else:
        printed = [value]
        if field == "jurisdiction":
            printed = state_names(value)
        elif field in ("person_name", "referee_name") and " " in value:
            given, family = value.rsplit(" ", 1)
            printed.append(f"{family} {given}")  # "ESPOSITO, DIANE N"
        targets = [key(v) for v in printed]
        for target in filter(None, targets):
            longest = len(value.split()) + 3
            for start, (_, _, w) in enumerate(seq):
                head = key(w.text)
                if not head or fuzz.ratio(head, target[: len(head)]) < 60:
                    continue
                for end in _spans(seq, start, longest):
                    text = key("".join(x.text for _, _, x in seq[start:end]))
                    if len(text) > len(target) * 1.3 + 3:
                        break
                    exact = field == "jurisdiction" and len(target) == 2
                    if exact and seq[start][2].text.strip(".,;:()") != value:
                        continue
                    score = fuzz.ratio(text, target)
                    if score >= (
                        100.0 if len(target) < 5 else MIN_RATIO if len(target) >= 8 else 90.0
                    ):
                        cand = (score, -start, -end)
                        if best is None or cand > best:
                            best = cand
    if best is None:
        return None
    start, end = -best[1], -best[2]
    return Found(seq[start][0], tuple(i for _, i, _ in seq[start:end]), best[0])
