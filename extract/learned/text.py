"""Tokens of words (for anchors) and the normal form of a value read at a learned spot."""

from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

from extract import dates

DATA = Path(__file__).resolve().parent.parent / "data"
DATE_FIELDS = ("issue_date", "expiration_date", "start_date", "end_date")
_ROMAN = {"I": "1", "II": "2", "IIN": "2N", "III": "3", "IIIN": "3N", "IV": "4", "V": "5"}


@lru_cache(maxsize=100_000)
def token(text: str) -> str | None:
    """The anchor token of a word: letters only, case and accents folded; None for a word
    with a digit (numbers and dates are a person's, never a layout's) or under 2 letters."""
    if any(c.isdigit() for c in text):
        return None
    folded = unicodedata.normalize("NFKD", text.casefold())
    letters = "".join(c for c in folded if "a" <= c <= "z")
    return letters if len(letters) >= 2 else None


def key(value: str) -> str:
    """What two values must share to be the same: letters and digits, case folded."""
    folded = unicodedata.normalize("NFKD", value.casefold())
    return "".join(c for c in folded if c.isalnum() and not unicodedata.combining(c))


@lru_cache(maxsize=1)
def _states() -> dict[str, str]:
    """State and territory names (folded) and codes -> USPS code."""
    rows = json.loads((DATA / "states.json").read_text())["states"]
    out = {key(r["name"]): r["code"] for r in rows}
    out.update({r["code"].casefold(): r["code"] for r in rows})
    return out


@lru_cache(maxsize=1)
def _name_noise() -> frozenset[str]:
    """Degrees and honorifics printed around a name but not part of it."""
    spec = json.loads((DATA / "names.json").read_text())
    return frozenset(key(w) for w in [*spec["degrees"], *spec["honorifics"]] if key(w))


def state_names(code: str) -> list[str]:
    """How a state may be printed: its name and its code."""
    return [name for name, c in _states().items() if c == code]


def normal(field: str, text: str) -> str | None:
    """The spec's form of `text` read for `field`, or None when it cannot be that field."""
    text = " ".join(text.split()).strip(" :;,|-_*")
    if not text:
        return None
    if field in DATE_FIELDS:
        found = dates.find_dates(text)
        return found[0].for_field(field).isoformat() if found else None
    if field in ("person_name", "referee_name"):
        family, comma, given = text.partition(",")
        rest = given.split()
        while rest and key(rest[-1]) in _name_noise():
            rest.pop()
        if comma and rest:
            text = f"{' '.join(rest)} {family}"  # "ESPOSITO, DIANE N": as registers list people
        words = [w.strip(",;:") for w in text.split()]
        while words and key(words[-1]) in _name_noise():
            words.pop()
        while words and key(words[0]) in _name_noise():
            words.pop(0)
        # a word with no letter in it ("®.", "|") is a speck or a rule line, not a name
        name = " ".join(w for w in words if any(c.isalpha() for c in w)).strip(" ,")
        return name if name and not any(c.isdigit() for c in name) else None
    if field == "credential_number":
        number = re.sub(r"\s+", "", text).upper()
        return number if sum(c.isdigit() for c in number) >= 2 else None
    if field == "npi":
        digits = re.sub(r"\D", "", text)
        return digits if len(digits) == 10 else None
    if field == "jurisdiction":
        folded = key(text)
        if folded in _states():
            return _states()[folded]
        for word in reversed(re.findall(r"[A-Za-z]+(?: [A-Za-z]+)?", text)):
            if key(word) in _states() and (len(word) > 2 or word.isupper()):
                return _states()[key(word)]
        return None
    if field == "schedules":
        marks = re.findall(r"\b(?:[1-5]N?|I{1,3}N?|IV|V)\b", text.upper())
        values = list(dict.fromkeys(_ROMAN.get(m, m) for m in marks))
        return ",".join(values) if len(values) >= 2 else None
    if field == "credit_hours":
        m = re.search(r"\d{1,3}(?:\.\d{1,2})?", text)
        return f"{float(m.group(0)):g}" if m and 0 < float(m.group(0)) <= 200 else None
    if field in ("issuer", "credential_title"):
        # a name, not a sentence: what a reflowed letter puts at a learned place is not one
        words = text.split()
        if len(words) > 10 or sum(c.isdigit() for c in text) > 4 or dates.find_dates(text):
            return None
    return text
