"""Helpers the review API, auth and access tests share (no tests here): an app on a real
database, signed-in clients for each role, and documents as ingest leaves them."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher, profiles
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image

from credflow.settings import Settings
from credflow.web import web_config
from models import Database, Document, DocumentField, DocumentPage, DocumentStatus, StoreLayout
from models.base import utcnow
from review import auth
from review.app import SESSION_COOKIE, create_app
from review.config import WebConfig
from review.plugins import Plugin

# The same argon2id, with the cheapest parameters: the suite signs in hundreds of times on a
# shared machine. test_auth checks that the app's own default is RFC 9106's profile.
auth.use_password_hasher(PasswordHasher.from_parameters(profiles.CHEAPEST))

PASSWORD = "correct horse battery"
ROLES = ("coordinator", "manager", "auditor", "admin")
# a valid NPI (Luhn over 80840 + first nine digits) and DEA number (check digit 1)
NPI = "1234567893"
DEA = "BG1234563"

LICENSE_FIELDS: dict[str, tuple[str, float]] = {
    "person_name": ("Maria Elena Gonzalez", 0.97),
    "credential_number": ("35.123456", 0.62),
    "issuer": ("State Medical Board Of Ohio", 0.91),
    "jurisdiction": ("OH", 0.99),
    "credential_title": ("Physician And Surgeon", 0.88),
    "issue_date": ("2018-03-03", 0.95),
    "expiration_date": ("2027-01-01", 0.55),
    "npi": (NPI, 0.93),
}


def make_app(
    db: Database,
    data_dir: Path,
    *,
    settings: Settings | None = None,
    plugins: Sequence[Plugin] = (),
    **overrides: Any,
) -> FastAPI:
    """The app with the web config made from `settings` (as `credflow run` makes it), and
    `overrides` of its fields (`https_only` sets `secure_cookies`)."""
    config = web_config(settings) if settings is not None else WebConfig()
    overrides.setdefault("login_attempts_per_minute", 100)
    if "https_only" in overrides:
        overrides["secure_cookies"] = overrides.pop("https_only")
    config = replace(config, **overrides)
    secret = "test-secret-" + "x" * 20
    return create_app(db, StoreLayout(data_dir), config, secret_key=secret, plugins=plugins)


def add_users(db: Database) -> None:
    """One account per role, named after the role."""
    with db.session() as session:
        for role in ROLES:
            auth.create_user(session, role, PASSWORD, role)


def csrf_of(client: TestClient) -> str:
    """The CSRF token of the client's session, read from its signed session cookie."""
    cookie = client.cookies.get(SESSION_COOKIE)
    assert cookie, "no session cookie yet"
    payload = cookie.split(".")[0]
    data = json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4)))
    return str(data["csrf"])


def login_form_token(client: TestClient) -> str:
    """The hidden csrf_token of the sign-in form, as a browser would submit it."""
    page = client.get("/login")
    assert page.status_code == 200
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, "the sign-in form carries no csrf_token"
    return match.group(1)


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> Any:
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": login_form_token(client)},
        follow_redirects=False,
    )


def client_as(app: FastAPI, username: str | None) -> TestClient:
    """A browser-like client, signed in as `username` (None: nobody)."""
    client = TestClient(app, base_url="http://testserver")
    if username is not None:
        response = sign_in(client, username)
        assert response.status_code == 303, response.text
    return client


def post_form(client: TestClient, url: str, data: dict[str, Any] | None = None) -> Any:
    """A form POST carrying the session's CSRF token, as the pages send them."""
    return client.post(
        url, data={**(data or {}), "csrf_token": csrf_of(client)}, follow_redirects=False
    )


def post_json(client: TestClient, url: str, body: Any = None, **kwargs: Any) -> Any:
    """A script's POST from a signed-in page: JSON with the X-CSRF-Token header."""
    return client.post(url, json=body, headers={"X-CSRF-Token": csrf_of(client)}, **kwargs)


def seed_document(
    db: Database,
    layout: StoreLayout,
    *,
    name: str = "lic_0001.png",
    doc_type: str = "medical_license",
    fields: dict[str, tuple[str, float]] | None = None,
    status: str = DocumentStatus.AWAITING_REVIEW,
    hint: str | None = "Gonzalez, Maria",
    expires_on: str | None = None,
    age_days: float = 0.0,
) -> int:
    """A document as ingest leaves it: stored original, one page image, proposed fields."""
    fields = LICENSE_FIELDS if fields is None else fields
    image = Image.new("RGB", (850, 1100), "white")
    original = layout.data_dir / "scratch" / name
    original.parent.mkdir(parents=True, exist_ok=True)
    image.save(original, format="PNG")
    data = original.read_bytes() + name.encode()  # distinct bytes per document
    sha = hashlib.sha256(data).hexdigest()
    layout.original(sha).parent.mkdir(parents=True, exist_ok=True)
    layout.original(sha).write_bytes(data)
    layout.page_image(sha, 1).parent.mkdir(parents=True, exist_ok=True)
    image.save(layout.page_image(sha, 1), format="PNG")
    with db.session() as session:
        doc = Document(
            sha256=sha,
            filename=name,
            hint=hint,
            size=len(data),
            media_type="image/png",
            status=status,
            doc_type=doc_type,
            doc_type_confidence=0.9,
            page_count=1,
            min_confidence=min((c for _, c in fields.values()), default=None),
            expires_on=expires_on,
            created_at=utcnow() - timedelta(days=age_days),
        )
        session.add(doc)
        session.flush()
        session.add(
            DocumentPage(
                document_id=doc.id,
                number=1,
                width=850,
                height=1100,
                source="ocr",
                text="",
                words=[["Ohio", 0.9, 0.1, 0.1, 0.2, 0.12]],
            )
        )
        for i, (field, (value, confidence)) in enumerate(fields.items()):
            session.add(
                DocumentField(
                    document_id=doc.id,
                    name=field,
                    value=value,
                    confidence=confidence,
                    page=1,
                    box=[0.1, round(0.05 * (i + 1), 4), 0.5, round(0.05 * (i + 1) + 0.03, 4)],
                    candidates=[],
                    problems=[],
                )
            )
        return doc.id
