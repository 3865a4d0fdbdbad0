"""Candidate values for each field: the entry point __init__.py calls, composing the field
families, each a small module that says what it finds and why:

- labelled.py: a printed label and the value next to or below it (labels.py finds them);
- people.py: the holder's and the referee's names in sentences and signatures;
- date_roles.py: which date is the issue, expiration, start or end date;
- titles.py: the credential's title per doc type;
- issuers.py: known boards, schools, carriers (gazetteers), sentences, the letterhead;
- numbers.py: credential numbers and credit hours in sentences and bare cells;
- places.py: the jurisdiction (a licence's state, a DEA registrant's address);
- values.py: the normal form of each field's value; candidates.py: Cand and Context.

Every candidate carries its evidence span (offsets in Layout.text) and a score 0..1 for
how strong that kind of evidence is; __init__.py combines them into one value per field.
The order of the candidates is kept as the finders produce them (ties keep the first).
"""

from __future__ import annotations

from extract.fields import date_roles, issuers, numbers, people, places, titles
from extract.fields.candidates import Cand, Context
from extract.fields.labelled import from_labels
from extract.fields.people import recipient_rows
from extract.fields.titles import known_titles
from extract.fields.values import parse_value, to_date

__all__ = [
    "Cand",
    "Context",
    "from_gazetteers",
    "from_labels",
    "from_layout",
    "from_leftovers",
    "from_sentences",
    "known_titles",
    "parse_value",
    "recipient_rows",
    "to_date",
]

from_gazetteers = issuers.from_gazetteers

# doc types that print bare values (a date or a number alone on its line)
_BARE_VALUE_TYPES = (
    "medical_license",
    "nursing_license",
    "board_certification",
    "life_support_card",
    "dea_registration",
)


def from_sentences(ctx: Context, wanted: set[str]) -> list[Cand]:
    """The wording of letters and certificates ("conferred upon", "completed residency
    training in", "effective 11/1/2021 to 11/1/2022", "Sincerely, <name>")."""
    out: list[Cand] = []
    if "person_name" in wanted:
        out += people.sentence_names(ctx.text)
    out += date_roles.sentence_dates(ctx, wanted)
    if "credential_title" in wanted:
        out += titles.titles_from_text(ctx)
    if "credit_hours" in wanted:
        out += numbers.credit_hours(ctx.text)
    if "issuer" in wanted:
        out += issuers.sentence_issuers(ctx.text)
    if "credential_number" in wanted:
        out += numbers.sentence_numbers(ctx.text)
    if "referee_name" in wanted:
        out += people.signature(ctx)
    if "jurisdiction" in wanted and ctx.doc_type == "dea_registration":
        out += places.address_state(ctx)
    return out


def from_layout(ctx: Context, wanted: set[str]) -> list[Cand]:
    """Letterhead organisation, "STATE OF X" headers, standalone board names."""
    out: list[Cand] = []
    if "issuer" in wanted:
        out += issuers.letterhead(ctx)
    if "jurisdiction" in wanted and ctx.doc_type in ("medical_license", "nursing_license"):
        out += places.state_of(ctx)
    return out


def from_leftovers(ctx: Context, wanted: set[str], taken: list[Cand]) -> list[Cand]:
    """Cards and wall certificates print bare values: a date on its own line, a number on
    its own line. Weak evidence, used when nothing labelled says otherwise."""
    if ctx.doc_type not in _BARE_VALUE_TYPES:
        return []
    out = date_roles.leftover_dates(ctx, wanted, taken)
    if "credential_number" in wanted:
        out += numbers.bare_numbers(ctx)
    return out
