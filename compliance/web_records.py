"""Records pages and API routes, added to the review app as a plugin (`install`): the
patient-facing summary (page, JSON, PDF), the committee packet PDF, reference requests,
retention holds, removal on request, and the audit log with its CSV export.

Who may do what: every signed-in role reads summaries; coordinators, managers and admins
track reference requests; managers and admins hold, remove and read packets and the audit
log; auditors read everything and change nothing (the app refuses their writes app-wide).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Body, Depends, FastAPI, Form, HTTPException, Query, Request, status
from fastapi.responses import (
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from compliance import removal as rm
from compliance.audit_log import AuditFilter, csv_lines, filter_choices, iter_events, query_events
from compliance.packet import DEFAULT_MAX_VERIFICATION_AGE_DAYS, build_packet, render_packet_pdf
from compliance.references import (
    RequestNotFound,
    list_requests,
    mark_received,
    overdue_requests,
    request_letter,
)
from compliance.summary import ProviderNotFound, build_summary, render_summary_pdf
from models import Credential, Document, DocumentStatus, Role, User
from models.records import RequestKind

if TYPE_CHECKING:
    from review.plugins import WebContext  # the contract only; compliance imports no review code

TEMPLATES = Path(__file__).parent / "templates"
READERS = tuple(Role)
STAFF = (Role.COORDINATOR, Role.MANAGER, Role.ADMIN)
MANAGERS = (Role.MANAGER, Role.ADMIN)
# reading what staff / managers change: auditors read everything
STAFF_READ = (*STAFF, Role.AUDITOR)
OVERSIGHT = (*MANAGERS, Role.AUDITOR)
AUDIT_PAGE_SIZE = 100
PDF_HEADERS = {"Cache-Control": "private, no-store"}


class RemovalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str


class HoldIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    provider_id: int | None = None
    document_id: int | None = None
    reason: str
    until: date | None = None


class RequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: RequestKind
    recipient_name: str
    recipient_email: str | None = None
    organisation: str | None = None
    due_on: date | None = None
    note: str | None = None


class ReceivedIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    document_id: int
    received_on: date | None = None


def install(app: FastAPI, web: WebContext) -> None:
    """Add the records pages and API routes to the review app."""
    web.add_templates(TEMPLATES)
    web.nav.append(("References", "/references", STAFF_READ))
    web.nav.append(("Holds", "/holds", OVERSIGHT))
    web.nav.append(("Audit log", "/audit", OVERSIGHT))
    reader = Depends(web.require_role(*READERS))
    staff = Depends(web.require_role(*STAFF))
    staff_read = Depends(web.require_role(*STAFF_READ))
    manager = Depends(web.require_role(*MANAGERS))
    oversight = Depends(web.require_role(*OVERSIGHT))
    templates = web.templates

    @contextmanager
    def db_session() -> Iterator[Session]:
        with web.db.session() as s:
            yield s

    def page(request: Request, name: str, context: dict[str, Any], code: int = 200) -> Response:
        return templates.TemplateResponse(request, f"records/{name}", context, status_code=code)

    def back(path: str, **params: Any) -> RedirectResponse:
        query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
        return RedirectResponse(path + (f"?{query}" if query else ""), status.HTTP_303_SEE_OTHER)

    def erase(result: rm.Removal) -> None:
        rm.erase_freed_space(web.db, result.tables)

    pages = APIRouter(include_in_schema=False)
    api = APIRouter(prefix="/api", tags=["records"])

    # -- patient-facing summary -------------------------------------------------------------

    def summary_of(provider_id: int) -> Any:
        with db_session() as s:
            try:
                return build_summary(s, provider_id)
            except ProviderNotFound as e:
                raise HTTPException(status.HTTP_404_NOT_FOUND, str(e)) from e

    @pages.get("/providers/{provider_id}/summary", response_class=HTMLResponse)
    def summary_page(request: Request, provider_id: int, user: User = reader) -> Response:
        return page(request, "summary.html", {"summary": summary_of(provider_id)})

    @api.get("/providers/{provider_id}/summary")
    def summary_json(provider_id: int, user: User = reader) -> dict[str, Any]:
        """What may be told to a patient: licences (DEA number: last four digits only),
        board certifications, education, each with the date it was verified."""
        return summary_of(provider_id).to_json()

    @api.get("/providers/{provider_id}/summary.pdf", response_class=Response)
    def summary_pdf(provider_id: int, user: User = reader) -> Response:
        pdf = render_summary_pdf(summary_of(provider_id))
        return _pdf(pdf, f"credential-summary-{provider_id}.pdf")

    # -- committee packet --------------------------------------------------------------------

    def packet_of(provider_id: int, decision: str | None, max_age: int | None) -> Any:
        with db_session() as s:
            try:
                return build_packet(
                    s,
                    provider_id,
                    _day(decision, "decision") or date.today(),
                    max_verification_age_days=max_age or DEFAULT_MAX_VERIFICATION_AGE_DAYS,
                )
            except ProviderNotFound as e:
                raise HTTPException(status.HTTP_404_NOT_FOUND, str(e)) from e

    @pages.get("/providers/{provider_id}/packet.pdf", response_class=Response)
    def packet_pdf(
        provider_id: int,
        decision: str | None = None,
        max_age: int | None = Query(None, ge=1, le=3650),
        user: User = oversight,
    ) -> Response:
        packet = packet_of(provider_id, decision, max_age)
        name = f"committee-packet-{provider_id}-{packet.decision_date.isoformat()}.pdf"
        return _pdf(render_packet_pdf(packet), name)

    @api.get("/providers/{provider_id}/packet")
    def packet_json(
        provider_id: int,
        decision: str | None = None,
        max_age: int | None = Query(None, ge=1, le=3650),
        user: User = oversight,
    ) -> dict[str, Any]:
        """The committee packet's content: credentials, flags, gaps, references."""
        return _plain(asdict(packet_of(provider_id, decision, max_age)))

    # -- a provider's records page -------------------------------------------------------------

    # -- reference and employment verification requests ---------------------------------------

    @pages.get("/references", response_class=HTMLResponse)
    def references_page(request: Request, show: str = "open", user: User = staff_read) -> Response:
        with db_session() as s:
            rows = list_requests(s, open_only=show != "all")
            if show == "overdue":
                rows = overdue_requests(s, date.today())
        return page(request, "references.html", {"rows": rows, "show": show})

    @pages.post("/providers/{provider_id}/references")
    def request_form(
        provider_id: int,
        kind: str = Form(...),
        recipient_name: str = Form(""),
        recipient_email: str = Form(""),
        organisation: str = Form(""),
        due_on: str = Form(""),
        user: User = staff,
    ) -> Response:
        target = f"/providers/{provider_id}/records"
        try:
            with db_session() as s:
                request_letter(
                    s,
                    provider_id=provider_id,
                    kind=kind,
                    recipient_name=recipient_name,
                    recipient_email=recipient_email,
                    organisation=organisation,
                    due_on=_day(due_on, "due date"),
                    actor=user.username,
                )
        except (ValueError, LookupError) as e:
            return back(target, error=str(e))
        return back(target)

    @pages.post("/references/{request_id}/received")
    def received_form(
        request_id: int,
        document_id: int = Form(...),
        provider_id: int = Form(...),
        user: User = staff,
    ) -> Response:
        target = f"/providers/{provider_id}/records"
        try:
            with db_session() as s:
                mark_received(s, request_id, document_id=document_id, actor=user.username)
        except LookupError as e:
            return back(target, error=str(e))
        return back(target)

    @api.get("/reference-requests")
    def requests_json(
        provider_id: int | None = None, show: str = "all", user: User = staff_read
    ) -> list[dict[str, Any]]:
        """`show`: all, open (not yet received) or overdue (open and past due)."""
        with db_session() as s:
            if show == "overdue":
                rows = overdue_requests(s, date.today())
                if provider_id is not None:
                    rows = [r for r in rows if r.provider_id == provider_id]
            else:
                rows = list_requests(s, provider_id=provider_id, open_only=show == "open")
        return [_plain(asdict(r)) for r in rows]

    @api.post("/providers/{provider_id}/reference-requests", status_code=201)
    def request_json(provider_id: int, body: RequestIn, user: User = staff) -> dict[str, Any]:
        try:
            with db_session() as s:
                req = request_letter(
                    s,
                    provider_id=provider_id,
                    kind=body.kind,
                    recipient_name=body.recipient_name,
                    recipient_email=body.recipient_email,
                    organisation=body.organisation,
                    due_on=body.due_on,
                    note=body.note,
                    actor=user.username,
                )
                req_id = req.id
        except LookupError as e:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(e)) from e
        except ValueError as e:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(e)) from e
        with db_session() as s:
            return _plain(asdict(next(r for r in list_requests(s) if r.id == req_id)))

    @api.post("/reference-requests/{request_id}/received")
    def received_json(request_id: int, body: ReceivedIn, user: User = staff) -> dict[str, Any]:
        try:
            with db_session() as s:
                req = mark_received(
                    s,
                    request_id,
                    document_id=body.document_id,
                    received_on=body.received_on,
                    actor=user.username,
                )
                return {
                    "id": req.id,
                    "document_id": req.document_id,
                    "received_on": req.received_on.isoformat() if req.received_on else None,
                }
        except (RequestNotFound, LookupError) as e:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(e)) from e

    # -- retention holds -----------------------------------------------------------------------

    @pages.get("/holds", response_class=HTMLResponse)
    def holds_page(
        request: Request, show: str = "active", error: str | None = None, user: User = oversight
    ) -> Response:
        with db_session() as s:
            rows = rm.list_holds(s, include_inactive=show == "all")
        return page(request, "holds.html", {"rows": rows, "show": show, "error": error})

    @pages.post("/holds")
    def hold_form(
        reason: str = Form(""),
        until: str = Form(""),
        provider_id: str = Form(""),
        document_id: str = Form(""),
        next: str = Form("/holds"),
        user: User = manager,
    ) -> Response:
        target = next if next.startswith("/") and not next.startswith("//") else "/holds"
        try:
            with db_session() as s:
                rm.place_hold(
                    s,
                    actor=user.username,
                    reason=reason,
                    until=_day(until, "until"),
                    provider_id=_int(provider_id),
                    document_id=_int(document_id),
                )
        except (ValueError, rm.NotFound, HTTPException) as e:
            return back(target, error=getattr(e, "detail", None) or str(e))
        return back(target)

    @pages.post("/holds/{hold_id}/release")
    def release_form(hold_id: int, user: User = manager) -> Response:
        try:
            with db_session() as s:
                rm.release_hold(s, hold_id, actor=user.username)
        except rm.NotFound as e:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(e)) from e
        return back("/holds")

    @api.get("/holds")
    def holds_json(show: str = "active", user: User = oversight) -> list[dict[str, Any]]:
        """`show`: active (applies today) or all."""
        with db_session() as s:
            return [_plain(asdict(h)) for h in rm.list_holds(s, include_inactive=show == "all")]

    @api.post("/holds", status_code=201)
    def hold_json(body: HoldIn, user: User = manager) -> dict[str, Any]:
        """Hold a provider's file or one document: removal is refused with `reason` while
        the hold applies (through `until`, or until released)."""
        try:
            with db_session() as s:
                hold = rm.place_hold(
                    s,
                    actor=user.username,
                    reason=body.reason,
                    until=body.until,
                    provider_id=body.provider_id,
                    document_id=body.document_id,
                )
                hold_id = hold.id
        except rm.NotFound as e:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(e)) from e
        except ValueError as e:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(e)) from e
        with db_session() as s:
            view = next(h for h in rm.list_holds(s, include_inactive=True) if h.id == hold_id)
        return _plain(asdict(view))

    @api.post("/holds/{hold_id}/release")
    def release_json(hold_id: int, user: User = manager) -> dict[str, Any]:
        try:
            with db_session() as s:
                hold = rm.release_hold(s, hold_id, actor=user.username)
                return {"id": hold.id, "released_by": hold.released_by}
        except rm.NotFound as e:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(e)) from e

    # -- removal on request --------------------------------------------------------------------

    def remove(kind: str, target_id: int, reason: str, user: User) -> rm.Removal:
        """Run a removal; raises rm.RemovalError / ValueError for the caller to answer."""
        with db_session() as s:
            if kind == "provider":
                result = rm.remove_provider(
                    s, web.layout, target_id, actor=user.username, reason=reason
                )
            else:
                result = rm.remove_document(
                    s, web.layout, target_id, actor=user.username, reason=reason
                )
        erase(result)
        return result

    def api_remove(
        kind: str, target_id: int, reason: str | None, body: RemovalIn | None, user: User
    ) -> Response:
        text = (body.reason if body is not None else None) or reason or ""
        try:
            remove(kind, target_id, text, user)
        except rm.NotFound as e:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(e)) from e
        except rm.HoldApplies as e:
            return JSONResponse(
                {
                    "detail": str(e),
                    "reason": e.reason,
                    "hold_id": e.hold_id,
                    "until": e.until.isoformat() if e.until else None,
                },
                status_code=status.HTTP_409_CONFLICT,
            )
        except rm.RemovalRefused as e:
            return JSONResponse({"detail": str(e)}, status_code=status.HTTP_409_CONFLICT)
        except ValueError as e:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(e)) from e
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @api.delete("/providers/{provider_id}", status_code=204, response_class=Response)
    def delete_provider(
        provider_id: int,
        reason: str | None = Query(None),
        body: RemovalIn | None = Body(None),
        user: User = manager,
    ) -> Response:
        """Remove everything about a clinician (files, pages, fields, credentials, requests,
        personal values in the audit trail). `reason` (JSON body or query) is required.
        204 when removed; 409 with the hold's reason while a retention hold applies."""
        return api_remove("provider", provider_id, reason, body, user)

    @api.delete("/documents/{document_id}", status_code=204, response_class=Response)
    def delete_document(
        document_id: int,
        reason: str | None = Query(None),
        body: RemovalIn | None = Body(None),
        user: User = manager,
    ) -> Response:
        """Remove one document: its file, page images, text, fields and the credentials it
        evidences. 204 when removed; 409 with the hold's reason while a hold applies."""
        return api_remove("document", document_id, reason, body, user)

    @pages.get("/documents/{document_id}/remove", response_class=HTMLResponse)
    def remove_document_page(request: Request, document_id: int, user: User = manager) -> Response:
        with db_session() as s:
            doc = s.get(Document, document_id)
            if doc is None or doc.status == DocumentStatus.DELETED:
                raise HTTPException(status.HTTP_404_NOT_FOUND, "No such document.")
            credentials = list(
                s.scalars(select(Credential.id).where(Credential.document_id == document_id))
            )
            holds = rm.active_holds(
                s,
                provider_ids=[doc.provider_id] if doc.provider_id else [],
                document_ids=[doc.id],
            )
        return page(
            request,
            "remove.html",
            {
                "kind": "document",
                "target": doc,
                "credentials": credentials,
                "holds": holds,
                "action": f"/documents/{document_id}/remove",
            },
        )

    @pages.post("/documents/{document_id}/remove", response_class=HTMLResponse)
    def remove_document_form(
        request: Request, document_id: int, reason: str = Form(""), user: User = manager
    ) -> Response:
        return form_remove(request, "document", document_id, reason, user)

    @pages.post("/providers/{provider_id}/remove", response_class=HTMLResponse)
    def remove_provider_form(
        request: Request, provider_id: int, reason: str = Form(""), user: User = manager
    ) -> Response:
        return form_remove(request, "provider", provider_id, reason, user)

    def form_remove(
        request: Request, kind: str, target_id: int, reason: str, user: User
    ) -> Response:
        try:
            result = remove(kind, target_id, reason, user)
        except rm.NotFound as e:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(e)) from e
        except (rm.RemovalRefused, ValueError) as e:
            return page(
                request,
                "removed.html",
                {"kind": kind, "target_id": target_id, "refused": str(e), "result": None},
                409,
            )
        return page(
            request,
            "removed.html",
            {"kind": kind, "target_id": target_id, "refused": None, "result": result},
        )

    # -- audit log -----------------------------------------------------------------------------

    def audit_filter(
        actor: str | None = None,
        action: str | None = None,
        entity_type: str | None = None,
        entity_id: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> AuditFilter:
        return AuditFilter(
            actor=actor or None,
            action=action or None,
            entity_type=entity_type or None,
            entity_id=_int(entity_id),
            since=_day(since, "since"),
            until=_day(until, "until"),
        )

    @pages.get("/audit", response_class=HTMLResponse)
    def audit_page(
        request: Request,
        flt: AuditFilter = Depends(audit_filter),
        before_id: int | None = Query(None, ge=1, le=2**31 - 1),
        detail: bool = False,
        user: User = oversight,
    ) -> Response:
        with db_session() as s:
            rows = query_events(
                s, flt, limit=AUDIT_PAGE_SIZE, before_id=before_id, with_detail=detail
            )
            choices = filter_choices(s)
        query = {k: v for k, v in asdict(flt).items() if v not in (None, "")}
        older = (
            urlencode({**query, "before_id": rows[-1].id, "detail": int(detail)})
            if len(rows) == AUDIT_PAGE_SIZE
            else None
        )
        return page(
            request,
            "audit.html",
            {
                "rows": rows,
                "f": flt,
                "choices": choices,
                "detail": detail,
                "older": older,
                "csv_query": urlencode(query),
            },
        )

    @pages.get("/audit.csv")
    def audit_csv_page(
        flt: AuditFilter = Depends(audit_filter), detail: bool = False, user: User = oversight
    ) -> Response:
        return _csv(flt, detail)

    @api.get(
        "/audit",
        response_model=None,
        responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
    )
    def audit_json(
        flt: AuditFilter = Depends(audit_filter),
        limit: int = Query(100, ge=1, le=1000),
        before_id: int | None = Query(None, ge=1, le=2**31 - 1),
        detail: bool = False,
        format: Literal["json", "csv"] = "json",
        user: User = oversight,
    ) -> Response | dict[str, Any]:
        """Audit events, newest first (page with `before_id`), filtered by actor, action
        (`document.*` for a prefix), entity_type + entity_id and since/until (UTC days).
        `format=csv` streams every matching event, oldest first. `detail=true` adds the
        personal values kept apart from the events (absent once removed on request)."""
        if format == "csv":
            return _csv(flt, detail)
        with db_session() as s:
            rows = query_events(s, flt, limit=limit, before_id=before_id, with_detail=detail)
        return {
            "events": [r.as_json() for r in rows],
            "next_before_id": rows[-1].id if len(rows) == limit else None,
        }

    def _csv(flt: AuditFilter, detail: bool) -> Response:
        stream = csv_lines(iter_events(web.db, flt, with_detail=detail), with_detail=detail)
        return StreamingResponse(
            stream,
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="credflow-audit-{date.today()}.csv"',
                "Cache-Control": "private, no-store",
            },
        )

    app.include_router(pages)
    app.include_router(api)


def _pdf(content: bytes, filename: str) -> Response:
    return Response(
        content,
        media_type="application/pdf",
        headers={**PDF_HEADERS, "Content-Disposition": f'inline; filename="{filename}"'},
    )


def _day(value: str | None, what: str) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as e:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"{what}: expected a date like 2026-07-01"
        ) from e


def _int(value: str | None) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"not a number: {value[:20]}")
    return int(value)


def _plain(value: Any) -> Any:
    """Dataclass dicts as JSON: dates and datetimes as ISO strings."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
