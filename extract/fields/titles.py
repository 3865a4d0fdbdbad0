"""Titles: the credential's title (licence type, degree, specialty, course, job title).

Per doc type the title is printed differently: a licence states its type ("licensed as a
Registered Nurse"), a diploma its degree, a board certificate or training certificate its
specialty (matched against the gazetteer's specialties), a life-support card its course,
an employment letter the position, a CME certificate the activity's name. The lists of
licence titles and degree patterns are data (data/titles.json).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources

from rapidfuzz import fuzz, process
from rapidfuzz.utils import default_process

from extract import dates
from extract.fields import gazetteers
from extract.fields.candidates import Cand, Context
from extract.fields.names import title_case

_LICENCE_TYPES = ("medical_license", "nursing_license")
_SPECIALTY_TYPES = ("board_certification", "training_certificate")


@lru_cache(maxsize=1)
def _titles() -> dict:
    """Licence titles and degree patterns (data/titles.json), read once."""
    return json.loads(resources.files("extract").joinpath("data", "titles.json").read_text())


def titles_from_text(ctx: Context) -> list[Cand]:
    """Title candidates by the doc type's way of printing its title."""
    dt = ctx.doc_type
    out: list[Cand] = []
    if dt in _LICENCE_TYPES:
        out += _licence_titles(ctx)
    if dt == "diploma":
        out += _degree_titles(ctx)
    if dt == "training_certificate":
        out += _training_titles(ctx)
    if dt in _SPECIALTY_TYPES:
        out += _certified_titles(ctx)
        out += _specialty_cells(ctx)
    if dt == "life_support_card":
        out += _course_titles(ctx)
    if dt == "employment_verification":
        out += _job_titles(ctx)
    if dt == "cme_certificate":
        out += _activity_titles(ctx)
    return out


def _licence_titles(ctx: Context) -> list[Cand]:
    """A licence type from the list, alone in its cell or after "licensed as a"."""
    out: list[Cand] = []
    text = ctx.text
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
    return out


def _degree_titles(ctx: Context) -> list[Cand]:
    """A diploma's degree (degree patterns); a degree on its own line is surer."""
    out: list[Cand] = []
    text = ctx.text
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
    return out


def _training_titles(ctx: Context) -> list[Cand]:
    """Training certificates: "residency in <specialty>"."""
    out: list[Cand] = []
    text = ctx.text
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
    return out


def _certified_titles(ctx: Context) -> list[Cand]:
    """ "certified by the X in <specialty>", "certified in <specialty>"."""
    out: list[Cand] = []
    text = ctx.text
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
    return out


def _specialty_cells(ctx: Context) -> list[Cand]:
    """A cell that is a known specialty (fuzzy on scanned pages, for OCR damage)."""
    out: list[Cand] = []
    g = gazetteers.load()
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
    return out


def _course_titles(ctx: Context) -> list[Cand]:
    """A life-support card's course: the course line, or a known course's name."""
    out: list[Cand] = []
    text = ctx.text
    g = gazetteers.load()
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
    return out


def _job_titles(ctx: Context) -> list[Cand]:
    """Employment letters: "employed as a <title>", "position of <title>"."""
    out: list[Cand] = []
    text = ctx.text
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
    return out


def _activity_titles(ctx: Context) -> list[Cand]:
    """CME certificates: the activity after "participated in", "entitled"."""
    out: list[Cand] = []
    text = ctx.text
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
