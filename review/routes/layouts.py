"""Learned layouts for managers: what credflow learned from confirmations, and forgetting
one (an audit event). Holds no personal values: static labels, field names and counts."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from models import record_event
from models.learned_layout import forget_layout, layout_summaries
from review.deps import MANAGERS, Manager, SessionDep, get_state

router = APIRouter(tags=["layouts"])
NAV = ("Layouts", "/layouts", MANAGERS)


@router.get("/layouts", include_in_schema=False)
def layouts_page(request: Request, session: SessionDep, user: Manager) -> Response:
    learning = get_state(request).config.learning
    context = {"layouts": layout_summaries(session), "learning": learning, "forgotten": None}
    context["forgotten"] = request.query_params.get("forgotten")
    return get_state(request).templates.TemplateResponse(request, "layouts.html", context)


@router.get("/layouts/{layout_id}", include_in_schema=False)
def layout_page(layout_id: int, request: Request, session: SessionDep, user: Manager) -> Response:
    found = layout_summaries(session, layout_id)
    if not found:
        raise HTTPException(404, f"No learned layout {layout_id}.")
    context = {"layout": found[0]}
    return get_state(request).templates.TemplateResponse(request, "layout.html", context)


@router.post("/layouts/{layout_id}/forget", include_in_schema=False)
def forget(layout_id: int, session: SessionDep, user: Manager) -> Response:
    if not forget_layout(session, layout_id):
        raise HTTPException(404, f"No learned layout {layout_id}.")
    record_event(
        session,
        actor=user.username,
        action="layout.forgotten",
        entity_type="learned_layout",
        entity_id=layout_id,
        note="forgotten from the layouts page",
    )
    session.commit()
    return RedirectResponse(f"/layouts?forgotten={layout_id}", status_code=303)
