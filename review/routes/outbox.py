"""The mail outbox (`/compliance/outbox`): counts and problems; managers retry failures."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from compliance import notify
from review.deps import Manager, ManagerReader, SessionDep, redirect, render

router = APIRouter()


@router.get("/compliance/outbox", response_class=HTMLResponse, include_in_schema=False)
def outbox_page(request: Request, session: SessionDep, user: ManagerReader) -> Response:
    return render(request, "dashboard/outbox.html", {
        "counts": notify.outbox_counts(session), "problems": notify.outbox_problems(session),
    })  # fmt: skip


@router.post("/compliance/outbox/retry", include_in_schema=False)
def outbox_retry(session: SessionDep, user: Manager) -> Response:
    notify.retry_failed(session, actor=user.username)
    session.commit()
    return redirect("/compliance/outbox")
