"""Person and organisation names into the spec's normal form.

person: "Given Middle Family", title case, no degree letters or honorifics, generational
suffix kept; "FAMILY, GIVEN M." is turned around.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

from extract.validators import USPS_CODES


def _load() -> dict[str, Any]:
    return json.loads(resources.files("extract").joinpath("data", "names.json").read_text())


_WORDS = _load()
DEGREES: frozenset[str] = frozenset(_WORDS["degrees"])
HONORIFICS: frozenset[str] = frozenset(_WORDS["honorifics"])
SUFFIXES: dict[str, str] = _WORDS["suffixes"]
PARTICLES: frozenset[str] = frozenset(_WORDS["particles"])
NOT_NAMES: frozenset[str] = frozenset(_WORDS["not_names"])
_STATE_WORDS: frozenset[str] = frozenset(_WORDS["state_words"])
_STATE_CODES = frozenset(code.lower() for code in USPS_CODES)
# a letter is any alphabet's letter: Núñez, Ramírez, Łukasz, Øyvind
_L = r"[^\W\d_]"
_TOKEN = re.compile(rf"{_L}(?:{_L}|['’\-])*\.?|{_L}\.")


def _bare(token: str) -> str:
    return token.lower().strip(".,;:")


def is_degree(token: str) -> bool:
    """Degree or credential letters after a name: "M.D.", "RN", "FNP-C"."""
    return _is_degree(token)


def _is_degree(token: str) -> bool:
    t = token.lower().strip(",;:")
    return t in DEGREES or t.strip(".") in DEGREES or t.replace(".", "") in DEGREES


def _cap(word: str) -> str:
    if word.lower() in SUFFIXES:
        return SUFFIXES[word.lower()]
    if any(c.islower() for c in word) and any(c.isupper() for c in word):
        return word  # printed in mixed case: keep (DuBois, McKay, LaRue)
    parts = re.split(r"([\-'’])", word.lower())
    return "".join(p[:1].upper() + p[1:] for p in parts)


def clean_person(raw: str) -> tuple[str, float] | None:
    """(normal form, quality 0..1) or None when `raw` does not read as a person's name."""
    place = re.search(r",\s*([A-Z]{2})\s*$", raw.strip())
    if re.search(r",\s*[A-Z]{2}\.?\s+\d{5}", raw) or (
        place and place.group(1).lower() in _STATE_CODES and place.group(1).lower() not in DEGREES
    ):
        return None  # "SAN FRANCISCO, CA 94129", "Saint Paul, MN": a place
    text = raw.replace("‘", "").replace("’", "'").replace(",", ", ")
    text = text.strip().strip(":;-–—_|*\"'“”‘’").strip()
    text = re.sub(r"\s+", " ", text)
    if not text or any(ch.isdigit() for ch in text[:40]):
        # digits inside a name are OCR damage or not a name at all
        m = re.match(r"[^0-9]*", text)
        text = m.group(0).strip() if m else ""
        if not text:
            return None
    quality = 1.0
    text = re.sub(r"\b([A-Z])\.(?=[A-Za-z]{2})", r"\1. ", text)  # "A.DUBOIS" -> "A. DUBOIS"
    text = re.sub(rf"^(?:(?!{_L}).)+", "", text)  # "~ Rafael Kang", "° Ana Ruiz": scan specks
    # FAMILY, GIVEN M. (as registers list people): turn around
    parts = [p.strip() for p in text.split(",")]
    parts = [p for p in parts if p]
    if len(parts) >= 2:
        first_tokens = parts[0].split()
        kept = [parts[0]]
        rest = parts[1:]
        while rest and all(_bare(t) in SUFFIXES or _is_degree(t) for t in rest[0].split()):
            # "PETER CASTILLO, III, L.P.N.", "THOMAS PATEL-GOLDBERG, II MD"
            sfx = [t for t in rest.pop(0).split() if _bare(t) in SUFFIXES]
            if sfx:
                kept.append(" ".join(sfx))
        second = rest[0].split() if rest else []
        given = [t for t in second if not _is_degree(t)]
        if (
            given
            and 1 <= len(first_tokens) <= 3
            and given[0][:1].isalpha()
            and (parts[0].isupper() or sum(_bare(t) not in SUFFIXES for t in first_tokens) == 1)
        ):
            suffix = [t for t in first_tokens if _bare(t) in SUFFIXES]
            family = [t for t in first_tokens if _bare(t) not in SUFFIXES]
            flipped = " ".join(given + family + suffix + [p for p in kept[1:]])
            if not any(
                _bare(t) in NOT_NAMES or _bare(t) in _STATE_WORDS for t in flipped.split()
            ) and not (len(given[0]) == 2 and given[0].isupper()):
                text = flipped
                quality = 0.9
            else:
                text = " ".join(kept)
        else:
            text = " ".join(kept)
    tokens: list[str] = []
    for tok in text.split():
        low = tok.lower().rstrip(",;:")
        bare = low.strip(".")
        if not tokens and (low in HONORIFICS or bare in HONORIFICS):
            continue
        if _is_degree(tok):
            break
        if bare in SUFFIXES and tokens:
            tokens.append(SUFFIXES[bare])
            continue
        tok = tok.rstrip("’'\"”")
        if not tok:
            continue
        if not _TOKEN.fullmatch(tok.rstrip(",;:")):
            break
        if tok[0].islower() and bare not in PARTICLES:
            break  # the sentence goes on: "Kathleen Chen completed ..."
        tokens.append(tok.rstrip(",;:"))
    while tokens and tokens[-1].lower().strip(".") in PARTICLES and not tokens[-1][0].isupper():
        tokens.pop()  # "Maria van" cut off; a capitalised "Le" or "Van" at the end is a family name
    if not 2 <= len(tokens) <= 5:
        return None
    words = [t for t in tokens if len(t.strip(".")) > 1]
    if len(words) < 2:
        return None
    if not any(len(w) >= 3 and re.search(r"[aeiouyAEIOUY]", w) for w in words):
        return None  # "Cnt Ss", "Iy Ve": OCR debris, not a name
    if any(t.lower().strip(".") in NOT_NAMES or _cut_short(t) for t in tokens):
        return None
    name = " ".join(_case(t, i) for i, t in enumerate(tokens))
    # a lone capital initial keeps its dot
    name = re.sub(r"\b([A-Z])(?=\s|$)(?!\.)", r"\1.", name)
    return name, quality


def _case(token: str, index: int) -> str:
    """A name's word in title case, unless printed in mixed case (DuBois) or a particle
    printed small inside the name (van der Berg, di Stefano), which stays as printed."""
    if index and token.islower() and token.strip(".") in PARTICLES:
        return token
    return _cap(token) if token.isupper() or token.islower() else token


def _cut_short(token: str) -> bool:
    """ "UNIVERSIT", "HOSPITA": an organisation word whose end the scan lost."""
    bare = token.lower().strip(".")
    return len(bare) >= 6 and any(w.startswith(bare) and w != bare for w in _LONG_NOT_NAMES)


_LONG_NOT_NAMES = tuple(w for w in NOT_NAMES if len(w) >= 7)


def title_case(text: str) -> str:
    """As printed, but ALL CAPS (or all lower) turned into title case."""
    text = re.sub(r"\s+", " ", text).strip(" :;,.-–—|_*\"'“”‘’")
    if text.isupper() or text.islower():
        small = {"of", "and", "in", "the", "for", "at", "on", "to", "a", "an"}
        out = []
        for i, w in enumerate(text.split()):
            lw = w.lower()
            out.append(lw if i and lw in small else _cap(w))
        return " ".join(out)
    return text
