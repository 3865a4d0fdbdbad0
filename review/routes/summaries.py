"""The patient-facing summary (page, JSON, PDF; every signed-in role) and the committee
packet (PDF, JSON; managers and auditors)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from compliance.packet import (
    Packet,
    build_packet,
    render_packet_pdf,
)
from compliance.summary import build_summary, render_summary_pdf
from review import params
from review.deps import AppState, ManagerReader, Reader, SessionDep, StateDep, render

router = APIRouter()
MaxAge = Query(None, ge=1, le=3650)


@router.get(
    "/providers/{provider_id}/summary", response_class=HTMLResponse, include_in_schema=False
)
def summary_page(request: Request, provider_id: int, session: SessionDep, user: Reader) -> Response:
    return render(request, "records/summary.html", {"summary": build_summary(session, provider_id)})


@router.get("/api/providers/{provider_id}/summary", tags=["records"])
def summary_json(provider_id: int, session: SessionDep, user: Reader) -> dict[str, Any]:
    """What may be told to a patient: licences (DEA number: last four digits only),
    board certifications, education, each with the date it was verified."""
    return build_summary(session, provider_id).to_json()


@router.get("/api/providers/{provider_id}/summary.pdf", response_class=Response, tags=["records"])
def summary_pdf(provider_id: int, session: SessionDep, user: Reader) -> Response:
    pdf = render_summary_pdf(build_summary(session, provider_id))
    return params.pdf(pdf, f"credential-summary-{provider_id}.pdf")


def _packet(
    state: AppState,
    session: SessionDep,
    provider_id: int,
    decision: str | None,
    max_age: int | None,
) -> Packet:
    """The packet under the site's rules: the checklist's unverified items lead its flags."""
    return build_packet(
        session,
        provider_id,
        params.day(decision, "decision") or date.today(),
        max_verification_age_days=max_age or state.config.verification_max_age_days,
        requirements=state.compliance.requirements(),
    )


@router.get("/providers/{provider_id}/packet.pdf", response_class=Response, include_in_schema=False)
def packet_pdf(
    provider_id: int,
    session: SessionDep,
    state: StateDep,
    user: ManagerReader,
    decision: str | None = None,
    max_age: int | None = MaxAge,
) -> Response:
    packet = _packet(state, session, provider_id, decision, max_age)
    name = f"committee-packet-{provider_id}-{packet.decision_date.isoformat()}.pdf"
    return params.pdf(render_packet_pdf(packet), name)


@router.get("/api/providers/{provider_id}/packet", tags=["records"])
def packet_json(
    provider_id: int,
    session: SessionDep,
    state: StateDep,
    user: ManagerReader,
    decision: str | None = None,
    max_age: int | None = MaxAge,
) -> dict[str, Any]:
    """The committee packet's content: credentials, flags, gaps, references."""
    packet = _packet(state, session, provider_id, decision, max_age)
    out: dict[str, Any] = params.plain(asdict(packet))
    return out
