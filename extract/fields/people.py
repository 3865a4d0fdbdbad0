"""People: the holder's name (person_name) and the referee's (referee_name).

The holder is named in the wording of certificates and letters ("this is to certify that
<name>", "<name> has successfully completed", "RE: Reference for <name>"); the referee
signs a letter under "Sincerely,". A letter's addressee block is the reader's, so
__init__.py discounts names found there (recipient_rows).
"""

from __future__ import annotations

import re

from extract import dates
from extract.fields.candidates import Cand, Context
from extract.fields.issuers import DEPARTMENT, ROLE_WORDS, org_like
from extract.fields.layout import Layout
from extract.fields.names import clean_person, title_case

_BREAK = r"[ \t]*\n?[ \t]*"


_NAME_AFTER = re.compile(
    r"(?:this is to certify that|be it known that|know all (?:persons|men) by these presents that|(?:hereby )?(?:certif(?:y|ies)|recogni[sz]es?|acknowledges?|declares?) that|conferred upon|has conferred on|presented to"  # noqa: E501
    r"|awarded to|is awarded to|(?:verif(?:y|ies)|confirm(?:s)?|attest(?:s)?) that|is hereby granted to"  # noqa: E501
    r"|(?:recommend|recommending|reference for|regarding|known|endorse)\s+(?:dr\.?|mr\.?|ms\.?|mrs\.?)"  # noqa: E501
    r"|(?:recommendation|reference|support) (?:for|of|on behalf of)(?=\s+(?:dr\.?\s+|mr\.?\s+|ms\.?\s+|mrs\.?\s+)?[A-Z])"  # noqa: E501
    r"|certificate of (?:completion|achievement|participation) (?:to|for)|this certificate is presented to)"  # noqa: E501
    rf"[\s:,]*{_BREAK}[_.*|'‘ ]{{0,4}}(?:dr\.?\s+)?(?P<v>[A-Z][^\n\t(]{{2,60}})",
    re.I,
)
_RE_LINE = re.compile(r"\b(?:RE|Re|Subject|Regarding)\s*:\s*(?P<v>[^\n\t]{4,120})")
_NAME_BEFORE = re.compile(
    r"(?:^|\n|\t)(?:Dr\.?\s+)?(?P<v>[A-Z][A-Za-z.'’\- ]{2,50}?(?:,\s*[A-Za-z.\-]{1,8}){0,4})[,.]?\s*(?:\n\s*)?"  # noqa: E501
    r"(?:has (?:successfully )?(?:completed|participated|met|been (?:employed|certified|awarded))|completed (?:a |the )?(?:residency|fellowship|internship|training)"  # noqa: E501
    r"|is (?:a diplomate|certified|board certified|licensed|employed|insured)|was employed|is hereby|has attended|attended)",  # noqa: E501
)


def sentence_names(text: str) -> list[Cand]:
    """The holder's name after a subject line's separator, or in certificate wording."""
    out: list[Cand] = []
    for m in _RE_LINE.finditer(text):
        line = m.group("v")
        # "RE: Letter of Reference for Ingrid Tran": try the text after each separator
        for sep in reversed(
            list(re.finditer(r"(?:\s[-–—:]\s|\bfor\b|\bof\b|\bre\b|:)\s*", line, re.I))
        ):
            res = clean_person(line[sep.end() :])
            if res:
                s0 = m.start("v") + sep.end()
                out.append(Cand("person_name", res[0], 0.85 * res[1], s0, m.end("v"), "sentence"))
                break
    for rx, score in ((_NAME_AFTER, 0.85), (_NAME_BEFORE, 0.8)):
        for m in rx.finditer(text):
            res = clean_person(m.group("v"))
            if res:
                out.append(
                    Cand(
                        "person_name",
                        res[0],
                        score * res[1],
                        m.start("v"),
                        m.end("v"),
                        "sentence",
                    )
                )
    return out


def signature(ctx: Context) -> list[Cand]:
    """The referee signs under "Sincerely,"; their organisation is often two lines down."""
    out: list[Cand] = []
    rows = ctx.layout.rows
    for i, row in enumerate(rows):
        if re.match(
            r"\s*(?:sincerely|respectfully|regards|best regards|kind regards|cordially|yours truly|very truly yours|with regards)\b",  # noqa: E501
            row.text,
            re.I,
        ):
            for j in range(i + 1, min(i + 5, len(rows))):
                cell = rows[j].cells[0]
                res = clean_person(cell.text)
                if res:
                    out.append(
                        Cand(
                            "referee_name", res[0], 0.85 * res[1], cell.start, cell.end, "signature"
                        )
                    )
                    # the referee's organisation is often two lines down
                    for k in range(j + 1, min(j + 4, len(rows))):
                        org_cells = [c for c in rows[k].cells if org_like(c.text)]
                        if not org_cells:
                            continue
                        t = org_cells[0].text
                        if not ROLE_WORDS.search(t) and not DEPARTMENT.match(t):
                            out.append(
                                Cand(
                                    "issuer",
                                    title_case(t),
                                    0.85,
                                    org_cells[0].start,
                                    org_cells[0].end,
                                    "signature-org",
                                )
                            )
                            break
                    break
            break
    return out


def recipient_rows(layout: Layout) -> tuple[int, int]:
    """Offsets of a letter's addressee block (after the date line, before "RE:" or "Dear"):
    names and organisations there are the reader's, not the document's."""
    rows = layout.rows[: layout.first_page_rows]
    start = end = -1
    for i, row in enumerate(rows[: max(1, len(rows) // 2)]):
        t = row.text.strip()
        if start < 0:
            found = dates.find_dates(t)
            if found and len(t) - (found[0].end - found[0].start) <= 3:
                start = i + 1
            continue
        if re.match(r"(?:re|subject|regarding)\s*:|dear\b|to whom", t, re.I):
            end = i
            break
    if start < 0 or end <= start:
        return (0, 0)
    return rows[start].cells[0].start, rows[end - 1].cells[-1].end
