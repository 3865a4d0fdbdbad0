"""Value shapes: the typed value inside a printed value text, in its normal form.

Every finder that reads a value off the page (a label's value, a number in a sentence)
goes through parse_value or parse_number, so one field always has one normal form.
"""

from __future__ import annotations

import re
from datetime import date

from extract import dates
from extract.fields import gazetteers
from extract.fields.candidates import Cand
from extract.fields.names import clean_person, title_case

SCHEDULE_RX = re.compile(r"\b(?:[1-5]N?|I{1,3}N?|IV|V)\b")

_LEADER = re.compile(r"^(?:[.:·_\-]{3,}.*|[a-z]*(?:sss|eee|\.\.\.)[a-z.]*)$", re.I)


def strip_leaders(text: str) -> str:
    """Dotted leaders ("Registrant Name .......... D'ANGELO") that OCR reads as letters."""
    return " ".join(t for t in text.split(" ") if not (len(t) >= 3 and _LEADER.match(t)))


def date_cand(field: str, fd: dates.FoundDate, score: float, source: str) -> Cand:
    """A date candidate for `field`; a date whose digits OCR had to repair counts less."""
    score *= 0.85 if fd.repaired else 1.0
    return Cand(field, fd.for_field(field).isoformat(), score, fd.start, fd.end, source)


def parse_value(field: str, text: str) -> tuple[str, float] | None:
    """The typed value inside a label's value text: (normal form, quality)."""
    text = strip_leaders(text.strip()).strip()
    if not text:
        return None
    if field in ("issue_date", "expiration_date", "start_date", "end_date"):
        found = dates.find_dates(text)
        if not found:
            return None
        f = found[0]
        q = 0.8 if f.repaired else 1.0
        if f.start > 12:
            q *= 0.8  # the date is not where the value starts
        return f.for_field(field).isoformat(), q
    if field in ("person_name", "referee_name"):
        res = clean_person(text)
        return res
    if field == "credential_number":
        return parse_number(text)
    if field == "npi":
        m = re.search(r"\b(\d[\d \-]{8,12}\d)\b", text)
        if not m:
            return None
        digits = re.sub(r"\D", "", m.group(1))
        return (digits, 1.0) if len(digits) == 10 else None
    if field == "schedules":
        marks: list[str] = SCHEDULE_RX.findall(text.upper())
        roman = {"I": "1", "II": "2", "IIN": "2N", "III": "3", "IIIN": "3N", "IV": "4", "V": "5"}
        vals = [roman.get(mk, mk) for mk in marks]
        if len(vals) < 2:
            return None
        return ",".join(dict.fromkeys(vals)), 1.0
    if field == "credit_hours":
        m = re.search(r"\b(\d{1,3}(?:\.\d{1,2})?)\b", text)
        if not m:
            return None
        v = float(m.group(1))
        if not 0 < v <= 200:
            return None
        return f"{v:g}", 1.0
    if field == "jurisdiction":
        code = gazetteers.state_in(text)
        if code:
            return code, 1.0
        m = re.fullmatch(r"\s*([A-Z]{2})\s*", text)
        return (m.group(1), 0.9) if m else None
    if field in ("issuer", "credential_title"):
        value = title_case(re.split(r"\t|  +", text)[0])
        value = re.sub(r"\s*\(\d{4}\)$", "", value)
        if not value or len(value) < 3 or len(value.split()) > 12:
            return None
        if (
            sum(c.isdigit() for c in value) > 4
            or dates.find_dates(value)
            or re.search(r"\d{5,}", value)
        ):
            return None
        return value, 1.0
    return None


def parse_number(text: str) -> tuple[str, float] | None:
    """As printed, spaces removed: "PL 2018 009873" -> "PL2018009873", "G 108065" -> "G108065"."""
    tokens = text.replace("\t", " \t ").split(" ")
    parts: list[str] = []
    skipped = 0
    for tok in tokens:
        if not tok:
            continue
        if tok == "\t" or tok in (";", "|", "/"):
            if parts:
                break
            continue
        t = tok.strip(".,;:()#")
        if not t:
            continue
        if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.\-/]*", t) and (
            any(c.isdigit() for c in t) or (t.isupper() and len(t) <= 4)
        ):
            if dates.find_dates(t):
                if parts:
                    break
                continue
            parts.append(t)
            if tok.endswith((",", ";")):
                break
            continue
        if parts:
            break
        skipped += 1
        if skipped > 2:
            return None
    while parts and not any(c.isdigit() for c in parts[-1]) and len(parts) > 1:
        parts.pop()
    value = "".join(parts).strip(".-/").upper()
    if len(value) < 3 or not any(c.isdigit() for c in value):
        return None
    return value, 1.0 if not skipped else 0.8


def to_date(value: str | None) -> date | None:
    """A field's ISO value as a date, None when absent or not a date (for validation)."""
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None
