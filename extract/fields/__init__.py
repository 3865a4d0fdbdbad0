"""Document type and fields from the words of the pages.

    pages -> layout (rows, cells, text) -> spaCy doc (gazetteer, cues, shapes)
          -> classify -> candidates (labels, sentences, gazetteers, layout, patterns)
          -> one value per field with a confidence that combines the evidence
          -> validators (a failing field is never above 0.5)

The pipeline and gazetteers are built once per process (`extract.nlp.get_nlp`).
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict

from rapidfuzz import fuzz, process
from rapidfuzz.utils import default_process

from extract import validators
from extract.classify import classify
from extract.fields import gazetteers, names, rules
from extract.fields.labels import LabelHit, LabelValue, find_label_hits, values_for
from extract.fields.layout import Layout, build_layout
from extract.fields.names import clean_person
from extract.fields.profiles import profile
from extract.fields.rules import Cand, Context
from extract.fields.transmission import without_transmission_lines
from extract.nlp import analyse, get_nlp
from extract.types import Candidate, FieldResult, Page, fields_for

DATE_FIELDS = ("issue_date", "expiration_date", "start_date", "end_date")
MIN_EMIT = 0.3  # below this a guess costs more than it helps: the field is left out
DEA_RX = re.compile(r"\b([A-Z]{2})[ ]?([0-9OoIlSB]{7})\b")
_DIGIT_FIX = str.maketrans({"O": "0", "o": "0", "I": "1", "l": "1", "S": "5", "B": "8"})


def warm_up() -> None:
    """Build the spaCy pipeline and gazetteers now (e.g. in a worker's initialiser)."""
    get_nlp()


def extract_fields(pages: list[Page]) -> tuple[str, float, dict[str, FieldResult]]:
    """Classify the document and extract its fields. Returns (doc_type, confidence, fields)."""
    pages = [without_transmission_lines(p) for p in pages]
    layout = build_layout(pages)
    if not layout.text.strip():
        return "other", 0.0, {}
    doc = analyse(layout.text[:100_000])
    kinds = {s.label_ for s in doc.spans.get("gazetteer", [])}
    ocr_pages = {p.number for p in pages if p.source == "ocr"}
    cue_spans = [(s.id_, s.start_char) for s in doc.spans.get("cues", [])]
    result = classify(layout, len(pages), kinds, fuzzy=bool(ocr_pages), cue_spans=cue_spans)
    doc_type = result.doc_type
    ctx = Context(layout, doc, doc_type, ocr_pages)
    wanted = set(fields_for(doc_type)) | set(profile(doc_type).also_extract)

    hits = find_label_hits(layout, ocr_pages)
    label_values = values_for(layout, hits, ocr_pages)
    cands: list[Cand] = []
    cands += rules.from_labels(ctx, label_values, wanted)
    cands += rules.from_sentences(ctx, wanted)
    cands += rules.from_gazetteers(ctx)
    cands += rules.from_layout(ctx, wanted)
    cands += _patterns(ctx, wanted)
    cands += _name_lines(ctx, wanted)
    cands += _name_above_completion(ctx, wanted)
    cands += rules.from_leftovers(ctx, wanted, cands)
    cands = [c for c in cands if c.field in wanted]
    cands = [
        c
        for c in cands
        if not (
            c.field == "person_name" and c.source == "sentence" and is_signatory(layout, c.start)
        )
    ]
    r0, r1 = rules.recipient_rows(layout)
    if r1 > r0:
        cands = [
            c
            for c in cands
            if not (r0 <= c.start < r1 and c.field in ("issuer", "person_name", "referee_name"))
        ]

    fields = _decide(ctx, cands, wanted)
    for f in fields.values():
        f.confidence = calibrate(f.confidence)
        f.candidates = [
            Candidate(c.value, round(calibrate(c.confidence), 3), c.page, c.box)
            for c in f.candidates
        ]
    _unread(fields, hits, label_values, wanted)
    _validate(ctx, fields)
    if doc_type == "other":
        for f in fields.values():
            f.confidence = min(f.confidence, 0.6)
    elif result.confidence < 0.35:
        for f in fields.values():
            f.confidence = min(f.confidence, 0.85)
    return doc_type, result.confidence, fields


# ---------------------------------------------------------------- more candidates


def _patterns(ctx: Context, wanted: set[str]) -> list[Cand]:
    out: list[Cand] = []
    text = ctx.text
    if ctx.doc_type == "dea_registration" and "credential_number" in wanted:
        for m in DEA_RX.finditer(text):
            digits = m.group(2).translate(_DIGIT_FIX)
            number = m.group(1) + digits
            ok = validators.dea_check_digit_ok(number)
            score = (0.95 if digits == m.group(2) else 0.85) if ok else 0.5
            out.append(Cand("credential_number", number, score, m.start(), m.end(), "dea-pattern"))
    if "npi" in wanted:
        for m in re.finditer(r"(?<![\d\-])(\d{10})(?![\d\-])", text):
            before = text[max(0, m.start() - 40) : m.start()]
            labelled = bool(re.search(r"\bNPI\b|National Provider", before, re.I))
            if validators.npi_valid(m.group(1)) and labelled:
                out.append(Cand("npi", m.group(1), 0.95, m.start(), m.end(), "npi-pattern"))
            elif labelled:
                out.append(Cand("npi", m.group(1), 0.5, m.start(), m.end(), "npi-pattern"))
    if "schedules" in wanted:
        for m in re.finditer(r"(?<![\w/])([1-5]N?(?:\s*,\s*[1-5]N?){2,})(?![\w/])", text):
            parsed = rules.parse_value("schedules", m.group(1))
            if parsed:
                out.append(
                    Cand("schedules", parsed[0], 0.85, m.start(), m.end(), "schedule-pattern")
                )
    return out


_ROLE_RX = re.compile(
    r"\b(?:director|president|dean|chair|chairman|registrar|official|representative|instructor|"
    r"secretary|manager|coordinator|officer|administrator|signature|sincerely|regards|provost|"
    r"chancellor|executive|treasurer|underwriter|agent)\b",
    re.I,
)


def _name_lines(ctx: Context, wanted: set[str]) -> list[Cand]:
    """A cell that is only a person's name on the first page (certificates, diplomas,
    cards, DEA certificates), larger type scoring higher."""
    if "person_name" not in wanted:
        return []
    layout = ctx.layout
    rows = layout.rows[: layout.first_page_rows]
    if not rows:
        return []
    heights = sorted(r.height for r in rows)
    median_h = heights[len(heights) // 2]
    out: list[Cand] = []
    for i, row in enumerate(rows):
        for cell in row.cells:
            t = cell.text.lstrip("|!/\\_'‘\"*., ")
            if len(t) > 60 or len(cell.words) > 7 or not t[:1].isalpha():
                continue
            if any(ch.isdigit() for ch in row.text) or len(row.cells) > 3:
                continue  # an address or a table row, not a name standing alone
            if len(row.cells) > 1 and not t.isupper():
                continue  # "Payment Indicator | EXEMPT": a label, not a name
            res = clean_person(t)
            if not res or is_signatory(layout, cell.start) or not _only_name(t, res[0]):
                continue
            hs = sorted(w.box[3] - w.box[1] for w in cell.words)
            big = hs[len(hs) // 2] / median_h if median_h else 1.0
            score = 0.45 + min(0.25, 0.15 * (big - 1)) if big > 1.15 else 0.4
            if "," in t and t.split(",")[0].isupper():
                score += 0.1  # FAMILY, GIVEN as registers print it
            if i + 1 < len(rows) and re.match(
                r"[^A-Za-z0-9]*\d+\s+[A-Za-z]", rows[i + 1].cells[0].text
            ):
                score += 0.15  # followed by a street address: the holder's mailing block
            out.append(
                Cand("person_name", res[0], score * res[1], cell.start, cell.end, "name-line")
            )
    return out


_COMPLETED_RX = re.compile(
    r"\s*(?:has|have)\s+(?:successfully\s+)?(?:completed|met|fulfilled|passed|attended)\b", re.I
)


def _name_above_completion(ctx: Context, wanted: set[str]) -> list[Cand]:
    """Cards and certificates print the holder's name on its own line above "has
    successfully completed"; a form's labelled rows (Instructor Name, Course Location)
    may sit in between or beside it, so the nearest unlabelled name above is taken."""
    if "person_name" not in wanted:
        return []
    layout = ctx.layout
    rows = layout.rows
    out: list[Cand] = []
    for i, row in enumerate(rows):
        if not _COMPLETED_RX.match(row.cells[0].text):
            continue
        for j in range(i - 1, max(-1, i - 4), -1):
            first = rows[j].cells[0]
            t = first.text.strip(" |!_'\"*.,")
            if _ROLE_RX.search(t) or t.endswith(":"):
                continue  # "Instructor Name | ...": a labelled row of the form, skip it
            res = clean_person(t) if len(first.words) <= 6 else None
            if res and not is_signatory(layout, first.start):
                score = 0.75 if j == i - 1 else 0.65
                out.append(
                    Cand(
                        "person_name",
                        res[0],
                        score * res[1],
                        first.start,
                        first.end,
                        "above-completed",
                    )
                )
            break
    return out


def _only_name(text: str, name: str) -> bool:
    """A line that stands alone as a name holds only the name up to its first comma (what
    follows may be credential letters, however OCR read them): "Clinical Updates in Women's
    Health" is a title that merely begins like a name."""
    kept = {w.lower().strip(".").replace("'", "") for w in name.split()}
    for tok in text.split(",")[0].split():
        bare = tok.lower().strip(".;:'\"|").replace("'", "")
        if not bare or bare in kept or names.is_degree(tok) or bare in names.SUFFIXES:
            continue
        if bare in names.HONORIFICS or not any(ch.isalpha() for ch in bare):
            continue
        return False
    return True


def is_signatory(layout: Layout, offset: int) -> bool:
    """A name next to "Instructor Name" or above "Director, ...": not the holder."""
    cell = layout.cell_at(offset)
    if cell is None:
        return False
    rows = layout.rows
    row = rows[cell.row]
    neighbours = " ".join(
        c.text for c in row.cells[max(0, cell.index - 1) : cell.index + 2] if c is not cell
    )
    nxt = ""
    name_only = len(cell.words) <= 6 and not re.match(r"\s*(?:re|subject)\b", cell.text, re.I)
    if cell.row + 1 < len(rows) and len(row.cells) == 1 and name_only:
        below = rows[cell.row + 1].cells[0]
        if below.box[0] < cell.box[2] and cell.box[0] < below.box[2] and len(below.words) <= 7:
            nxt = below.text  # a short line under a name: "Director, Graduate Medical Education"
    prev = rows[cell.row - 1].cells[0].text if cell.row > 0 else ""
    return bool(_ROLE_RX.search(neighbours) or _ROLE_RX.search(nxt) or _SIGN_OFF.search(prev))


_SIGN_OFF = re.compile(
    r"^\s*(?:sincerely|respectfully|regards|best regards|kind regards|cordially|yours truly)", re.I
)


# ---------------------------------------------------------------- deciding


def _key(field: str, value: str) -> str:
    v = value.casefold().replace("&", " and ")
    v = re.sub(r"[.,;:'\"()]", " ", v)
    v = re.sub(r"^\s*the\s+", "", v)
    return " ".join(v.split())


def _decide(ctx: Context, cands: list[Cand], wanted: set[str]) -> dict[str, FieldResult]:
    by_field: dict[str, list[Cand]] = defaultdict(list)
    for c in cands:
        by_field[c.field].append(c)
    fields: dict[str, FieldResult] = {}
    for field in [f for f in fields_for(ctx.doc_type) if f in wanted] + sorted(
        wanted - set(fields_for(ctx.doc_type))
    ):
        group = by_field.get(field)
        if not group:
            continue
        if field == "issuer":
            for c in group:
                c.value = _canonical_issuer(c.value)
        if field == "credential_title" and profile(ctx.doc_type).canonical_titles:
            for c in group:
                c.value = _canonical_title(c.value, ctx.doc_type)
        scored: dict[str, list[tuple[float, Cand]]] = defaultdict(list)
        for c in group:
            page, _box, _conf = ctx.layout.evidence(c.start, c.end)
            ocr_factor = 1.0 if page not in ctx.ocr_pages else _ocr_factor(_value_conf(ctx, c))
            scored[_key(field, c.value)].append((c.score * ocr_factor, c))
        if field in ("person_name", "referee_name"):
            _merge_name_variants(scored)
        if field in ("issuer", "credential_title"):
            _merge_misreads(scored)
        ranked = []
        for key, items in scored.items():
            items.sort(key=lambda sc: sc[0], reverse=True)
            sources: dict[str, float] = {}
            for s, c in items:
                kind = c.source.split(":")[0]
                sources[kind] = max(sources.get(kind, 0.0), s)
            vals = sorted(sources.values(), reverse=True)
            combined = vals[0]
            for v in vals[1:3]:
                combined += (1 - combined) * v * 0.6
            ranked.append((combined, key, items))
        ranked.sort(key=lambda r: r[0], reverse=True)
        best_score, _, items = ranked[0]
        if len(ranked) > 1:
            # disagreement among the evidence lowers confidence
            best_score -= 0.35 * ranked[1][0] * best_score
        best = items[0][1]
        if best_score < (MIN_EMIT if field != "person_name" else 0.42):
            continue
        page, box, _ = ctx.layout.evidence(best.start, best.end)
        others = []
        for score, _key2, its in ranked[1:6]:
            c = its[0][1]
            p2, b2, _ = ctx.layout.evidence(c.start, c.end)
            others.append(Candidate(c.value, round(min(score, 0.99), 3), p2, b2))
        value = (
            max((c for _, c in items), key=lambda c: len(c.value)).value
            if field in ("person_name", "referee_name")
            else best.value
        )
        fields[field] = FieldResult(field, value, min(best_score, 0.99), page, box, others, [])
    return fields


# Evidence scores -> probability of being right, measured on the labeled dev corpus
# (bench/extraction.py prints the check): raw 0.72 and above was >= 98% right.
_CALIBRATION = ((0.0, 0.0), (0.3, 0.3), (0.5, 0.5), (0.72, 0.9), (1.0, 0.99))


def calibrate(raw: float) -> float:
    for (x0, y0), (x1, y1) in itertools.pairwise(_CALIBRATION):
        if raw <= x1:
            return y0 + (y1 - y0) * (raw - x0) / (x1 - x0)
    return _CALIBRATION[-1][1]


def _value_conf(ctx: Context, c: Cand) -> float:
    """The lowest OCR confidence among the words the value was read from (a dropped degree
    like "L.P.N," after a name does not count)."""
    words = [w for _p, w in ctx.layout.words_in(c.start, c.end)]
    if not words:
        return 0.0
    value = re.sub(r"[^a-z0-9]", "", c.value.lower())
    used = [w for w in words if (t := re.sub(r"[^a-z0-9]", "", w.text.lower())) and t in value]
    return min(w.conf for w in (used or words))


def _ocr_factor(conf: float) -> float:
    if conf >= 0.9:
        return 1.0
    return max(0.3, 0.45 + 0.6 * conf)


def _canonical_issuer(value: str) -> str:
    """An OCR-damaged name of a known board, school or carrier, spelt as it should be."""
    g = gazetteers.load()
    if value.lower() in g.by_lower:
        return g.by_lower[value.lower()].name
    best = process.extractOne(
        value, g.all_names, processor=default_process, scorer=fuzz.ratio, score_cutoff=90
    )
    # OCR damages letters, not whole words: "Washington Board of ..." is not a misread of
    # "Washington State Board of ...", but another name, printed as it is
    if (
        best
        and len(best[0].split()) != len(value.split())
        and fuzz.ratio(best[0].replace(" ", "").lower(), value.replace(" ", "").lower()) < 97
    ):
        return value
    return best[0] if best else value


def _canonical_title(value: str, doc_type: str) -> str:
    """ "Dermatoligy" -> "Dermatology": an OCR-damaged specialty or licence type."""
    names = rules.known_titles(doc_type)
    if value in names:
        return value
    best = process.extractOne(
        value, names, processor=default_process, scorer=fuzz.ratio, score_cutoff=88
    )
    return best[0] if best else value


def _junk(value: str) -> int:
    """How much of a value looks like OCR damage: stray symbols and broken words."""
    return sum(1 for ch in value if not (ch.isalnum() or ch in " .,&'-/()")) + sum(
        1 for w in value.split() if len(w) <= 2 and w.lower() not in ("of", "in", "at", "&", "and")
    )


def _merge_misreads(scored: dict[str, list[tuple[float, Cand]]]) -> None:
    """ "Lakeshore ¥ mergency Physic tans" and "Lakeshore Emergency Physicians": one value,
    read twice; the cleaner reading gets both readings' support."""
    keys = sorted(scored, key=lambda k: (_junk(k), -max(s for s, _ in scored[k])))
    for i, clean in enumerate(keys):
        if clean not in scored:
            continue
        for other in keys[i + 1 :]:
            if other in scored and fuzz.ratio(clean, other) >= 85:
                scored[clean].extend((sc * 0.9, c) for sc, c in scored.pop(other))
                scored[clean].sort(key=lambda sc: sc[0], reverse=True)


def _merge_name_variants(scored: dict[str, list[tuple[float, Cand]]]) -> None:
    """ "Paul Esposito" supports "Paul K. Esposito": same first and last word."""
    keys = list(scored)
    for a in keys:
        ta = a.split()
        for b in keys:
            tb = b.split()
            if a != b and len(tb) > len(ta) and ta[0] == tb[0] and ta[-1] == tb[-1]:
                scored[b].extend((s * 0.9, c) for s, c in scored[a])


def _unread(
    fields: dict[str, FieldResult],
    hits: list[LabelHit],
    label_values: list[LabelValue],
    wanted: set[str],
) -> None:
    """A strong label with nothing readable next to it: the field is printed but unread."""
    with_value = {id(lv.hit) for lv in label_values}
    for h in hits:
        if h.weak or h.field not in wanted or h.field in fields or h.strength < 1.0:
            continue
        if id(h) in with_value and h.field not in DATE_FIELDS:
            continue
        if h.n_words < 2:
            continue
        fields[h.field] = FieldResult(
            h.field, None, 0.0, h.cell.page, h.cell.box, [], ["printed but not readable"]
        )


_OCR_LOOKALIKES = {
    "Q": "O", "0": "O", "D": "O", "C": "GO", "G": "C", "I": "LJT", "L": "I", "J": "I",
    "8": "B", "B": "ER", "5": "S", "E": "FB", "F": "E", "H": "NM", "N": "HM", "M": "NH",
    "U": "VO", "V": "U", "R": "BK", "K": "R", "P": "R",
}  # fmt: skip


def _repair_dea_letter(number: str, family: str | None) -> str | None:
    """The registrant letter of a DEA number is the family name's initial; when OCR has
    turned it into a look-alike, put the initial back."""
    if not family or len(number) != 9:
        return None
    initial = next((c for c in family.upper() if c.isalpha()), "")
    if initial and initial in _OCR_LOOKALIKES.get(number[1], ""):
        return number[0] + initial + number[2:]
    return None


def _validate(ctx: Context, fields: dict[str, FieldResult]) -> None:
    def fail(name: str, problem: str) -> None:
        f = fields[name]
        f.problems.append(problem)
        f.confidence = min(f.confidence, 0.5)

    npi = fields.get("npi")
    if npi and npi.value:
        for p in validators.npi_problems(npi.value):
            fail("npi", p)
    num = fields.get("credential_number")
    if num and num.value and ctx.doc_type == "dea_registration":
        person = fields.get("person_name")
        family = person.value.split()[-1] if person and person.value else None
        if family and family.rstrip(".") in ("Jr", "Sr", "II", "III", "IV", "V"):
            family = person.value.split()[-2] if person and person.value else None
        problems = validators.dea_problems(num.value, family)
        fixed = _repair_dea_letter(num.value, family) if problems else None
        if fixed and not validators.dea_problems(fixed, family):
            # "AQ6521276" for Oyelaran: OCR took O for Q; the check digit still holds
            num.candidates.insert(0, Candidate(num.value, 0.3, num.page, num.box))
            num.value, problems = fixed, []
            num.confidence = min(num.confidence, 0.75)
            num.problems.append("second letter corrected from the family name's initial")
        for p in problems:
            fail("credential_number", p)
        if not problems and person and family:
            person.confidence = min(0.99, person.confidence + 0.25 * (1 - person.confidence) + 0.1)
        elif person and family and any("family name" in p for p in problems):
            person.confidence = min(person.confidence, 0.6)
    jur = fields.get("jurisdiction")
    if jur and jur.value:
        for p in validators.state_problems(jur.value):
            fail("jurisdiction", p)
    d = {k: rules.to_date(fields[k].value) if k in fields else None for k in DATE_FIELDS}
    for name, problem in validators.date_order_problems(
        d["issue_date"], d["expiration_date"], d["start_date"], d["end_date"]
    ):
        # which of the two dates is misread is unknown: neither can be trusted
        pair = {
            "expiration_date": "issue_date",
            "end_date": "start_date",
            "start_date": "issue_date",
        }[name]
        for n in (name, pair):
            if n in fields:
                fail(n, problem)
    for k, v in d.items():
        if v is not None:
            for p in validators.plausible_date_problems(v):
                fail(k, p)


__all__ = ["Layout", "extract_fields", "warm_up"]
