"""Issuers: the board, school, carrier or organisation that issued the credential.

Found from known names (gazetteers, exact or fuzzy for OCR damage, with which kinds of
body issue which doc type), from sentences ("insured by X under", "X hereby certifies
that") and from the letterhead at the top of the first page.
"""

from __future__ import annotations

import re

from rapidfuzz import fuzz, process
from spacy.util import filter_spans

from extract.fields import gazetteers
from extract.fields.candidates import Cand, Context
from extract.fields.names import title_case

ISSUER_KINDS = {
    "medical_license": ("medical_board",),
    "nursing_license": ("nursing_board", "medical_board"),
    "board_certification": ("cert_board",),
    "diploma": ("school",),
    "training_certificate": ("school", "org"),
    "life_support_card": ("life_support",),
    "cme_certificate": ("org", "school", "cert_board"),
    "malpractice_insurance": ("carrier",),
    "reference_letter": ("org", "school"),
    "employment_verification": ("org", "school"),
}


DEPARTMENT = re.compile(
    r"\s*(?:medical staff|office of|department of|division of|human resources|credentialing|"
    r"graduate medical education|policyholder services|underwriting|staff services|"
    r"continuing (?:medical )?education|medical education|nursing education)\b",
    re.I,
)
ROLE_WORDS = re.compile(
    r"\b(?:director|president|dean|chair|chief|manager|officer|coordinator|head|professor|physician|nurse|department of)\b",  # noqa: E501
    re.I,
)


_ORG_WORDS = re.compile(
    r"\b(?:board|university|college|hospital|health|healthcare|clinic|medical center|institute|"
    r"school|education|center|centre|association|society|academy|foundation|council|commission|"
    r"department|company|corporation|services|group|associates|partners|medicine|insurance|"
    r"mutual|network|system|physicians|regulation|registry|administration)\b",
    re.I,
)


def org_like(text: str) -> bool:
    """Capitalised words naming an organisation (known suffix, prefix or keyword)."""
    t = text.strip()
    if not 4 <= len(t) <= 90 or sum(c.isdigit() for c in t) > 0:
        return False
    words = t.split()
    if not 1 <= len(words) <= 12:
        return False
    small = ("of", "and", "&", "the", "for", "at", "in", "on")
    if sum(1 for w in words if w[:1].isupper() or w.lower() in small) < len(words):
        return False
    g = gazetteers.load()
    low = t.lower().rstrip(".,")
    return (
        any(low.endswith(s.lower()) for s in g.org_suffixes)
        or any(low.startswith(p.lower()) for p in g.org_prefixes)
        or bool(_ORG_WORDS.search(low))
    )


_LONGER = re.compile(r"(?:[ ](?:(?:of|and|&|for|at|the)[ ])*[A-Z][A-Za-z'\-]+)*")


_ACCREDITOR = re.compile(r"accredit|approved\s+(?:as\s+an?\s+\w+\s+)?by|recogni[sz]ed\s+by", re.I)


def from_gazetteers(ctx: Context) -> list[Cand]:
    """Issuer (and jurisdiction for state boards) from known names, exact or fuzzy."""
    g = gazetteers.load()
    kinds = ISSUER_KINDS.get(ctx.doc_type, ())
    out: list[Cand] = []
    n_rows = len(ctx.layout.rows)
    seen: set[int] = set()
    spans = [sp for sp in ctx.doc.spans.get("gazetteer", []) if sp.label_ in kinds]
    for span in filter_spans(spans):  # the longest name wins: "... Medicine and Surgery"
        entry = g.by_lower.get(span.text.lower())
        if entry is None:
            continue
        start, end = span.start_char, span.end_char
        # a longer printed name around a known one:
        # "Vanderbilt University Medical Center" vs "Vanderbilt University"
        cell = ctx.layout.cell_at(start)
        value = entry.name
        score = 0.88
        if ctx.doc_type not in (
            "medical_license",
            "nursing_license",
            "life_support_card",
            "board_certification",
        ):
            # "Vanderbilt University Medical Center Nursing Education": the printed name is longer
            m = _LONGER.match(ctx.text, end)
            if m and m.group(0).strip():
                tail = m.group(0).rstrip()
                value, end = title_case(ctx.text[start : end + len(tail)]), end + len(tail)
                score = 0.8
        elif cell is not None:
            # "Board of Osteopathic Medicine and Surgery": a board's name that goes on with
            # "and ..." to the end of its line is the longer name, printed in full
            rest = ctx.text[end : cell.end]
            if re.fullmatch(r"[ ](?:and|&)(?:[ ](?:of|the|[A-Z][A-Za-z'\-]+))+[ .]*", rest):
                value = title_case(ctx.text[start : end + len(rest.rstrip(" ."))])
                end += len(rest.rstrip(" ."))
        row_i = cell.row if cell else n_rows
        if row_i < max(4, n_rows // 4):
            score += 0.05
        if id(cell) in seen:
            continue
        seen.add(id(cell))
        if entry.kind == "org":
            score -= 0.3  # a known hospital may just be the addressee or a place named
        if _ACCREDITOR.search(ctx.text[max(0, start - 160) : start].split(".")[-1]):
            score -= 0.35  # "... is accredited by the X": X vouches for the issuer, is not it
        out.append(Cand("issuer", value, score, start, end, f"gazetteer:{entry.kind}"))
        if entry.state and ctx.doc_type in ("medical_license", "nursing_license"):
            out.append(Cand("jurisdiction", entry.state, 0.9, start, end, "gazetteer-state"))
    return out + _fuzzy_gazetteer(ctx, g, kinds)


def _fuzzy_gazetteer(ctx: Context, g: gazetteers.Gazetteers, kinds: tuple[str, ...]) -> list[Cand]:
    """OCR-damaged known names in the top rows of scanned pages."""
    out: list[Cand] = []
    # fuzzy: OCR-damaged names in the top rows
    names = [n for k in kinds for n in g.names_by_kind.get(k, [])]
    top = ctx.layout.rows[: max(6, ctx.layout.first_page_rows // 3)]
    if names and ctx.ocr_pages:
        for row in top:
            for cell in row.cells:
                t = cell.text
                if len(t) < 8 or cell.page not in ctx.ocr_pages:
                    continue
                best = process.extractOne(t, names, scorer=fuzz.ratio, score_cutoff=85)
                if best and best[1] < 100:
                    entry = g.by_lower[best[0].lower()]
                    out.append(
                        Cand(
                            "issuer",
                            entry.name,
                            0.6 + 0.3 * (best[1] - 85) / 15,
                            cell.start,
                            cell.end,
                            "gazetteer-fuzzy",
                        )
                    )
                    if entry.state and ctx.doc_type in ("medical_license", "nursing_license"):
                        out.append(
                            Cand(
                                "jurisdiction",
                                entry.state,
                                0.8,
                                cell.start,
                                cell.end,
                                "gazetteer-state",
                            )
                        )
    return out


def sentence_issuers(text: str) -> list[Cand]:
    """The issuer named in the wording: "X hereby certifies that", "insured by X under"."""
    out: list[Cand] = []
    for pattern, score in (
        (
            r"(?:^|\n)(?:(?:the|at)\s+)?(?P<v>[A-Z][A-Za-z&.' \-]{2,60}?)\s+(?:hereby\s+)?(?:confirms|certifies|verifies)\s+(?:that|the)",  # noqa: E501
            0.7,
        ),
        (
            r"insured by\s+(?P<v>[A-Z][A-Za-z&.,' \-]{2,60}?)\s+(?:under|with|through|policy)",
            0.8,
        ),
        (
            r"(?:employed by|employment with|worked at|on staff at)\s+(?P<v>[A-Z][A-Za-z&.,' \-\n]{2,60}?)(?:\s+(?:from|as|since|in)\b|[.,])",  # noqa: E501
            0.7,
        ),
        (
            r"(?:training|residency|fellowship|program|internship)(?: training)? in [A-Z][A-Za-z &/\-]+? at\s+(?P<v>[A-Z][A-Za-z&.,' \-\n]{2,80}?)[.,](?:\s|$)",  # noqa: E501
            0.8,
        ),
        (
            r"(?P<v>[A-Z][A-Za-z&' \-]{2,80}?)\s+(?:designates this|is accredited by|is accredited as|has reviewed and approved)",  # noqa: E501
            0.7,
        ),
    ):
        for m in re.finditer(pattern, text):
            v = title_case(m.group("v").replace("\n", " "))
            v = re.sub(r"^(?:the)\s+", "", v, flags=re.I)
            if 2 <= len(v.split()) <= 10 and (org_like(v) or "insured by" in m.group(0)):
                out.append(Cand("issuer", v, score, m.start("v"), m.end("v"), "sentence"))
    return out


def letterhead(ctx: Context) -> list[Cand]:
    """An organisation's name in the top rows of the first page: the letterhead."""
    out: list[Cand] = []
    rows = ctx.layout.rows
    first = ctx.layout.first_page_rows
    dt = ctx.doc_type
    for i, row in enumerate(rows[: max(3, first // 3)]):
        for cell in row.cells:
            t = cell.text.strip()
            # a logo read as a stray letter or an acronym before the name: "B Mercy ..."
            t = re.sub(r"^(?:[A-Z]{1,5}|[^A-Za-z]+)\s+(?=[A-Z][a-z])", "", t)
            if (
                org_like(t)
                and not DEPARTMENT.match(t)
                and not re.match(r"(?:re|subject)\s*:|.*\b(?:verification|letter)\b", t, re.I)
            ):
                low = t.lower()
                # a reference form's letterhead is the asking hospital's, not the referee's
                score = (0.5 if dt == "reference_letter" else 0.62) - 0.03 * i
                if dt in ("medical_license", "nursing_license") and not re.search(
                    r"board|department|commission|division|regulation|licens", low
                ):
                    continue
                if dt == "diploma" and not re.search(r"universit|college|school|institute", low):
                    continue
                if dt == "board_certification" and not re.search(
                    r"board|commission|certification|council|center", low
                ):
                    continue
                out.append(
                    Cand(
                        "issuer",
                        title_case(t),
                        max(score, 0.4),
                        cell.start,
                        cell.end,
                        "letterhead",
                    )
                )
    return out
