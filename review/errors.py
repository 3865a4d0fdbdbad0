"""One table from domain exceptions to HTTP status, registered once by `create_app` (the way
OCRmyPDF maps exception classes to exit codes). Routes let domain errors rise; the API
answers `{"detail": ..., **extra}` with the status, a page shows error.html."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, HTTPException, Request, status
from fastapi.responses import JSONResponse, Response

from compliance import errors
from compliance.requirements import RequirementsError
from compliance.screening.adjudicate import AdjudicationError
from review.approve import ReviewError
from review.auth import AccountError

# most specific first: the first class an exception is an instance of decides
STATUS: tuple[tuple[type[Exception], int], ...] = (
    (RequirementsError, status.HTTP_500_INTERNAL_SERVER_ERROR),
    (errors.NotFound, status.HTTP_404_NOT_FOUND),
    (errors.Conflict, status.HTTP_409_CONFLICT),
    (errors.Invalid, status.HTTP_422_UNPROCESSABLE_CONTENT),
    (AccountError, status.HTTP_422_UNPROCESSABLE_CONTENT),
)


def status_of(exc: Exception) -> int:
    """The HTTP status a domain exception stands for."""
    if isinstance(exc, AdjudicationError):
        return exc.status
    if isinstance(exc, ReviewError):
        return exc.status_code
    for cls, code in STATUS:
        if isinstance(exc, cls):
            return code
    return status.HTTP_500_INTERNAL_SERVER_ERROR


def _extra(exc: Exception) -> dict[str, Any]:
    if isinstance(exc, ReviewError):
        return {"errors": exc.errors}  # per field, for the form
    return exc.extra() if isinstance(exc, errors.Conflict) else {}


def install_error_mapping(app: FastAPI, wants_html: Callable[[Request], bool]) -> None:
    """Answer every mapped domain exception by its status: JSON for the API (with the
    exception's `extra`), the error page (through the HTTPException handler) for pages."""

    async def domain_error(request: Request, exc: Exception) -> Response:
        code = status_of(exc)
        if not wants_html(request):
            return JSONResponse({"detail": str(exc), **_extra(exc)}, status_code=code)
        answer = app.exception_handlers[HTTPException](request, HTTPException(code, str(exc)))
        return await answer if inspect.isawaitable(answer) else answer

    for cls in (*(cls for cls, _ in STATUS), AdjudicationError, ReviewError):
        app.add_exception_handler(cls, domain_error)
