"""Places: the jurisdiction (US state) a credential belongs to.

A licence names its state in its header ("STATE OF OHIO"); a DEA registration in the
holder's address ("... OH 43215"), the DEA's own Washington, DC address aside. State boards
known to the gazetteer give their state in issuers.from_gazetteers.
"""

from __future__ import annotations

import re

from extract.fields import gazetteers
from extract.fields.candidates import Cand, Context

STATE_CODE_RX = re.compile(r"\b([A-Z]{2})[ ]+\d{5}(?:-\d{4})?\b")


def address_state(ctx: Context) -> list[Cand]:
    """The state code before a ZIP code in an address."""
    out: list[Cand] = []
    for m in STATE_CODE_RX.finditer(ctx.text):
        code = m.group(1)
        line_start = ctx.text.rfind("\n", 0, m.start()) + 1
        if "WASHINGTON" in ctx.text[line_start : m.start()].upper() and code == "DC":
            continue  # the DEA's own address
        out.append(Cand("jurisdiction", code, 0.75, m.start(1), m.end(1), "address"))
    return out


def state_of(ctx: Context) -> list[Cand]:
    """A licence's "STATE OF X" / "COMMONWEALTH OF X" header."""
    out: list[Cand] = []
    for m in re.finditer(r"(?:STATE|COMMONWEALTH) OF ([A-Z][A-Za-z ]{3,25})", ctx.text, re.I):
        code = gazetteers.state_in(m.group(1))
        if code:
            out.append(Cand("jurisdiction", code, 0.85, m.start(1), m.end(1), "state-of"))
    return out


def issuer_state(issuer: str) -> str | None:
    """The state of a known state board, or a state named in the issuer's name."""
    entry = gazetteers.load().by_lower.get(issuer.lower())
    if entry and entry.state:
        return entry.state
    return gazetteers.state_in(issuer)
