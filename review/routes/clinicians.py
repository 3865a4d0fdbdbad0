"""The clinicians: the directory (`GET /providers`, `GET /providers.csv`) and each
clinician's whole file on one page (`GET /providers/{id}`), with the details form
(`POST /providers/{id}/details`). The old pages of the file (`/compliance/providers/{id}`,
`/providers/{id}/records`) answer with a redirect to the matching section.

Everyone signed in reads; coordinators, managers and admins change the details (auditors
change nothing, app-wide). The queries live in `compliance.directory` and
`compliance.clinician_file`; the routes parse, call one of them and render.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from sqlalchemy.orm import Session

from compliance import directory as dr
from compliance import standing
from compliance.clinician_file import ClinicianFile, ClinicianNotFound, clinician_file
from compliance.providers import ProviderPatch, first_error, update_provider
from compliance.requirements import USPS, Requirements
from models import Database, Provider
from models.records import RequestKind
from review.deps import READERS, AppState, Reader, Reviewer, SessionDep, StateDep
from review.forms import DOC_TYPE_LABELS
from review.routes.applicants import checklist_context
from review.schemas import ProviderId

router = APIRouter(include_in_schema=False)
NAV = ("Clinicians", "/providers", READERS)


def requirements(state: AppState) -> Requirements:
    """The configured rules (the compliance board loads them again when the file changes)."""
    return state.compliance.requirements()


def _keeper(request: Request, db: Database) -> standing.Keeper:
    """One keeper of the kept judgement per app (judges the few stale clinicians inline)."""
    keeper: standing.Keeper | None = getattr(request.app.state, "clinicians_keeper", None)
    if keeper is None:
        keeper = standing.Keeper(db)
        request.app.state.clinicians_keeper = keeper
    return keeper


def _today() -> date:
    return datetime.now(UTC).date()


def _rules_key(request: Request, state: AppState, reqs: Requirements, on: date) -> str:
    _keeper(request, state.db).ready(reqs, on)
    return standing.rules_key(reqs.version_on(on))


def directory_query(
    q: str = "",
    category: str = "",
    department: str = "",
    state: str = "",
    status: str = "active",
    standing: str = "",
    sort: str = "name",
    desc: bool = False,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: int = 50,
) -> dr.DirectoryQuery:
    """Every filter is in the query string, so a directory view can be shared as a URL."""
    return dr.DirectoryQuery(
        q, category, department, state, status, standing, sort, desc, page, per_page
    ).normalised()


QueryDep = Annotated[dr.DirectoryQuery, Depends(directory_query)]


def _render(request: Request, name: str, context: dict[str, Any], code: int = 200) -> Response:
    templates = request.app.state.credflow.templates
    return templates.TemplateResponse(request, f"clinicians/{name}", context, status_code=code)


@router.get("/providers", response_class=HTMLResponse)
def directory_page(
    request: Request, session: SessionDep, state: StateDep, user: Reader, query: QueryDep
) -> Response:
    reqs = requirements(state)
    on = _today()
    page = dr.directory(
        session, query, on=on, rules_key=_rules_key(request, state, reqs, on),
        categories=reqs.version_on(on).categories,
    )  # fmt: skip
    context = {
        "d": page, "f": page.query, "sorts": dr.SORTS, "standings": dr.STANDINGS,
        "states": sorted(USPS), "page_sizes": dr.PAGE_SIZES, "urlencode": urlencode,
    }  # fmt: skip
    if request.headers.get("hx-request") and request.headers.get("hx-target") == "results":
        return _render(request, "_results.html", context)
    return _render(request, "directory.html", context)


@router.get("/providers.csv")
def directory_csv(
    request: Request, session: SessionDep, state: StateDep, user: Reader, query: QueryDep
) -> Response:
    """Every clinician the filters select (paging aside), formula-safe for spreadsheets."""
    reqs = requirements(state)
    on = _today()
    key = _rules_key(request, state, reqs, on)
    # read it all before the session closes (it closes when the route returns)
    body = "".join(dr.csv_lines(dr.iter_rows(session, query, on=on, rules_key=key)))
    return StreamingResponse(
        iter([body]),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="credflow-clinicians-{on}.csv"',
            "Cache-Control": "private, no-store",
        },
    )


def _parse_day(value: str | None) -> date:
    if not value:
        return _today()
    try:
        return date.fromisoformat(value)
    except ValueError as e:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "dates are YYYY-MM-DD") from e


def _file(session: Session, state: AppState, provider_id: int, on: date) -> ClinicianFile:
    try:
        return clinician_file(session, requirements(state), provider_id, on=on)
    except ClinicianNotFound as e:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(e)) from e


def _file_page(request: Request, file: ClinicianFile, *, code: int = 200, **extra: Any) -> Response:
    context = {
        "c": file, "p": file.details, "labels": DOC_TYPE_LABELS, "today": file_day(file),
        "kinds": [k.value for k in RequestKind], "saved": None, "error": None, **extra,
    }  # fmt: skip
    return _render(request, "file.html", context, code)


def file_day(file: ClinicianFile) -> date:
    return file.compliance.on if file.compliance else _today()


@router.get("/providers/{provider_id}", response_class=HTMLResponse)
def file_page(
    provider_id: ProviderId,
    request: Request,
    session: SessionDep,
    state: StateDep,
    user: Reader,
    on: str | None = None,
    saved: str | None = None,
    error: str | None = None,
) -> Response:
    """The clinician's whole file: one page, one section per part."""
    file = _file(session, state, provider_id, _parse_day(on))
    checklist = checklist_context(state, session, provider_id)
    return _file_page(request, file, saved=saved, error=error, **checklist)


@router.post("/providers/{provider_id}/details")
def save_details(
    provider_id: ProviderId,
    request: Request,
    session: SessionDep,
    state: StateDep,
    user: Reviewer,
    email: str = Form(""),
    staff_category: str = Form(""),
    department: str = Form(""),
    states: str = Form(""),
    active: str | None = Form(None),
    date_of_birth: str = Form(""),
    other_names: str = Form(""),
) -> Response:
    """Change the details; the staff category must be one the requirement sets configure."""
    if session.get(Provider, provider_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No clinician {provider_id}.")
    categories = requirements(state).version_on(_today()).categories
    error = None
    if staff_category and staff_category not in categories:
        error = (
            f"Staff category {staff_category!r} is not one of the configured requirement sets' "
            f"categories ({', '.join(categories)})."
        )
    else:
        try:
            patch = ProviderPatch(
                email=email, staff_category=staff_category, department=department,
                states=[x for x in re.split(r"[\s,;]+", states) if x], active=active is not None,
                date_of_birth=date.fromisoformat(date_of_birth) if date_of_birth else None,
                other_names=[n for n in other_names.splitlines() if n.strip()],
            )  # fmt: skip
        except ValueError as e:
            error = first_error(e)
    if error is not None:
        file = _file(session, state, provider_id, _today())
        checklist = checklist_context(state, session, provider_id)
        code = status.HTTP_422_UNPROCESSABLE_CONTENT
        return _file_page(request, file, code=code, error=error, **checklist)
    provider = session.get(Provider, provider_id)
    assert provider is not None
    changed = update_provider(session, provider, patch, user.username)
    session.commit()
    saved = ", ".join(changed) or "nothing changed"
    return RedirectResponse(
        f"/providers/{provider_id}?saved={quote(saved)}#details", status.HTTP_303_SEE_OTHER
    )


def _moved(request: Request, provider_id: int, section: str) -> Response:
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(
        f"/providers/{provider_id}{query}#{section}", status_code=status.HTTP_303_SEE_OTHER
    )


@router.get("/compliance/providers/{provider_id}")
def old_compliance_page(provider_id: ProviderId, request: Request, user: Reader) -> Response:
    """The compliance part moved into the file (`?on=`, `saved`, `error` carried along)."""
    return _moved(request, provider_id, "compliance")


@router.get("/providers/{provider_id}/records")
def old_records_page(provider_id: ProviderId, request: Request, user: Reader) -> Response:
    """The records part moved into the file."""
    return _moved(request, provider_id, "records")
