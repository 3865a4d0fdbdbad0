"""What the JSON API takes and answers (pydantic models) and its typed path parameters."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field

from compliance.providers import ProviderPatch

# ids are 32-bit integers on PostgreSQL: larger numbers name nothing (422, never a 500)
MAX_ID = 2**31 - 1
DocumentId = Annotated[int, Path(ge=1, le=MAX_ID)]
ProviderId = Annotated[int, Path(ge=1, le=MAX_ID)]
PageNumber = Annotated[int, Path(ge=1, le=10_000)]
Offset = Annotated[int, Query(ge=0, le=MAX_ID)]


class Order(StrEnum):
    NEWEST = "newest"
    OLDEST = "oldest"
    PRIORITY = "priority"


# ---- response and request models ------------------------------------------------------


class DocumentItem(BaseModel):
    id: int
    filename: str
    sha256: str | None
    status: str
    doc_type: str | None
    doc_type_confidence: float | None = None
    error: str | None
    hint: str | None
    created_at: datetime
    min_confidence: float | None
    page_count: int | None = None
    expires_on: str | None = None
    provider_id: int | None = None
    claimed_by: str | None = None
    claim_expires_at: datetime | None = None
    review_note: str | None = None
    reviewed_at: datetime | None = None


class DocumentList(BaseModel):
    items: list[DocumentItem]
    total: int


class FieldOut(BaseModel):
    value: str | None
    confidence: float
    page: int | None
    box: list[float] | None
    candidates: list[dict[str, Any]] = []
    problems: list[str] = []
    # where the value came from when not the rules alone ("from 3 confirmed documents ...")
    source: str | None = None


class PageOut(BaseModel):
    number: int
    width: float
    height: float
    source: str
    rotation: int = 0
    image_url: str


class DocumentDetail(DocumentItem):
    fields: dict[str, FieldOut]
    pages: list[PageOut]
    needs_information: str | None = None


class Counts(BaseModel):
    by_status: dict[str, int]
    # documents awaiting review, per doc_type ("unknown" when not yet classified)
    awaiting_by_doc_type: dict[str, int]


class ApproveIn(BaseModel):
    doc_type: str = Field(max_length=50)
    fields: dict[str, str | int | float | None]
    provider_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class ApproveOut(BaseModel):
    provider_id: int
    credential_ids: list[int]
    provider_created: bool = False


class RejectIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class NoteIn(BaseModel):
    note: str = Field(min_length=1, max_length=2000)


class DecisionOut(BaseModel):
    document_id: int
    status: str


class ClaimOut(BaseModel):
    document_id: int
    claimed_by: str
    expires_at: datetime


class ReleaseOut(BaseModel):
    document_id: int
    released: bool


class NextOut(BaseModel):
    document: DocumentItem | None


class ProviderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    npi: str | None
    email: str | None
    staff_category: str | None
    department: str | None
    states: list[str]
    active: bool
    created_at: datetime
    date_of_birth: date | None = None
    other_names: list[str] = []
    status: str = "active"
    status_since: datetime | None = None


class ProviderList(BaseModel):
    items: list[ProviderOut]


class ProviderIn(ProviderPatch):
    """Every field PATCH takes (states, active, date_of_birth, other_names...), and these."""

    name: str = Field(min_length=1, max_length=200)
    npi: str | None = None
    # a candidate starts as "applicant"; status changes later go through /status
    status: (
        Literal["applicant", "in_review", "committee", "active", "denied", "inactive"] | None
    ) = None


class SuggestionOut(BaseModel):
    provider_id: int
    name: str
    npi: str | None
    score: float
    reason: str


class SuggestionList(BaseModel):
    items: list[SuggestionOut]


class CredentialOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    provider_id: int
    document_id: int | None
    doc_type: str
    credential_number: str | None
    issuer: str | None
    jurisdiction: str | None
    credential_title: str | None
    issue_date: Any
    expiration_date: Any
    start_date: Any
    end_date: Any
    npi: str | None
    schedules: str | None
    credit_hours: str | None
    referee_name: str | None
    verified_by_id: int | None
    verified_by: str | None = None
    verified_at: datetime
    problems: str | None


class CredentialList(BaseModel):
    items: list[CredentialOut]


class Me(BaseModel):
    id: int
    username: str
    role: str
    can_review: bool
    can_manage: bool
    csrf_token: str | None = None
