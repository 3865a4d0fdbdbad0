"""Person names as lists and our records write them, reduced to comparable parts.

Accents fold to ASCII (unicodedata), case and punctuation go, hyphenated and compound family
names keep their parts, "FAMILY, GIVEN" is understood, and titles or post-nominals
(Dr., MD, RN, Jr.) are dropped. A name written in one string has no marked family name, so
`readings` yields every way of splitting it ("Maria Garcia Lopez": family "GARCIA LOPEZ" or
"LOPEZ" with middle "GARCIA").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

_NOT_LETTER = re.compile(r"[^A-Z ]+")
_APOSTROPHE = re.compile(r"['’`]")
# titles, generation suffixes and degrees that are not part of anyone's name
DROP = frozenset(
    [
        "DR",
        "MR",
        "MRS",
        "MS",
        "MISS",
        "PROF",
        "JR",
        "SR",
        "II",
        "III",
        "IV",
        "MD",
        "DO",
        "RN",
        "LPN",
        "NP",
        "APRN",
        "CRNA",
        "FNP",
        "PA",
        "PAC",
        "PHD",
        "PSYD",
        "DDS",
        "DMD",
        "DPM",
        "DC",
        "OD",
        "PHARMD",
        "LCSW",
        "MSW",
        "BSN",
        "MSN",
        "DNP",
        "CNM",
        "ESQ",
        "FACS",
        "FACP",
        "MBBS",
    ]
)


def fold(text: str | None) -> str:
    """Upper-case ASCII letters and single spaces: 'José-María Núñez' -> 'JOSE MARIA NUNEZ'."""
    if not text:
        return ""
    return _fold(text)


@lru_cache(maxsize=1 << 16)
def _fold(text: str) -> str:
    # names repeat across a list (and a list's rows across imports): each is folded once
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in text if not unicodedata.combining(c))
    text = _APOSTROPHE.sub("", text.upper())
    return " ".join(_NOT_LETTER.sub(" ", text).split())


@lru_cache(maxsize=1 << 16)
def _tokens(text: str) -> tuple[str, ...]:
    return tuple(t for t in _fold(text).split() if t not in DROP)


def tokens(text: str | None) -> list[str]:
    return list(_tokens(text)) if text else []


@dataclass(frozen=True)
class NameParts:
    """One reading of a name: given name, middle names, family name (each a tuple of words)."""

    given: tuple[str, ...]
    middle: tuple[str, ...]
    family: tuple[str, ...]
    swapped: bool = False  # read in the other order ("GARCIA MARIA")

    @property
    def family_key(self) -> str:
        return "".join(self.family)

    @property
    def initial(self) -> str:
        return self.given[0][0] if self.given else ""

    def index_keys(self) -> Iterator[tuple[str, str]]:
        """Index keys: the whole family name, and each part of a compound one."""
        if not self.family or not self.initial:
            return
        yield self.family_key, self.initial
        if len(self.family) > 1:
            for part in self.family:
                if len(part) > 1:
                    yield part, self.initial


def from_fields(last: str | None, first: str | None, middle: str | None) -> NameParts:
    """A name a list gives in separate fields; words of the first name after the first one
    count as middle names ('MARY ANN' -> given MARY, middle ANN)."""
    given = tokens(first)
    return NameParts(tuple(given[:1]), tuple(given[1:] + tokens(middle)), tuple(tokens(last)))


def readings(name: str) -> list[NameParts]:
    """Every plausible reading of a name written in one string."""
    # ", M.D." and ", Jr." are post-nominals, not the "FAMILY, GIVEN" comma
    segments = [seg for seg in name.split(",") if not _only_post_nominals(seg)]
    name = ",".join(segments)
    if "," in name:
        family_text, _, given_text = name.partition(",")
        fam, rest = tokens(family_text), tokens(given_text)
        if fam and rest:
            return [NameParts((rest[0],), tuple(rest[1:]), tuple(fam))]
        name = name.replace(",", " ")
    words = tokens(name)
    if len(words) < 2:
        return []
    # an initial is never part of a family name ("Kenneth R Hill": family HILL only)
    out = [
        NameParts((words[0],), tuple(words[1:-k]), tuple(words[-k:]))
        for k in range(1, len(words))
        if all(len(w) > 1 for w in words[-k:])
    ]
    # the family name written first without a comma ("GARCIA MARIA")
    if all(len(w) > 1 for w in words):
        out.append(NameParts((words[-1],), (), tuple(words[:-1]), swapped=True))
    return out


def _only_post_nominals(segment: str) -> bool:
    words = fold(segment.replace(".", "")).split()
    return bool(words) and all(w in DROP for w in words)


def _compatible(a: str, b: str) -> bool:
    """Same word, or one is the other's initial."""
    return a == b or (len(a) == 1 and b.startswith(a)) or (len(b) == 1 and a.startswith(b))


@dataclass(frozen=True)
class NameAgreement:
    agrees: bool
    full: bool  # given, family and any middle name all agree in full (not by initial)
    notes: tuple[str, ...]


def compare(ours: NameParts, theirs: NameParts) -> NameAgreement:
    """Whether two readings name the same person, and how (for the reason shown)."""
    notes: list[str] = []
    if not ours.family or not theirs.family or not ours.given or not theirs.given:
        return NameAgreement(False, False, ("a name is incomplete",))
    if ours.family_key == theirs.family_key:
        family_full = True
    elif set(ours.family) <= set(theirs.family) or set(theirs.family) <= set(ours.family):
        family_full = False
        notes.append("compound family name agrees in part")
    else:
        return NameAgreement(False, False, ("family names differ",))
    g1, g2 = ours.given[0], theirs.given[0]
    if g1 == g2:
        given_full = True
    elif _compatible(g1, g2):
        given_full = False
        notes.append("given name by initial")
    else:
        return NameAgreement(False, False, ("given names differ",))
    middle_full = True
    if ours.middle and theirs.middle:
        m1, m2 = ours.middle[0], theirs.middle[0]
        if not _compatible(m1, m2):
            return NameAgreement(False, False, ("middle names differ",))
        if m1 != m2:
            middle_full = False
            notes.append("middle name by initial")
    if ours.swapped:
        notes.append("name order swapped")
    full = family_full and given_full and middle_full and not ours.swapped
    return NameAgreement(True, full, tuple(notes))
