"""The kinds of domain failure the web layer answers with one HTTP status each
(review/errors.py holds the mapping): a missing thing, input that is not valid, a change
that may not happen now. Domain modules raise subclasses, never HTTP errors."""

from __future__ import annotations

from typing import Any


class NotFound(LookupError):
    """What was asked for does not exist (404)."""


class Invalid(ValueError):
    """The input is not acceptable, with a message for the person (422)."""


class Conflict(Exception):
    """The change may not happen in the current state (409); `extra` goes into the answer."""

    def extra(self) -> dict[str, Any]:
        return {}
