"""Label → value: a printed label ("License Number:", "Expires") and the value beside or
below it (labels.py finds the pairs), read into the field's normal form.

A label's strength, where its value sits and the form section it is in decide the score:
a "Name:" under "REFERENCE COMPLETED BY" is the referee's, not the holder's.
"""

from __future__ import annotations

import re

from extract import dates
from extract.fields.candidates import Cand, Context
from extract.fields.date_roles import range_fields
from extract.fields.labels import LabelValue
from extract.fields.layout import Layout
from extract.fields.values import parse_value

_REFEREE_SECTION = re.compile(
    r"completed by|verified by|signed by|prepared by|authorized by|certified by|evaluator|referee|respondent|reference information|contact",  # noqa: E501
    re.I,
)


def section_header(layout: Layout, row_i: int) -> str | None:
    """The heading of the form section a row is in: the nearest row above that is a single
    short all-caps cell ("EMPLOYEE INFORMATION", "REFERENCE COMPLETED BY")."""
    for row in layout.rows[max(0, row_i - 8) : row_i][::-1]:
        # one short all-caps cell, perhaps with specks of noise beside it
        if all(len(c.words) <= 2 for c in row.cells[1:]):
            t = row.cells[0].text.strip("\"'“”‘’ ")
            if t.isupper() and len(t.split()) <= 5 and not any(c.isdigit() for c in t):
                return t
    return None


def from_labels(ctx: Context, values: list[LabelValue], wanted: set[str]) -> list[Cand]:
    """A candidate for each label's value in a wanted field, scored by the label's
    strength and by where its value sits (inline, right, below)."""
    out: list[Cand] = []
    for lv in values:
        field = lv.hit.field
        # a "Name:" or "Organization:" under "REFERENCE COMPLETED BY" is the referee's
        if field in ("person_name", "credential_title", "referee_name"):
            header = section_header(ctx.layout, lv.hit.cell.row)
            if header and _REFEREE_SECTION.search(header):
                # "COMPLETED BY / Name: / Title:": the person who filled in the form
                if ctx.doc_type == "reference_letter" and field == "person_name":
                    field = "referee_name"
                elif field != "referee_name":
                    continue
        if field == "referee_name" and ctx.doc_type != "reference_letter":
            continue
        if field not in wanted:
            continue
        base = 0.92 if not lv.hit.weak else 0.75
        base *= lv.hit.strength
        if lv.where == "below":
            base *= 0.95
        # ranges: "Dates of training: July 1, 2002 through June 30, 2003"
        if field in ("start_date", "issue_date", "expiration_date", "end_date"):
            found = dates.find_dates(lv.text)
            if len(found) >= 2 and re.search(
                r"through|thru|to|until|-|–", lv.text[found[0].end : found[1].start]
            ):
                for fld, fd in zip(range_fields(ctx.doc_type, field), found[:2], strict=False):
                    if fld and fld in wanted:
                        out.append(
                            Cand(
                                fld,
                                fd.for_field(fld).isoformat(),
                                base,
                                lv.start + fd.start,
                                lv.start + fd.end,
                                "label-range",
                            )
                        )
                continue
            if field == "end_date" and lv.hit.label in ("through", "to", "until"):
                base *= 0.7
        if field in ("issuer", "credential_title", "person_name", "referee_name", "jurisdiction"):
            label_end = lv.hit.cell.words[lv.hit.word_index + lv.hit.n_words - 1].text
            colon = label_end.endswith((":", "#")) or ctx.text[
                lv.start - 2 : lv.start
            ].strip().endswith(":")
            if lv.where == "inline" and not colon:
                continue  # "Program Director", "Course Location": a longer phrase, not a label
            table_row = lv.where == "right" and len(lv.hit.cell.words) == lv.hit.n_words
            if lv.hit.weak and not colon and not table_row and not lv.hit.cell.text.isupper():
                continue  # "University" or "Title" on its own is a word, not a label
        parsed = parse_value(field, lv.text)
        if parsed is None:
            continue
        value, quality = parsed
        if field in ("issuer", "credential_title") and _looks_like_label(lv.text):
            continue
        out.append(Cand(field, value, base * quality, lv.start, lv.end, f"label:{lv.hit.label}"))
    return out


def _looks_like_label(text: str) -> bool:
    """A value text ending in ":" is the next label, read as a value by mistake."""
    return text.endswith(":")
