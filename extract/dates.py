"""Printed dates into ISO form: numeric, month-name, day-month-year, "5th day of June, 2013",
the formal wording of diplomas and commissions ("the thirteenth day of May, two thousand
twenty-two"), month-year only (last day of month for expirations, first day otherwise).

A fast regex finder proposes spans; simple forms are parsed directly and the rest go through
dateparser. OCR confusions inside numbers (O/0, l/1, S/5) are repaired first.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
    "dee": 12, "0ct": 10, "oet": 10, "n0v": 11, "5ep": 9, "au9": 8,  # as OCR misreads them
}  # fmt: skip
_MON = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|dee|0ct|oet|n0v)"
)
MONTH_RX = _MON  # a month name or its abbreviation, for rules that stop at a date
_D = r"[0-9OoIl]"  # a digit as OCR may print it
_ORD = r"(?:st|nd|rd|th)"

# numbers in words, as formal documents spell out the day and the year
_UNITS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_TEENS = [
    "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
    "eighteen", "nineteen",
]  # fmt: skip
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_ORD_UNITS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth"]
_ORD_TEENS = [
    "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth",
    "seventeenth", "eighteenth", "nineteenth",
]  # fmt: skip
NUMBER_WORDS: dict[str, int] = {
    **{w: i + 1 for i, w in enumerate(_UNITS)},
    **{w: i + 10 for i, w in enumerate(_TEENS)},
    **{w: 20 + 10 * i for i, w in enumerate(_TENS)},
    **{w: i + 1 for i, w in enumerate(_ORD_UNITS)},
    **{w: i + 10 for i, w in enumerate(_ORD_TEENS)},
    "twentieth": 20,
    "thirtieth": 30,
}
_SEP = r"[\s\-]+"
_W1_99 = (
    rf"(?:(?:{'|'.join(_TENS)})(?:{_SEP}(?:{'|'.join(_UNITS)}))?|{'|'.join(_TEENS)}|"
    rf"{'|'.join(_UNITS)})"
)
_W_ORDINAL = (
    rf"(?:(?:twenty|thirty){_SEP}(?:{'|'.join(_ORD_UNITS)})|twentieth|thirtieth|"
    rf"{'|'.join(_ORD_TEENS)}|{'|'.join(_ORD_UNITS)})"
)
_W_YEAR = (
    rf"(?:(?:one{_SEP})?thousand|two{_SEP}thousand)(?:{_SEP}and)?(?:{_SEP}{_W1_99})?"
    rf"|(?:eighteen|nineteen|twenty){_SEP}hundred(?:{_SEP}and)?(?:{_SEP}{_W1_99})?"
    rf"|(?:nineteen|twenty){_SEP}(?:{_W1_99})"
)
PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    # the thirteenth day of May, two thousand twenty-two / this 4th day of June in the year of
    # our Lord nineteen hundred ninety-eight: a day or year spelt out
    (
        "day_words",
        re.compile(
            rf"\b(?P<d>{_W_ORDINAL}|\d{{1,2}}{_ORD}?)\s+day\s+of\s+(?P<m>{_MON})\.?,?\s+"
            rf"(?:in\s+the\s+year\s+(?:of\s+our\s+lord\s+)?)?(?P<y>{_W_YEAR}|\d{{4}})\b",
            re.I,
        ),
    ),
    # 5th day of June, 2013 / this 17th day of December 2022
    (
        "day_of",
        re.compile(
            rf"\b(?P<d>\d{{1,2}}){_ORD}?\s+day\s+of\s+(?P<m>{_MON})\.?,?\s+(?:in\s+the\s+year\s+)?(?P<y>\d{{4}})\b",
            re.I,
        ),
    ),
    # June 5, 2013 / Nov. 11, 2015 / June 5th 2013
    (
        "mdy_name",
        re.compile(
            rf"\b(?P<m>{_MON})\.?\s+(?P<d>{_D}{{1,2}}){_ORD}?(?:\s*[,.]\s*|\s+)(?P<y>{_D}{{4}})\b",
            re.I,
        ),
    ),
    # 12-JUL-2015 / 5 June 2013 / 05 Jun. 2013
    (
        "dmy_name",
        re.compile(
            rf"\b(?P<d>{_D}{{1,2}})(?:{_ORD})?[\s\-./]*(?P<m>{_MON})\.?[\s\-./,]*(?P<y>{_D}{{4}})\b",
            re.I,
        ),
    ),
    # 2023-11-22
    (
        "iso",
        re.compile(rf"\b(?P<y>(?:19|20){_D}{{2}})[-/.](?P<m>{_D}{{1,2}})[-/.](?P<d>{_D}{{1,2}})\b"),
    ),
    # 11/22/2023, 11-22-2023, 11.22.2023, 1/5/23
    (
        "mdy_num",
        re.compile(
            # "2/1 4/2024": OCR may split a two-digit day when a full year follows
            rf"(?<![\d/])(?P<m>{_D}{{1,2}})\s?[/\-.]\s?"
            rf"(?P<d>{_D}{{1,2}}|{_D} {_D}(?=\s?[/\-.]\s?{_D}{{4}}))\s?[/\-.]\s?"
            rf"(?P<y>{_D}{{4}}|{_D}{{2}}(?!\s?\d))(?![\d/])"
        ),
    ),
    # June 2027 / Jun. 2027
    ("my_name", re.compile(rf"\b(?P<m>{_MON})\.?,?\s+(?P<y>(?:19|20)\d{{2}})\b", re.I)),
    # 06/2027
    (
        "my_num",
        re.compile(r"(?<![\d/])(?P<m>0?[1-9]|1[0-2])\s?[/\-]\s?(?P<y>(?:19|20)\d{2})(?![\d/])"),
    ),
]
_OCR_DIGITS = str.maketrans({"O": "0", "o": "0", "I": "1", "l": "1"})


@dataclass(frozen=True, slots=True)
class FoundDate:
    start: int
    end: int
    value: date
    month_only: bool  # printed without a day: resolve per field (first or last of month)
    repaired: bool  # OCR confusions were corrected inside the numbers

    def for_field(self, field: str) -> date:
        """Month-year dates: last day of the month for expiration_date, first day otherwise."""
        if not self.month_only:
            return self.value
        if field == "expiration_date":
            last = calendar.monthrange(self.value.year, self.value.month)[1]
            return self.value.replace(day=last)
        return self.value.replace(day=1)


def _month(token: str) -> int | None:
    token = token.lower().rstrip(".")
    return MONTHS.get(token[:4] if token.startswith("sept") else token[:3])


def _year(y: str) -> int:
    n = int(y)
    if len(y) == 2:
        n += 2000 if n < 50 else 1900
    return n


def words_to_number(text: str) -> int | None:
    """ "twenty-two" -> 22, "thirteenth" -> 13, "two thousand ten" -> 2010,
    "nineteen hundred ninety-eight" -> 1998, "nineteen ninety-eight" -> 1998."""
    words = [w for w in re.split(r"[\s\-]+", text.lower()) if w and w != "and"]
    if not words or any(w not in NUMBER_WORDS and w not in ("thousand", "hundred") for w in words):
        return None
    if "thousand" in words or "hundred" in words:
        total, part = 0, 0
        for w in words:
            if w == "thousand":
                total += max(part, 1) * 1000
                part = 0
            elif w == "hundred":
                part = max(part, 1) * 100
            else:
                part += NUMBER_WORDS[w]
        return total + part
    small = _below_hundred(words)
    if small is not None:
        return small
    # "nineteen ninety-eight", "twenty twenty-two": the century, then the year in it
    rest = _below_hundred(words[1:])
    if 10 <= NUMBER_WORDS[words[0]] <= 29 and rest is not None and rest >= 10:
        return NUMBER_WORDS[words[0]] * 100 + rest
    return None


def _below_hundred(words: list[str]) -> int | None:
    """One number under a hundred: "seven", "seventeen", "seventy", "seventy-seven"."""
    vals = [NUMBER_WORDS[w] for w in words]
    if len(vals) == 1:
        return vals[0]
    if len(vals) == 2 and vals[0] >= 20 and vals[0] % 10 == 0 and vals[1] < 10:
        return vals[0] + vals[1]
    return None


def find_dates(text: str) -> list[FoundDate]:
    """Every date printed in `text`, left to right, without overlaps (longest form wins)."""
    return list(_find_dates(text))


@lru_cache(maxsize=256)
def _find_dates(text: str) -> tuple[FoundDate, ...]:
    found: list[FoundDate] = []
    taken: list[tuple[int, int]] = []
    for kind, rx in PATTERNS:
        for m in rx.finditer(text):
            s, e = m.span()
            if any(s < te and ts < e for ts, te in taken):
                continue
            parsed = _parse_match(kind, m)
            if parsed is None:
                continue
            value, repaired = parsed
            found.append(FoundDate(s, e, value, kind.startswith("my_"), repaired))
            taken.append((s, e))
    found.sort(key=lambda f: f.start)
    return tuple(found)


def _parse_match(kind: str, m: re.Match[str]) -> tuple[date, bool] | None:
    groups = {k: v for k, v in m.groupdict().items() if v is not None}
    if kind == "day_words":
        return _parse_words(groups)
    numeric = kind in ("iso", "mdy_num", "my_num")
    fixed = {
        k: v.translate(_OCR_DIGITS).replace(" ", "") if numeric or k != "m" else v
        for k, v in groups.items()
    }
    repaired = fixed != groups
    try:
        y = _year(fixed["y"])
        mo = int(fixed["m"]) if fixed["m"][0].isdigit() else _month(fixed["m"])
        d = int(fixed.get("d", "1"))
        if mo is None:
            return None
        return date(y, mo, d), repaired
    except (ValueError, KeyError):
        text = m.group(0)
        value = parse_with_dateparser(text)
        return (value, True) if value else None


def _parse_words(groups: dict[str, str]) -> tuple[date, bool] | None:
    """Day, month and year of "the thirteenth day of May, two thousand twenty-two"."""
    d_text, y_text = groups["d"], groups["y"]
    d = int(re.sub(r"\D", "", d_text)) if d_text[0].isdigit() else words_to_number(d_text)
    y = int(y_text) if y_text.isdigit() else words_to_number(y_text)
    mo = _month(groups["m"])
    if d is None or y is None or mo is None or not 1800 <= y <= 2100:
        return None
    try:
        return date(y, mo, d), False
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def parse_with_dateparser(text: str) -> date | None:
    """The slow, forgiving path for forms the patterns do not take apart cleanly."""
    import dateparser

    dt = dateparser.parse(
        text,
        languages=["en"],
        settings={"DATE_ORDER": "MDY", "PREFER_DAY_OF_MONTH": "first", "STRICT_PARSING": False},
    )
    return dt.date() if dt else None


def parse_date(text: str, field: str = "issue_date") -> date | None:
    """The first date in `text` in the field's sense (month-year resolved per field)."""
    found = find_dates(text)
    if found:
        return found[0].for_field(field)
    value = parse_with_dateparser(text.strip()) if 6 <= len(text.strip()) <= 40 else None
    return value


def iso(value: date) -> str:
    return value.isoformat()
