"""Numbers: credential numbers and credit hours, as sentences and bare cells print them.

DEA and NPI numbers, by their own patterns, are found in __init__.py; the normal form of
any number is values.parse_number.
"""

from __future__ import annotations

import re

from extract import dates
from extract.fields.candidates import Cand, Context
from extract.fields.values import parse_number, parse_value

NUMBER_RX = re.compile(r"[A-Z0-9][A-Z0-9.\-/]*[0-9][A-Z0-9.\-/]*", re.I)


def credit_hours(text: str) -> list[Cand]:
    """ "12.5 AMA PRA Category 1 Credits", "6 contact hours": a "maximum of" counts less."""
    out: list[Cand] = []
    for m in re.finditer(
        r"(?<!category )(?<!category)(?P<v>\d{1,3}(?:\.\d{1,2})?)\s*(?:\(|\n)?\s*(?:(?:[A-Z]{2,6}\s+)?(?:PRA\s+)?Category 1(?:\s+CME)? Credits?|(?:nursing )?contact hours?|credit hours?|credits?|CME credits?|CE credits?|hours of (?:CME|CE|credit))",  # noqa: E501
        text,
        re.I,
    ):
        before = text[max(0, m.start() - 40) : m.start()].lower()
        score = 0.5 if "maximum" in before else 0.75
        parsed = parse_value("credit_hours", m.group("v"))
        if parsed:
            out.append(Cand("credit_hours", parsed[0], score, m.start("v"), m.end("v"), "sentence"))
    return out


def sentence_numbers(text: str) -> list[Cand]:
    """ "Policy number: ...", "License No. ...": a number named in running text."""
    out: list[Cand] = []
    for m in re.finditer(
        r"(?:policy|license|licence|certificate|registration|certification|member)"
        r"\s+(?:number|no\.?|#)\s*:?\s*(?P<v>[A-Z0-9][A-Z0-9 \-./]{2,30})",
        text,
        re.I,
    ):
        parsed = parse_number(m.group("v"))
        if parsed:
            out.append(
                Cand("credential_number", parsed[0], 0.8, m.start("v"), m.end("v"), "sentence")
            )
    return out


def bare_numbers(ctx: Context) -> list[Cand]:
    """A cell of the first page that is only a number: a card's or wall certificate's."""
    out: list[Cand] = []
    for row in ctx.layout.rows[: ctx.layout.first_page_rows]:
        for cell in row.cells:
            t = cell.text.strip(" .:;|")
            if (
                re.fullmatch(r"[A-Z]{0,3}[\-. ]?\d[\d.\-]{3,12}", t)
                and not dates.find_dates(t)
                and sum(c.isdigit() for c in t) >= 4
            ):
                parsed = parse_number(t)
                if parsed:
                    out.append(
                        Cand(
                            "credential_number",
                            parsed[0],
                            0.4,
                            cell.start,
                            cell.end,
                            "bare-number",
                        )
                    )
    return out
