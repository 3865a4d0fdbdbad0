"""Candidate values for each field, from four kinds of evidence:

- labels: a printed label and the value next to or below it (labels.py);
- sentences: the wording of letters and certificates ("conferred upon", "completed
  residency training in", "effective 11/1/2021 to 11/1/2022", "Sincerely, <name>");
- gazetteers: known boards, schools, carriers and training bodies (spaCy PhraseMatcher
  plus fuzzy matching for OCR damage);
- layout: the letterhead, the date line of a letter, a line on its own in large type.

Every candidate carries its evidence span (offsets in Layout.text) and a score 0..1 for
how strong that kind of evidence is; __init__.py combines them into one value per field.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources

from rapidfuzz import fuzz, process
from rapidfuzz.utils import default_process
from spacy.tokens import Doc
from spacy.util import filter_spans

from extract import dates
from extract.fields import gazetteers
from extract.fields.labels import LabelValue
from extract.fields.layout import Layout, Row
from extract.fields.names import clean_person, title_case
from extract.fields.profiles import profile

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
NUMBER_RX = re.compile(r"[A-Z0-9][A-Z0-9.\-/]*[0-9][A-Z0-9.\-/]*", re.I)
SCHEDULE_RX = re.compile(r"\b(?:[1-5]N?|I{1,3}N?|IV|V)\b")
STATE_CODE_RX = re.compile(r"\b([A-Z]{2})[ ]+\d{5}(?:-\d{4})?\b")
_BREAK = r"[ \t]*\n?[ \t]*"


@dataclass(slots=True)
class Cand:
    field: str
    value: str
    score: float
    start: int
    end: int
    source: str


@dataclass(slots=True)
class Context:
    layout: Layout
    doc: Doc
    doc_type: str
    ocr_pages: set[int]

    @property
    def text(self) -> str:
        return self.layout.text


@lru_cache(maxsize=1)
def _titles() -> dict:
    return json.loads(resources.files("extract").joinpath("data", "titles.json").read_text())


# ---------------------------------------------------------------- value parsing


_LEADER = re.compile(r"^(?:[.:·_\-]{3,}.*|[a-z]*(?:sss|eee|\.\.\.)[a-z.]*)$", re.I)


def strip_leaders(text: str) -> str:
    """Dotted leaders ("Registrant Name .......... D'ANGELO") that OCR reads as letters."""
    return " ".join(t for t in text.split(" ") if not (len(t) >= 3 and _LEADER.match(t)))


def _date_cand(field: str, fd: dates.FoundDate, score: float, source: str) -> Cand:
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
        return _parse_number(text)
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


def _parse_number(text: str) -> tuple[str, float] | None:
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


# ---------------------------------------------------------------- labels

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
                for fld, fd in zip(_range_fields(ctx.doc_type, field), found[:2], strict=False):
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
    return text.endswith(":")


def _range_fields(doc_type: str, field: str) -> tuple[str | None, str | None]:
    """Which fields the two ends of a printed period fill: the doc_type's profile says (a
    training certificate is issued on completion, an employment ends)."""
    return profile(doc_type).period


# ---------------------------------------------------------------- sentences

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


def from_sentences(ctx: Context, wanted: set[str]) -> list[Cand]:
    text = ctx.text
    out: list[Cand] = []
    if "person_name" in wanted:
        for m in _RE_LINE.finditer(text):
            line = m.group("v")
            # "RE: Letter of Reference for Ingrid Tran": try the text after each separator
            for sep in reversed(
                list(re.finditer(r"(?:\s[-–—:]\s|\bfor\b|\bof\b|\bre\b|:)\s*", line, re.I))
            ):
                res = clean_person(line[sep.end() :])
                if res:
                    s0 = m.start("v") + sep.end()
                    out.append(
                        Cand("person_name", res[0], 0.85 * res[1], s0, m.end("v"), "sentence")
                    )
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
    dt = ctx.doc_type
    # periods: "from X to Y", "X through Y", "effective X to Y"
    for f1, f2 in _period_matches(text):
        pair = _range_fields(dt, "start_date")
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
                out.append(_date_cand(fld, fd, 0.8, "period"))
    # contextual dates: a keyword before the date
    for fd in dates.find_dates(text):
        before = text[max(0, fd.start - 45) : fd.start].lower()
        before = before.replace("\n", " ").replace("\t", " ")
        fld = _date_field_from_context(before, dt)
        if fld and fld in wanted:
            out.append(_date_cand(fld, fd, 0.6, "date-context"))
    # certificates and diplomas: the date printed is the date of issue, often in prose
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
    # a diploma or certificate that prints one date: that is the date of issue
    if dt in ("diploma", "cme_certificate") and "issue_date" in wanted:
        distinct = {fd.value: fd for fd in dates.find_dates(text) if not fd.month_only}
        if len(distinct) == 1:
            fd = next(iter(distinct.values()))
            out.append(
                Cand("issue_date", fd.value.isoformat(), 0.55, fd.start, fd.end, "only-date")
            )
    # a letter's date: a line that is only a date, near the top of the first page
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
    if "credential_title" in wanted:
        out.extend(_titles_from_text(ctx))
    if "credit_hours" in wanted:
        for m in re.finditer(
            r"(?<!category )(?<!category)(?P<v>\d{1,3}(?:\.\d{1,2})?)\s*(?:\(|\n)?\s*(?:(?:[A-Z]{2,6}\s+)?(?:PRA\s+)?Category 1(?:\s+CME)? Credits?|(?:nursing )?contact hours?|credit hours?|credits?|CME credits?|CE credits?|hours of (?:CME|CE|credit))",  # noqa: E501
            text,
            re.I,
        ):
            before = text[max(0, m.start() - 40) : m.start()].lower()
            score = 0.5 if "maximum" in before else 0.75
            parsed = parse_value("credit_hours", m.group("v"))
            if parsed:
                out.append(
                    Cand("credit_hours", parsed[0], score, m.start("v"), m.end("v"), "sentence")
                )
    if "issuer" in wanted:
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
                if 2 <= len(v.split()) <= 10 and (_org_like(v) or "insured by" in m.group(0)):
                    out.append(Cand("issuer", v, score, m.start("v"), m.end("v"), "sentence"))
    if "credential_number" in wanted:
        for m in re.finditer(
            r"(?:policy|license|licence|certificate|registration|certification|member)"
            r"\s+(?:number|no\.?|#)\s*:?\s*(?P<v>[A-Z0-9][A-Z0-9 \-./]{2,30})",
            text,
            re.I,
        ):
            parsed = _parse_number(m.group("v"))
            if parsed:
                out.append(
                    Cand("credential_number", parsed[0], 0.8, m.start("v"), m.end("v"), "sentence")
                )
    if "referee_name" in wanted:
        out.extend(_signature(ctx))
    if "jurisdiction" in wanted and dt == "dea_registration":
        out.extend(_address_state(ctx))
    return out


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


def _titles_from_text(ctx: Context) -> list[Cand]:
    out: list[Cand] = []
    text = ctx.text
    dt = ctx.doc_type
    g = gazetteers.load()
    if dt in ("medical_license", "nursing_license"):
        titles = _titles()["license_titles"]
        names = titles["medical"] + titles["nursing"]
        for row in ctx.layout.rows:
            for cell in row.cells:
                t = cell.text.strip(" .:")
                low = t.lower()
                for name in names:
                    i = low.find(name.lower())
                    if i < 0:
                        continue
                    alone = len(low) <= len(name) + 3
                    after_as = re.search(
                        r"(?:as an?|license to practice as an?|licensed as an?)\s*$", low[:i]
                    )
                    score = 0.8 if alone else 0.7 if after_as else 0.0
                    if score:
                        out.append(
                            Cand(
                                "credential_title",
                                title_case(t[i : i + len(name)]),
                                score,
                                cell.start + i,
                                cell.start + i + len(name),
                                "title-list",
                            )
                        )
                    break
        out.extend(_licence_sentences(text))
    if dt == "diploma":
        for pat in _titles()["degree_patterns"]:
            for m in re.finditer(pat, text):
                v = re.sub(r"\s+(?:and|of|in|&)$", "", m.group(0))
                alone = text[m.end() : m.end() + 1] in ("\n", "\t", "") and text[
                    max(0, m.start() - 1) : m.start()
                ] in ("\n", "\t", "")
                out.append(
                    Cand(
                        "credential_title",
                        title_case(v),
                        0.85 if alone else 0.6,
                        m.start(),
                        m.start() + len(v),
                        "degree",
                    )
                )
    if dt == "training_certificate":
        for m in re.finditer(
            r"(?:residency|fellowship|internship|program|training|education|fellow|resident)(?: training| program| years?)?\s+in\s+(?:the\s+(?:specialty|field)\s+of\s+|the\s+)?(?P<v>[A-Z][A-Za-z&/\-]+(?:[ \n](?:and|of|&|[A-Z][A-Za-z&/\-]+))*)",  # noqa: E501
            text,
        ):
            # the title ends at its line when the next one is the period: "Neurology\nJuly 1, ..."
            v = re.split(rf"\n(?=\s*(?:\d|{dates.MONTH_RX}\b))", m.group("v"), flags=re.I)[0]
            v = re.sub(r"\s+(?:and|of|&|At|From)$", "", v.replace("\n", " "))
            v = re.split(r"\s+(?:At|From|Program|Training)\b", v)[0]
            out.append(
                Cand(
                    "credential_title",
                    title_case(v),
                    0.8,
                    m.start("v"),
                    m.start("v") + len(v),
                    "sentence",
                )
            )
    if dt in ("board_certification", "training_certificate"):
        out.extend(
            _sentence_titles(
                r"certified by (?:the\s+)?[A-Z][^.]{5,120}?\s+in\s+(?P<v>[A-Z][A-Za-z&/\-()]+(?:[ \n](?:and|of|&|[A-Z(][A-Za-z&/\-()]+))*)(?=\.)",  # noqa: E501
                text,
                0.75,
            )
        )
        out.extend(
            _sentence_titles(
                r"(?:certified in|specialty of|in the specialty|certification in|diplomate in)\s+(?:the\s+)?(?P<v>[A-Z][A-Za-z&/\-()]+(?:[ ](?:and|of|&|[A-Z(][A-Za-z&/\-()]+))*)",  # noqa: E501
                text,
            )
        )
    if dt in ("board_certification", "training_certificate"):
        specs = g.specialties
        for row in ctx.layout.rows:
            for cell in row.cells:
                t = cell.text.strip()
                if not 4 <= len(t) <= 70:
                    continue
                best = process.extractOne(
                    t,
                    specs,
                    processor=default_process,
                    scorer=fuzz.ratio,
                    score_cutoff=90 if cell.page in ctx.ocr_pages else 97,
                )
                if best:
                    out.append(
                        Cand(
                            "credential_title",
                            title_case(t) if best[1] >= 97 else best[0],
                            0.8 * best[1] / 100,
                            cell.start,
                            cell.end,
                            "specialty",
                        )
                    )
    if dt == "life_support_card":
        out.extend(_course_cards(text))
        for c in g.courses:
            for m in re.finditer(
                rf"\b(?:{re.escape(c['name'])}|{re.escape(c['abbr'])})(?:\s*\(({re.escape(c['abbr'])})\))?(?P<p>[ ]+Provider)?\b",  # noqa: E501
                text,
                re.I,
            ):
                v = m.group(0)
                alone = text[m.end() : m.end() + 1] in ("\n", "\t", "") and text[
                    max(0, m.start() - 1) : m.start()
                ] in ("\n", "\t", "")
                score = 0.85 if alone else 0.55
                out.append(
                    Cand(
                        "credential_title",
                        title_case(re.sub(r"\s*\([A-Z]+\)", "", v))
                        if not v.isupper() or len(v) > 6
                        else v,
                        score,
                        m.start(),
                        m.end(),
                        "course",
                    )
                )
    if dt == "employment_verification":
        out.extend(
            _sentence_titles(
                r"(?:employed|served|worked|works|working)\s+(?:here\s+|with us\s+|(?:at|by|with) [^\t]{0,60}?)?as\s+(?:an?\s+)?(?P<v>[A-Z][A-Za-z/&\-]+(?:[ \n](?:of|and|&|[A-Z][A-Za-z/&\-]+|I{1,3}|IV))*)",  # noqa: E501
                text,
            )
        )
        out.extend(
            _sentence_titles(
                r"(?:position|title) of\s+(?:an?\s+)?(?P<v>[A-Z][A-Za-z/&\-]+(?:[ ](?:of|and|&|[A-Z][A-Za-z/&\-]+|I{1,3}|IV))*)",  # noqa: E501
                text,
            )
        )
    if dt == "cme_certificate":
        for m in re.finditer(
            r"(?:participated in|completed|attended|for the activity|entitled|titled|completion of)"
            r"(?:[ ][a-z][a-z\-]*){0,6}[ ]*(?:[:\n\t]|[ ][\"“])\s*[\"“]?"
            r"(?P<v>[A-Z0-9][^\n\t\"”]{5,110}?)[\"”]?\s*(?:\n|\t|$|,? (?:on|held|and is|designated|for a|from))",  # noqa: E501
            text,
        ):
            v = m.group("v").strip(" .")
            if not re.search(r"\b(?:requirements|credits?|hours)\b", v, re.I):
                out.append(
                    Cand(
                        "credential_title",
                        title_case(v),
                        0.75,
                        m.start("v"),
                        m.start("v") + len(v),
                        "sentence",
                    )
                )
    return out


_COURSE_AFTER = re.compile(
    r"(?:completed|completion of|passed)(?:[ ]+(?:the|all|requirements|course|for|of|in))*"
    r"[ ]*\n(?P<v>[A-Z][^\n\t]{3,60})(?=\n|\t|$)"
)
_COURSE_WORDS = re.compile(
    r"life support|resuscitation|\bCPR\b|first aid|provider|\bcourse\b|trauma|\bAED\b", re.I
)


def _course_cards(text: str) -> list[Cand]:
    """The course of a life-support card: the line after "has successfully completed the
    requirements for", and for a body whose cards name the holder's credential after the
    course ("BLS Provider" on AHA cards) that name, when the course is only in prose."""
    g = gazetteers.load()
    out: list[Cand] = []
    for m in _COURSE_AFTER.finditer(text):
        v = m.group("v").strip(" .")
        if _COURSE_WORDS.search(v) and len(v.split()) <= 8:
            out.append(
                Cand(
                    "credential_title", title_case(v), 0.7, m.start("v"), m.end("v"), "course-line"
                )
            )
    if re.search(r"\b[A-Z]{2,5}[ ]+Provider\b", text):
        return out  # the card prints the credential's name itself
    for body, fmt in g.card_titles.items():
        if not re.search(rf"\b{re.escape(body)}\b", text, re.I):
            continue
        for c in g.courses:
            if c.get("body") != body:
                continue
            for m in re.finditer(rf"\b{re.escape(c['name'])}\b", text, re.I):
                out.append(
                    Cand(
                        "credential_title",
                        fmt.format(abbr=c["abbr"]),
                        0.7,
                        m.start(),
                        m.end(),
                        "card-title",
                    )
                )
    return out


@lru_cache(maxsize=8)
def known_titles(doc_type: str) -> tuple[str, ...]:
    """Titles a document of this type may carry: specialties, licence types."""
    g = gazetteers.load()
    if doc_type in ("board_certification", "training_certificate"):
        return tuple(g.specialties)
    lic = _titles()["license_titles"]
    return tuple(lic["medical"] + lic["nursing"])


def from_leftovers(ctx: Context, wanted: set[str], taken: list[Cand]) -> list[Cand]:
    """Cards and wall certificates print bare values: a date on its own line, a number on
    its own line. Weak evidence, used when nothing labelled says otherwise."""
    out: list[Cand] = []
    if ctx.doc_type not in (
        "medical_license",
        "nursing_license",
        "board_certification",
        "life_support_card",
        "dea_registration",
    ):
        return out
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
    if "credential_number" in wanted:
        for row in ctx.layout.rows[: ctx.layout.first_page_rows]:
            for cell in row.cells:
                t = cell.text.strip(" .:;|")
                if (
                    re.fullmatch(r"[A-Z]{0,3}[\-. ]?\d[\d.\-]{3,12}", t)
                    and not dates.find_dates(t)
                    and sum(c.isdigit() for c in t) >= 4
                ):
                    parsed = _parse_number(t)
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


def _signature(ctx: Context) -> list[Cand]:
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
                        org_cells = [c for c in rows[k].cells if _org_like(c.text)]
                        if not org_cells:
                            continue
                        t = org_cells[0].text
                        if not _ROLE_WORDS.search(t) and not _DEPARTMENT.match(t):
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


_DEPARTMENT = re.compile(
    r"\s*(?:medical staff|office of|department of|division of|human resources|credentialing|"
    r"graduate medical education|policyholder services|underwriting|staff services|"
    r"continuing (?:medical )?education|medical education|nursing education)\b",
    re.I,
)
_ROLE_WORDS = re.compile(
    r"\b(?:director|president|dean|chair|chief|manager|officer|coordinator|head|professor|physician|nurse|department of)\b",  # noqa: E501
    re.I,
)


def _address_state(ctx: Context) -> list[Cand]:
    out: list[Cand] = []
    for m in STATE_CODE_RX.finditer(ctx.text):
        code = m.group(1)
        line_start = ctx.text.rfind("\n", 0, m.start()) + 1
        if "WASHINGTON" in ctx.text[line_start : m.start()].upper() and code == "DC":
            continue  # the DEA's own address
        out.append(Cand("jurisdiction", code, 0.75, m.start(1), m.end(1), "address"))
    return out


# ---------------------------------------------------------------- gazetteers and layout


_ORG_WORDS = re.compile(
    r"\b(?:board|university|college|hospital|health|healthcare|clinic|medical center|institute|"
    r"school|education|center|centre|association|society|academy|foundation|council|commission|"
    r"department|company|corporation|services|group|associates|partners|medicine|insurance|"
    r"mutual|network|system|physicians|regulation|registry|administration)\b",
    re.I,
)


def _org_like(text: str) -> bool:
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


def from_layout(ctx: Context, wanted: set[str]) -> list[Cand]:
    """Letterhead organisation, "STATE OF X" headers, standalone board names."""
    out: list[Cand] = []
    rows = ctx.layout.rows
    first = ctx.layout.first_page_rows
    dt = ctx.doc_type
    if "issuer" in wanted:
        for i, row in enumerate(rows[: max(3, first // 3)]):
            for cell in row.cells:
                t = cell.text.strip()
                # a logo read as a stray letter or an acronym before the name: "B Mercy ..."
                t = re.sub(r"^(?:[A-Z]{1,5}|[^A-Za-z]+)\s+(?=[A-Z][a-z])", "", t)
                if (
                    _org_like(t)
                    and not _DEPARTMENT.match(t)
                    and not re.match(r"(?:re|subject)\s*:|.*\b(?:verification|letter)\b", t, re.I)
                ):
                    low = t.lower()
                    # a reference form's letterhead is the asking hospital's, not the referee's
                    score = (0.5 if dt == "reference_letter" else 0.62) - 0.03 * i
                    if dt in ("medical_license", "nursing_license") and not re.search(
                        r"board|department|commission|division|regulation|licens", low
                    ):
                        continue
                    if dt == "diploma" and not re.search(
                        r"universit|college|school|institute", low
                    ):
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
    if "jurisdiction" in wanted and dt in ("medical_license", "nursing_license"):
        for m in re.finditer(r"(?:STATE|COMMONWEALTH) OF ([A-Z][A-Za-z ]{3,25})", ctx.text, re.I):
            code = gazetteers.state_in(m.group(1))
            if code:
                out.append(Cand("jurisdiction", code, 0.85, m.start(1), m.end(1), "state-of"))
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


def issuer_state(issuer: str) -> str | None:
    entry = gazetteers.load().by_lower.get(issuer.lower())
    if entry and entry.state:
        return entry.state
    return gazetteers.state_in(issuer)


def to_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


_LICENSED_AS = re.compile(
    # "The PHYSICIAN AND SURGEON named below IS LICENSED", "is licensed as a Registered Nurse"
    r"\b[Tt]he\s+(?P<u>[A-Z][A-Z&\- ]{3,50}?)\s+named\s+(?:below|above|herein)\b"
    r"|\blicensed\s+(?:to\s+practi[cs]e\s+)?as\s+an?\s+"
    r"(?P<v>[A-Z][A-Za-z\-]+(?:[ ](?:of|and|&|[A-Z][A-Za-z\-]+)){0,5})",
    re.I,
)


def _licence_sentences(text: str) -> list[Cand]:
    """Licences state the licence type in a sentence: "The <TYPE> named below is licensed",
    "is licensed as a <Type>"."""
    out: list[Cand] = []
    for m in _LICENSED_AS.finditer(text):
        g = "u" if m.group("u") else "v"
        v = m.group(g).strip()
        if g == "u" and not v.isupper():
            continue  # "the person named below": a title is printed in capitals there
        if g == "v" and not all(w[0].isupper() or w in ("of", "and", "&") for w in v.split()):
            continue
        out.append(Cand("credential_title", title_case(v), 0.7, m.start(g), m.end(g), "sentence"))
    return out


def _sentence_titles(pattern: str, text: str, score: float = 0.8) -> list[Cand]:
    """A credential_title candidate, title-cased, for each match of a sentence pattern
    whose `v` group holds the title ("certified in Internal Medicine")."""
    return [
        Cand(
            "credential_title",
            title_case(m.group("v")),
            score,
            m.start("v"),
            m.end("v"),
            "sentence",
        )
        for m in re.finditer(pattern, text)
    ]
