"""Training sessions (`/compliance/training`): everyone on staff reads, managers add and
delete them."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from compliance import training
from review.deps import Manager, SessionDep, StaffReader, redirect, render

router = APIRouter()
PAGE = "/compliance/training"


@router.get(PAGE, response_class=HTMLResponse, include_in_schema=False)
def training_page(
    request: Request, session: SessionDep, user: StaffReader, error: str | None = None
) -> Response:
    return render(request, "dashboard/training.html", {
        "sessions": training.upcoming(session, datetime.now(UTC)),
        "doc_types": training.DOC_TYPES, "courses": training.COURSES, "error": error,
    })  # fmt: skip


@router.post(PAGE, include_in_schema=False)
def training_add(
    session: SessionDep,
    user: Manager,
    title: str = Form(...),
    starts_at: str = Form(...),
    place: str = Form(...),
    renews_doc_type: str = Form("life_support_card"),
    renews_course: str = Form(""),
    seats: str = Form(""),
) -> Response:
    try:
        when = datetime.fromisoformat(starts_at)
        training.add_session(
            session, title=title, starts_at=when if when.tzinfo else when.replace(tzinfo=UTC),
            place=place, renews_doc_type=renews_doc_type, renews_course=renews_course or None,
            seats=int(seats) if seats else None, actor=user.username, actor_id=user.id,
        )  # fmt: skip
    except ValueError as e:  # training.TrainingError included
        session.rollback()
        return redirect(PAGE, error=str(e)[:300])
    session.commit()
    return redirect(PAGE)


@router.post(PAGE + "/{session_id}/delete", include_in_schema=False)
def training_delete(session_id: int, session: SessionDep, user: Manager) -> Response:
    try:
        training.remove_session(session, session_id, actor=user.username)
    except training.TrainingError as e:
        session.rollback()
        return redirect(PAGE, error=str(e)[:300])
    session.commit()
    return redirect(PAGE)
