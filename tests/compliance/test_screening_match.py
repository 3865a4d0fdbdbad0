"""Names and match levels on their own (no database): what the screening says about a
clinician and a list row, and why."""

from __future__ import annotations

from datetime import date

from compliance.screening.match import ListIndex, ListRow, Person, screen_person
from compliance.screening.names import fold, from_fields, readings


def row(
    last: str,
    first: str,
    mid: str = "",
    *,
    npi: str | None = None,
    dob: date | None = None,
    state: str | None = None,
    rid: int = 1,
) -> ListRow:
    n = from_fields(last, first, mid)  # as the importer keeps them
    return ListRow(
        rid,
        f"k{rid}",
        f"h{rid}",
        " ".join(n.family),
        " ".join(n.given),
        " ".join(n.middle),
        npi,
        dob.isoformat() if dob else None,
        state,
        None,
        None,
    )


def person(
    *names: str, npi: str | None = None, dob: date | None = None, states: tuple[str, ...] = ()
) -> Person:
    return Person(1, names, npi, dob, frozenset(states))


def verdict(p: Person, *rows: ListRow) -> tuple[str, str]:
    (v, *_) = screen_person(p, ListIndex(rows))
    return v.result, v.reason


def test_fold_accents_case_punctuation() -> None:
    assert fold("José-María Núñez O'Brien") == "JOSE MARIA NUNEZ OBRIEN"
    assert fold("  ZEPEDA ") == "ZEPEDA"


def test_readings_of_one_string() -> None:
    family = [r.family for r in readings("Maria Garcia Lopez")]
    assert ("GARCIA", "LOPEZ") in family and ("LOPEZ",) in family
    (r,) = readings("Phelan-Peschke, Stephanie Fay")
    assert (r.given, r.middle, r.family) == (("STEPHANIE",), ("FAY",), ("PHELAN", "PESCHKE"))
    assert readings("Dr. Amir S. Steinberg, M.D.")[0].given == ("AMIR",)


def test_same_name_is_possible_with_reasons() -> None:
    result, reason = verdict(
        person("Melanie M Zepeda", states=("CA",)), row("ZEPEDA", "MELANIE", "M", state="CA")
    )
    assert result == "possible"
    assert "same full name" in reason and "state agrees (CA)" in reason


def test_tolerances() -> None:
    cases = [
        ("Stéphanie Phélan-Peschke", row("PHELAN-PESCHKE", "STEPHANIE", "FAY")),  # accents
        ("Stephanie Phelan", row("PHELAN-PESCHKE", "STEPHANIE", "FAY")),  # one part of it
        ("Maria Garcia Lopez", row("GARCIA LOPEZ", "MARIA")),  # compound family name
        ("Kenneth J. Hill", row("HILL", "KENNETH", "JOHN")),  # middle initial / full
        ("HILL, KENNETH JOHN", row("HILL", "KENNETH", "JOHN")),  # FAMILY, GIVEN
        ("Hill Kenneth", row("HILL", "KENNETH")),  # swapped order without a comma
        ("Mary Ann Smith", row("SMITH", "MARY ANN")),  # two-word given name
    ]
    for name, r in cases:
        assert verdict(person(name), r)[0] == "possible", name


def test_conflicting_middle_name_is_clear() -> None:
    assert verdict(person("Kenneth R Hill"), row("HILL", "KENNETH", "JOHN"))[0] == "clear"


def test_identifiers_decide() -> None:
    r = row("LEVIE", "STEVEN", "A", npi="1234567893", dob=date(1972, 11, 16))
    assert verdict(person("Steven Levie", npi="1234567893"), r)[0] == "match"
    # the NPI alone finds the row, whatever the name
    result, reason = verdict(person("Steve Levy", npi="1234567893"), r)
    assert result == "match" and reason.startswith("same NPI 1234567893")
    result, reason = verdict(person("Steven Levie", npi="1111111112"), r)
    assert result == "clear" and "ruled out" in reason and "NPI" in reason
    result, reason = verdict(person("Steven A Levie", dob=date(1972, 11, 16)), r)
    assert (result, reason) == ("match", "same full name and date of birth")
    result, reason = verdict(person("Steven Levie", dob=date(1980, 1, 1)), r)
    assert result == "clear" and "date of birth differs" in reason


def test_former_names_are_screened() -> None:
    r = row("SMITH", "BROOKE", "MARIE")
    result, reason = verdict(person("Brooke Jones", "Brooke Marie Smith"), r)
    assert result == "possible" and "under a former name" in reason
    assert verdict(person("Brooke Jones"), r)[0] == "clear"


def test_nothing_found_says_so() -> None:
    result, reason = verdict(person("John Nobody"), row("ZEPEDA", "MELANIE"))
    assert result == "clear" and reason.startswith("no row of the list names this clinician")
