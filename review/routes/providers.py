"""Clinicians: the API's list, search, suggestions, creation, details (`GET` / `PATCH` /
`DELETE /api/providers/{id}`) and credentials, and the credentials page `/providers/{id}`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Query, status
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from compliance.providers import ProviderPatch, patch_provider
from models import (
    Credential,
    Provider,
    User,
    record_event,
)
from review.approve import npi_problem
from review.deps import (
    Manager,
    Reader,
    Reviewer,
    SessionDep,
    StateDep,
)
from review.documents import find_document
from review.providers import search_providers, suggest_providers
from review.routes.removal import RemovalIn, api_remove
from review.schemas import (
    MAX_ID,
    CredentialList,
    CredentialOut,
    Offset,
    ProviderId,
    ProviderIn,
    ProviderList,
    ProviderOut,
    SuggestionList,
    SuggestionOut,
)

api = APIRouter(prefix="/api", tags=["api"])
# PATCH and DELETE keep the tags of their resource area (compliance, records)
changes = APIRouter(prefix="/api")

# ---- providers ------------------------------------------------------------------------


@api.get("/providers", response_model=ProviderList)
def list_providers(
    session: SessionDep,
    user: Reader,
    q: Annotated[str, Query(max_length=200)] = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    offset: Offset = 0,
) -> ProviderList:
    """Search by name (every word) or NPI (digits)."""
    found = search_providers(session, q, limit=limit, offset=offset)
    return ProviderList(items=[ProviderOut.model_validate(p) for p in found])


@api.post("/providers", response_model=ProviderOut, status_code=status.HTTP_201_CREATED)
def create_provider(body: ProviderIn, session: SessionDep, user: Reviewer) -> ProviderOut:
    npi = (body.npi or "").replace(" ", "") or None
    if npi and (problem := npi_problem(npi)):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, problem)
    if npi and session.scalar(select(Provider.id).where(Provider.npi == npi)) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, "A provider with this NPI exists already.")
    given = body.model_dump(include=body.model_fields_set - {"name", "npi"}, exclude_none=True)
    if body.status:  # only staff on the list are "active" (clinicians' reminders, dashboard)
        given["active"] = body.status == "active"
    provider = Provider(name=" ".join(body.name.split()), npi=npi, **given)
    given_json = body.model_dump(mode="json", include=set(given))
    session.add(provider)
    session.flush()
    record_event(
        session,
        actor=user.username,
        action="provider.created",
        entity_type="provider",
        entity_id=provider.id,
        detail={"name": provider.name, "npi": npi, **given_json},
        provider_id=provider.id,
    )
    session.commit()
    return ProviderOut.model_validate(provider)


@api.get("/providers/suggest", response_model=SuggestionList)
def suggest(
    document_id: Annotated[int, Query(ge=1, le=MAX_ID)], session: SessionDep, user: Reader
) -> SuggestionList:
    """Providers for a document: same NPI first, then similar names."""
    find_document(session, document_id)
    return SuggestionList(
        items=[SuggestionOut(**s.__dict__) for s in suggest_providers(session, document_id)]
    )


def _provider(session: Session, provider_id: int) -> Provider:
    provider = session.get(Provider, provider_id)
    if provider is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No provider {provider_id}.")
    return provider


@api.get("/providers/{provider_id}", response_model=ProviderOut)
def get_provider(provider_id: ProviderId, session: SessionDep, user: Reader) -> ProviderOut:
    return ProviderOut.model_validate(_provider(session, provider_id))


@api.get("/providers/{provider_id}/credentials", response_model=CredentialList)
def provider_credentials(
    provider_id: ProviderId, session: SessionDep, user: Reader
) -> CredentialList:
    _provider(session, provider_id)
    Verifier = aliased(User)
    rows = session.execute(
        select(Credential, Verifier.username)
        .outerjoin(Verifier, Credential.verified_by_id == Verifier.id)
        .where(Credential.provider_id == provider_id)
        .order_by(Credential.doc_type, Credential.expiration_date, Credential.id)
    )
    items = []
    for cred, verifier in rows:
        out = CredentialOut.model_validate(cred)
        out.verified_by = verifier
        items.append(out)
    return CredentialList(items=items)


@changes.patch("/providers/{provider_id}", tags=["compliance"])
def api_patch_provider(
    provider_id: int, patch: ProviderPatch, session: SessionDep, user: Reviewer
) -> dict[str, Any]:
    """Set email, staff_category, department, states and/or active."""
    out = patch_provider(session, provider_id, patch, user.username)
    session.commit()
    return out


@changes.delete(
    "/providers/{provider_id}", status_code=204, response_class=Response, tags=["records"]
)
def delete_provider(
    provider_id: int,
    state: StateDep,
    user: Manager,
    reason: str | None = Query(None),
    body: RemovalIn | None = Body(None),
) -> Response:
    """Remove everything about a clinician (files, pages, fields, credentials, requests,
    personal values in the audit trail). `reason` (JSON body or query) is required.
    204 when removed; 409 with the hold's reason while a retention hold applies."""
    return api_remove(state, "provider", provider_id, reason, body, user)


router = APIRouter()
router.include_router(api)
router.include_router(changes)
