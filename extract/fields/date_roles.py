"""Date roles: which printed date is the issue, expiration, start or end date.

A page prints several dates; the words around a date decide its role: a period "from X
to Y", a keyword before it ("expires", "conferred"), prose on a diploma ("given this ..."),
the one date a certificate prints, a letter's date line, and on cards and wall
certificates the bare dates left over (earliest = issue, latest = expiration). Which
fields a printed period fills is per doc type data (profiles.json).
"""

from __future__ import annotations

import itertools
import re

from extract import dates
from extract.fields.candidates import Cand, Context
from extract.fields.layout import Row
from extract.fields.profiles import profile
from extract.fields.values import date_cand


def range_fields(doc_type: str, field: str) -> tuple[str | None, str | None]:
    """Which fields the two ends of a printed period fill: the doc_type's profile says (a
    training certificate is issued on completion, an employment ends)."""
    return profile(doc_type).period


_LETTER_RX = re.compile(
    r"\b(?:dear|to whom it may concern|sincerely|respectfully|regards|yours truly)\b", re.I
)
# stamp words as OCR reads them off a rubber stamp: RECEIVED, RECEIVER, RECIEVED
_STAMP_RX = re.compile(
    r"\b(?:re[cs][ei]{1,2}[vy]e[dr]?|faxed|filed|scanned|entered|stamped|rec'?d)\b", re.I
)


def _stamped(rows: list[Row], i: int) -> bool:
    """A date under (or beside, in the same cell) a RECEIVED / FAXED stamp word."""
    cell = rows[i].cells[0]
    if _STAMP_RX.search(cell.text):
        return True
    if i == 0:
        return False
    x0, _, x1, _ = cell.box
    for above in rows[i - 1].cells:
        ax0, _, ax1, _ = above.box
        if _STAMP_RX.search(above.text) and ax0 < x1 and x0 < ax1:
            return True
    return False


_PERIOD_RX = re.compile(
    r"(?:from|effective|between|period(?: of)?|dates?(?: of \w+)?:?)?\s*$", re.I
)


def _period_matches(text: str) -> list[tuple[dates.FoundDate, dates.FoundDate | None]]:
    """Pairs of dates joined by "through", "to", "-" ...; a date "to present" has no end."""
    found = dates.find_dates(text)
    out: list[tuple[dates.FoundDate, dates.FoundDate | None]] = []
    for a, b in itertools.pairwise(found):
        between = text[a.end : b.start]
        if len(between) <= 12 and re.fullmatch(
            r"[\s,]*(?:through|thru|to|until|till|and|-|–|—)[\s,]*", between, re.I
        ):
            out.append((a, b))
    for a in found:
        after = text[a.end : a.end + 25]
        if re.match(r"[\s,]*(?:through|to|until|-|–)\s*(?:the\s+)?present\b", after, re.I):
            out.append((a, None))
    return out


_CONTEXT_WORDS: list[tuple[str, str]] = [
    (
        r"expir(?:es|ation|y|e)\b|\bexp\b|valid (?:until|through|thru)|good through|renew",
        "expiration_date",
    ),
    (r"start|hire|began|commenc|since|appointed", "start_date"),
    (r"separat|terminat|last day|resign|left", "end_date"),
    (
        r"issued|issue date|effective|conferred|granted|certified|completed|completion|awarded|dated|given at|date:",  # noqa: E501
        "issue_date",
    ),
]


def _date_field_from_context(before: str, doc_type: str) -> str | None:
    """The role the words just before a date give it (a training certificate is issued
    on completion, so only "completed" makes its date the issue date)."""
    tail = before[-30:]
    for rx, fld in _CONTEXT_WORDS:
        if re.search(rx, tail):
            if (
                fld == "issue_date"
                and doc_type == "training_certificate"
                and "completed" not in tail
            ):
                return None
            return fld
    return None


def sentence_dates(ctx: Context, wanted: set[str]) -> list[Cand]:
    """Dates with a role from the words around them (periods, keywords, prose, the only
    date, a letter's date line), in the order __init__.py has always weighed them."""
    return (
        _periods(ctx, wanted)
        + _context_dates(ctx, wanted)
        + _prose_issue_dates(ctx, wanted)
        + _only_date(ctx, wanted)
        + _letter_date(ctx, wanted)
    )


def _periods(ctx: Context, wanted: set[str]) -> list[Cand]:
    """ "from X to Y", "X through Y", "effective X to Y"."""
    text = ctx.text
    dt = ctx.doc_type
    out: list[Cand] = []
    for f1, f2 in _period_matches(text):
        pair = range_fields(dt, "start_date")
        if dt in (
            "malpractice_insurance",
            "board_certification",
            "life_support_card",
            "medical_license",
            "nursing_license",
        ):
            pair = ("issue_date", "expiration_date")
        for fld, fd in zip(pair, (f1, f2), strict=False):
            if fld and fld in wanted and fd is not None:
                out.append(date_cand(fld, fd, 0.8, "period"))
    return out


def _context_dates(ctx: Context, wanted: set[str]) -> list[Cand]:
    """A keyword before the date: "expires", "date of hire", "issued"."""
    text = ctx.text
    dt = ctx.doc_type
    out: list[Cand] = []
    for fd in dates.find_dates(text):
        before = text[max(0, fd.start - 45) : fd.start].lower()
        before = before.replace("\n", " ").replace("\t", " ")
        fld = _date_field_from_context(before, dt)
        if fld and fld in wanted:
            out.append(date_cand(fld, fd, 0.6, "date-context"))
    return out


def _prose_issue_dates(ctx: Context, wanted: set[str]) -> list[Cand]:
    """Certificates and diplomas: the date printed is the date of issue, often in prose."""
    text = ctx.text
    dt = ctx.doc_type
    out: list[Cand] = []
    if (
        dt
        in (
            "diploma",
            "cme_certificate",
            "medical_license",
            "nursing_license",
            "board_certification",
            "life_support_card",
        )
        and "issue_date" in wanted
    ):
        for fd in dates.find_dates(text):
            before = text[max(0, fd.start - 30) : fd.start].lower()
            if re.search(
                r"\b(?:on|this|dated|given|awarded|conferred)\b[^\n]{0,12}$", before
            ) or re.search(r"the\s*$", before):
                out.append(
                    Cand(
                        "issue_date",
                        fd.for_field("issue_date").isoformat(),
                        0.55,
                        fd.start,
                        fd.end,
                        "date-prose",
                    )
                )
    return out


def _only_date(ctx: Context, wanted: set[str]) -> list[Cand]:
    """A diploma or certificate that prints one date: that is the date of issue."""
    text = ctx.text
    dt = ctx.doc_type
    out: list[Cand] = []
    if dt in ("diploma", "cme_certificate") and "issue_date" in wanted:
        distinct = {fd.value: fd for fd in dates.find_dates(text) if not fd.month_only}
        if len(distinct) == 1:
            fd = next(iter(distinct.values()))
            out.append(
                Cand("issue_date", fd.value.isoformat(), 0.55, fd.start, fd.end, "only-date")
            )
    return out


def _letter_date(ctx: Context, wanted: set[str]) -> list[Cand]:
    """A letter's date: a line that is only a date, near the top of the first page."""
    text = ctx.text
    dt = ctx.doc_type
    out: list[Cand] = []
    if (
        dt
        in (
            "reference_letter",
            "employment_verification",
        )
        and "issue_date" in wanted
    ):
        top = ctx.layout.rows[: max(1, int(ctx.layout.first_page_rows * 0.45))]
        is_letter = bool(_LETTER_RX.search(text))
        for i, row in enumerate(top):
            t = row.cells[0].text.strip()
            found = dates.find_dates(t)
            if _stamped(top, i):
                continue  # "RECEIVED / MAR 25 2024": the office's stamp, not the letter's date
            if (
                is_letter
                and len(found) == 1
                and len(t) - (found[0].end - found[0].start) <= 3
                and not found[0].month_only
            ):
                s = row.cells[0].start
                fld = "issue_date"
                score = 0.8 if dt in ("reference_letter", "employment_verification") else 0.3
                out.append(
                    Cand(
                        fld,
                        found[0].value.isoformat(),
                        score,
                        s + found[0].start,
                        s + found[0].end,
                        "letter-date",
                    )
                )
                break
    return out


def leftover_dates(ctx: Context, wanted: set[str], taken: list[Cand]) -> list[Cand]:
    """Dates alone in their cell that no other finder used: on cards and wall certificates
    the earliest is the issue date and the latest the expiration (weak evidence)."""
    out: list[Cand] = []
    used = [(c.start, c.end) for c in taken]
    bare_dates = []
    for fd in dates.find_dates(ctx.text):
        if any(s <= fd.start < e for s, e in used):
            continue
        cell = ctx.layout.cell_at(fd.start)
        if cell is not None and len(cell.text) - (fd.end - fd.start) <= 3:
            bare_dates.append(fd)
    if _LETTER_RX.search(ctx.text):
        bare_dates = []  # a letter's own date stands alone too: no guessing from layout
    if len(bare_dates) >= 2:
        first = min(bare_dates, key=lambda f: f.value)
        last = max(bare_dates, key=lambda f: f.value)
        if last.value > first.value:
            if "issue_date" in wanted:
                out.append(
                    Cand(
                        "issue_date",
                        first.for_field("issue_date").isoformat(),
                        0.45,
                        first.start,
                        first.end,
                        "bare-date",
                    )
                )
            if "expiration_date" in wanted:
                out.append(
                    Cand(
                        "expiration_date",
                        last.for_field("expiration_date").isoformat(),
                        0.45,
                        last.start,
                        last.end,
                        "bare-date",
                    )
                )
    elif len(bare_dates) == 1 and ctx.doc_type != "dea_registration" and "issue_date" in wanted:
        # one bare date beside a labelled later expiration: the date of issue
        lone = bare_dates[0]
        later = [
            c for c in taken if c.field == "expiration_date" and c.value > lone.value.isoformat()
        ]
        if later and not any(c.field == "issue_date" for c in taken):
            out.append(
                Cand("issue_date", lone.value.isoformat(), 0.45, lone.start, lone.end, "bare-date")
            )
    elif (
        len(bare_dates) == 1 and ctx.doc_type == "dea_registration" and "expiration_date" in wanted
    ):
        only = bare_dates[0]
        out.append(
            Cand(
                "expiration_date",
                only.for_field("expiration_date").isoformat(),
                0.4,
                only.start,
                only.end,
                "bare-date",
            )
        )
    return out
