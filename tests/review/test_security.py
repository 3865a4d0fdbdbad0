"""The attacks of the ASVS level 2 review (issue 13), one test per finding, each against
the real app (uvicorn or the ASGI app itself, real SQLite and PostgreSQL, Debian's chromium
for the stored XSS). Each of them succeeded against the code before the fixes."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select, update
from typer.testing import CliRunner

from credflow.cli import app as cli
from credflow.commands.service import uvicorn_config
from credflow.settings import Settings
from credflow.web import installed_plugins
from ingest.intake import Intake
from models import ApiToken, AuditEvent, Database, Document, Provider, StoreLayout, WebSession
from models.base import utcnow
from review import auth
from review.app import SESSION_COOKIE
from tests.review.live import serving
from tests.review.test_api_support import (
    PASSWORD,
    add_users,
    client_as,
    csrf_of,
    make_app,
    post_form,
    post_json,
    seed_document,
    sign_in,
)

CREDFLOW = Path(sys.executable).parent / "credflow"
SCRIPT_PAYLOAD = """<!doctype html><html><body><h1>notes</h1><script>
document.title = "ran";
fetch("/api/me").then(r => r.json()).then(me => fetch("/api/providers", {
  method: "POST", credentials: "same-origin",
  headers: {"Content-Type": "application/json", "X-CSRF-Token": me.csrf_token},
  body: JSON.stringify({name: "Injected Provider"})}));
</script></body></html>"""


def _app(db: Database, data_dir: Path, **settings: Any) -> FastAPI:
    add_users(db)
    values = Settings(data_dir=data_dir, database_url=db.url, **settings)
    return make_app(db, data_dir, plugins=installed_plugins(), settings=values)


# ---- 1: stored XSS through the inbox ------------------------------------------------------


@pytest.mark.browser
def test_01_an_html_file_from_the_inbox_runs_no_script_in_a_managers_browser(
    db: Database, tmp_path: Path, browser: Any
) -> None:
    app = _app(db, tmp_path)
    layout = StoreLayout(tmp_path)
    dropped = layout.inbox / "notes.html"
    dropped.parent.mkdir(parents=True, exist_ok=True)
    dropped.write_text(SCRIPT_PAYLOAD)
    doc_id = Intake(db, layout).take_file(dropped, hint=None, remove=True).document_id

    with serving(app) as url:
        context = browser.new_context(accept_downloads=True)
        page = context.new_page()
        page.goto(f"{url}/login")
        page.fill("#username", "manager")
        page.fill("#password", PASSWORD)
        page.press("#password", "Enter")
        page.wait_for_url(f"{url}/queue*")
        # the manager opens the failed document's original, as from the Failed page
        with page.expect_download() as download:
            page.evaluate(
                "u => { window.location.href = u; }", f"{url}/documents/{doc_id}/original"
            )
        assert download.value.suggested_filename == "notes.html"
        # and a page that embeds it (the sandbox CSP keeps it from running there too)
        page.goto(f"{url}/queue")
        page.evaluate(
            """u => { const f = document.createElement('iframe'); f.src = u;
                      document.body.appendChild(f); }""",
            f"{url}/documents/{doc_id}/original",
        )
        page.wait_for_timeout(1500)
        assert page.title() != "ran"
        context.close()
        answer = httpx.get(f"{url}/documents/{doc_id}/original", cookies=_cookies(app, "manager"))
    with db.session() as s:
        assert s.scalar(select(Provider).where(Provider.name == "Injected Provider")) is None
    assert answer.headers["content-type"] == "application/octet-stream"
    assert answer.headers["content-disposition"].startswith("attachment")
    assert answer.headers["content-security-policy"] == "sandbox; default-src 'none'"


def _cookies(app: FastAPI, username: str) -> dict[str, str]:
    client = client_as(app, username)
    return {SESSION_COOKIE: client.cookies[SESSION_COOKIE]}


# ---- 2: sign-out, idle and absolute timeouts end the session ------------------------------


def test_02_a_saved_cookie_is_worthless_after_sign_out_idle_time_and_max_age(
    db: Database, tmp_path: Path
) -> None:
    app = _app(db, tmp_path)
    browser = client_as(app, "coordinator")
    saved = browser.cookies[SESSION_COOKIE]
    browser.post("/logout", data={"csrf_token": csrf_of(browser)})
    replay = TestClient(app, cookies={SESSION_COOKIE: saved})
    assert replay.get("/api/me").status_code == 401

    for column, age in (
        ("last_seen_at", timedelta(minutes=31)),
        ("created_at", timedelta(hours=13)),
    ):
        browser = client_as(app, "coordinator")
        assert browser.get("/api/me").status_code == 200
        with db.session() as s:
            s.execute(update(WebSession).values({column: utcnow() - age}))
        assert browser.get("/api/me").status_code == 401, column

    # a new password and a disabled account end every session at once
    browser, admin = client_as(app, "coordinator"), client_as(app, "admin")
    post_json(admin, "/api/users/coordinator/password", {"password": "a fresh long secret"})
    assert browser.get("/api/me").status_code == 401
    assert Settings().session_idle_seconds == 30 * 60
    assert Settings().session_max_age_seconds == 12 * 3600


# ---- 3: weak passwords --------------------------------------------------------------------


def test_03_weak_passwords_are_refused_with_a_reason(db: Database, tmp_path: Path) -> None:
    admin = client_as(_app(db, tmp_path), "admin")
    weak = {
        "password": "at least 12",
        "aaaaaaaaaaaaaaa": "repeated",
        " " * 12: "repeated",
        "nurse.kim.2024": "user name",
        "Password1234!": "most common",
        "qwertyuiop12": "most common",
    }
    for password, reason in weak.items():
        new = {"username": "nurse.kim.2024", "password": password, "role": "coordinator"}
        refused = post_json(admin, "/api/users", new)
        assert refused.status_code == 422, password
        assert reason in refused.json()["detail"], password
    good = {
        "username": "nurse.kim.2024",
        "password": "lantern orchard 7 fog",
        "role": "coordinator",
    }
    assert post_json(admin, "/api/users", good).status_code == 201
    assert len(auth.common_passwords()) == 10_000


# ---- 4 and 5: file modes, plain HTTP on a public address ----------------------------------


def _credflow(data_dir: Path, db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDFLOW_")}
    env |= {"CREDFLOW_DATA_DIR": str(data_dir), "CREDFLOW_DATABASE_URL": db_url}
    if db_url.startswith("sqlite"):
        del env["CREDFLOW_DATABASE_URL"]  # the default: credflow.db in the data folder
    return subprocess.run(
        [str(CREDFLOW), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_04_the_data_folder_and_its_files_are_private(db_url: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    scan = tmp_path / "scan.png"
    Image.new("RGB", (40, 40), "white").save(scan)
    taken = _credflow(data, db_url, "backfill", str(scan), "--workers", "0")
    assert taken.returncode == 0, taken.stderr
    made = [data, data / "inbox", data / "store", *data.glob("store/*"), *data.glob("store/*/*")]
    made += list(data.glob("credflow.db*"))
    assert len(made) >= 5
    for path in made:
        assert stat.S_IMODE(path.stat().st_mode) & 0o007 == 0, path
    assert stat.S_IMODE(data.stat().st_mode) == 0o700

    data.chmod(0o755)  # loosened by hand: said at start
    started = _credflow(data, db_url, "run", "--host", "0.0.0.0")
    assert "readable by other users" in started.stderr


def test_05_no_plain_http_on_a_public_address_secure_cookie_and_hsts_with_https(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    refused = _credflow(tmp_path / "data", db_url, "run", "--host", "0.0.0.0")
    assert refused.returncode == 2
    assert "refusing to serve 0.0.0.0 over plain HTTP" in refused.stderr

    app = _app(db, tmp_path, public_url="https://credentials.example.org")
    client = TestClient(app, base_url="https://testserver")
    signed_in = sign_in(client, "coordinator")
    assert signed_in.status_code == 303
    assert "secure" in signed_in.headers["set-cookie"].lower()
    assert signed_in.headers["strict-transport-security"].startswith("max-age=31536000")


# ---- 6: forged X-Forwarded-For, per-account backoff ---------------------------------------


def test_06_a_forged_forwarded_for_does_not_reset_the_address_limit(
    db: Database, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, database_url=db.url, login_attempts_per_minute=2)
    add_users(db)
    app = make_app(db, tmp_path, settings=settings, login_attempts_per_minute=2)
    assert settings.forwarded_allow_ips == ""
    with serving(app, uvicorn_config(app, settings)) as url:
        codes = []
        for n in range(12):
            with httpx.Client(base_url=url) as guesser:
                page = guesser.get("/login")
                token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
                answer = guesser.post(
                    "/login",
                    data={"username": f"guess{n}", "password": "x", "csrf_token": token},
                    headers={"X-Forwarded-For": f"203.0.113.{n}"},
                )
                codes.append(answer.status_code)
    assert codes[:10] == [401] * 10 and codes[10:] == [429, 429]


# ---- 7: bodies: auth first, a limit, no echo ----------------------------------------------


def test_07_anonymous_bodies_are_not_read_large_ones_get_413_errors_do_not_echo(
    db: Database, tmp_path: Path
) -> None:
    app = _app(db, tmp_path)
    big = b'{"name": "' + b"A" * (20 << 20) + b'"}'
    anonymous = TestClient(app)
    anonymous.get("/login")
    headers = {"Content-Type": "application/json", "X-CSRF-Token": csrf_of(anonymous)}
    refused = anonymous.post("/api/providers", content=big, headers=headers)
    assert refused.status_code == 401 and len(refused.content) < 500

    with db.session() as s:
        token = auth.create_token(s, "coordinator")
    bearer = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    client = TestClient(app)
    assert client.post("/api/providers", content=big, headers=bearer).status_code == 413
    chunks = (b"A" * (256 << 10) for _ in range(8))  # no Content-Length: counted as it comes
    assert client.post("/api/providers", content=chunks, headers=bearer).status_code == 413

    marker = "Maria-Elena-Secret-Value"
    invalid = client.post("/api/providers", json={"name": 5, "npi": [marker]}, headers=bearer)
    assert invalid.status_code == 422
    assert marker not in invalid.text
    assert set(invalid.json()) == {"detail", "errors"}


# ---- 8: integers beyond 64 bits -----------------------------------------------------------


def test_08_huge_integers_are_answered_422_or_404_never_500(db: Database, tmp_path: Path) -> None:
    app = _app(db, tmp_path)
    admin = client_as(app, "admin")
    huge = "99999999999999999999"
    for url in (
        f"/api/documents/{huge}",
        f"/api/documents?offset={huge}",
        f"/api/documents?provider_id={huge}",
        f"/api/audit?before_id={huge}",
        f"/api/providers/{2**40}",
        f"/documents/{huge}/original",
        f"/documents/1/pages/{huge}.png",
        f"/api/providers/{2**40}/compliance",
    ):
        assert admin.get(url).status_code in (404, 422), url
    assert admin.get(f"/queue?page={huge}").status_code == 200
    assert admin.get(f"/review/{huge}").status_code in (404, 422)


# ---- 9: no state change on GET ------------------------------------------------------------


def test_09_a_cross_site_link_claims_nothing_and_signs_nobody_out(
    db: Database, tmp_path: Path
) -> None:
    app = _app(db, tmp_path)
    doc_id = seed_document(db, StoreLayout(tmp_path))
    coordinator = client_as(app, "coordinator")
    assert coordinator.get("/review/next", follow_redirects=False).status_code in (405, 422)
    assert coordinator.get(f"/review/{doc_id}").status_code == 200
    assert coordinator.get("/logout", follow_redirects=False).status_code == 405
    assert coordinator.get("/api/me").status_code == 200  # still signed in
    with db.session() as s:
        assert s.get(Document, doc_id).claimed_by_id is None  # type: ignore[union-attr]
    # the page's own form (with the CSRF token) claims it
    assert post_form(coordinator, f"/review/{doc_id}/start").status_code == 303
    with db.session() as s:
        assert s.get(Document, doc_id).claimed_by_id is not None  # type: ignore[union-attr]
    bare = TestClient(app, cookies=coordinator.cookies).post("/review/next")
    assert bare.status_code == 403


# ---- 10: API tokens -----------------------------------------------------------------------


def test_10_tokens_expire_can_be_read_only_and_end_with_a_reset_or_role_change(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    app = _app(db, tmp_path)
    client = TestClient(app)
    with db.session() as s:
        default = auth.create_token(s, "coordinator")
        reader = auth.create_token(s, "coordinator", read_only=True)
        expiring = auth.create_token(s, "manager", days=1)
        expiry = [t.expires_at for t in s.scalars(select(ApiToken).order_by(ApiToken.id))]
    assert expiry[0] is not None and expiry[2] is not None
    assert abs(expiry[0] - utcnow() - timedelta(days=90)) < timedelta(minutes=5)
    assert abs(expiry[2] - utcnow() - timedelta(days=1)) < timedelta(minutes=5)

    def call(token: str, method: str = "GET") -> int:
        headers = {"Authorization": f"Bearer {token}"}
        if method == "GET":
            return client.get("/api/documents", headers=headers).status_code
        return client.post("/api/providers", json={"name": "Ann Lee"}, headers=headers).status_code

    assert call(reader) == 200 and call(reader, "POST") == 403
    assert call(expiring) == 200
    with db.session() as s:
        s.execute(update(ApiToken).where(ApiToken.read_only.is_(False)).values(expires_at=utcnow()))
    assert call(expiring) == 401 and call(default) == 401

    admin = client_as(app, "admin")
    with db.session() as s:
        after_reset = auth.create_token(s, "coordinator")
        after_role = auth.create_token(s, "manager")
    post_json(admin, "/api/users/coordinator/password", {"password": "another long secret"})
    assert call(after_reset) == 401 and call(reader) == 401
    with db.session() as s:
        auth.set_role(s, "manager", "coordinator", actor="admin")
    assert call(after_role) == 401

    with db.session() as s:
        auth.create_token(s, "auditor", read_only=True, days=30)
    env = {"CREDFLOW_DATABASE_URL": db_url, "CREDFLOW_DATA_DIR": str(tmp_path)}
    listed = CliRunner().invoke(cli, ["token", "list"], env=env)
    assert listed.exit_code == 0, listed.output
    assert "auditor" in listed.output and "read-only" in listed.output
    assert "cf_" not in listed.output  # never the token itself


# ---- 11: peers' passwords, look-alike user names ------------------------------------------


def test_11_managers_reset_no_peer_own_password_needs_the_current_one_no_look_alikes(
    db: Database, tmp_path: Path
) -> None:
    app = _app(db, tmp_path)
    with db.session() as s:
        auth.create_user(s, "ceo", PASSWORD, "manager")
    manager, admin = client_as(app, "manager"), client_as(app, "admin")
    new = {"password": "lantern orchard 7 fog"}
    assert post_json(manager, "/api/users/ceo/password", new).status_code == 403
    assert post_json(manager, "/api/users/manager/password", new).status_code == 403
    assert post_json(manager, "/api/users/coordinator/password", new).status_code == 200
    assert post_json(admin, "/api/users/ceo/password", new).status_code == 200

    for look_alike in ("CEO", "ceo\u200b", "\u0441eo", "ce0", "c.e.o", "ＣＥＯ"):
        body = {"username": look_alike, "password": "lantern orchard 7 fog", "role": "auditor"}
        assert post_json(admin, "/api/users", body).status_code in (409, 422), look_alike
    with db.session() as s:
        assert auth.check_username("  Dr.Lee  ") == "dr.lee"
        names = list(s.scalars(select(auth.User.username)))
    assert sorted(names) == ["admin", "auditor", "ceo", "coordinator", "manager"]
    # signing in takes the name as it was typed, case and width aside
    assert sign_in(TestClient(app), "CEO", "lantern orchard 7 fog").status_code == 303


# ---- 12: no caching of personal data ------------------------------------------------------


def test_12_every_authenticated_answer_is_no_store(db: Database, tmp_path: Path) -> None:
    app = _app(db, tmp_path)
    doc_id = seed_document(db, StoreLayout(tmp_path))
    reader = client_as(app, "auditor")
    for url in (
        "/queue",
        f"/review/{doc_id}",
        "/api/me",
        "/api/documents",
        f"/api/documents/{doc_id}",
        f"/documents/{doc_id}/pages/1.png",
        f"/documents/{doc_id}/original",
        "/compliance",
    ):
        answer = reader.get(url)
        assert answer.status_code == 200, url
        assert answer.headers["cache-control"] == "no-store", url


# ---- 13: CSP, API docs, refused requests audited, inbox folders ---------------------------


def test_13_strict_csp_local_api_docs_refusals_audited_person_folders_removed(
    db: Database, tmp_path: Path
) -> None:
    app = _app(db, tmp_path)
    layout = StoreLayout(tmp_path)
    doc_id = seed_document(db, layout)
    coordinator = client_as(app, "coordinator")
    for url in ("/login", "/queue", f"/review/{doc_id}", "/failed", "/compliance"):
        answer = coordinator.get(url)
        csp = answer.headers["content-security-policy"]
        assert "script-src 'self';" in csp and "unsafe-inline" not in csp, url
        assert "style=" not in answer.text, url  # no inline styles the CSP would block
        scripts = answer.text.split("<script")[1:]
        assert all(" src=" in s.split(">")[0] or "application/json" in s for s in scripts), url

    assert TestClient(app).get("/docs", follow_redirects=False).status_code == 303
    docs = coordinator.get("/docs")
    assert docs.status_code == 200 and "/docs-assets/swagger-ui-bundle.js" in docs.text
    assert "cdn" not in docs.text and TestClient(app).get("/redoc").status_code == 404
    assert coordinator.get("/docs-assets/swagger-ui-bundle.js").status_code == 200

    assert (
        post_json(coordinator, "/api/users", {"username": "x", "password": "y"}).status_code == 403
    )
    assert coordinator.post("/api/providers", json={"name": "No Token"}).status_code == 403
    with db.session() as s:
        notes = list(
            s.scalars(select(AuditEvent.note).where(AuditEvent.action == "request.refused"))
        )
    assert notes == ["403 POST /api/users", "403 POST /api/providers"]

    folder = layout.inbox / "Gonzalez, Maria"
    folder.mkdir(parents=True)
    shutil.copy(layout.page_image(_sha(db, doc_id), 1), folder / "licence.png")
    Intake(db, layout).take_file(folder / "licence.png", hint="Gonzalez, Maria", remove=True)
    assert not folder.exists() and layout.inbox.is_dir()


def _sha(db: Database, doc_id: int) -> str:
    with db.session() as s:
        doc = s.get(Document, doc_id)
        assert doc is not None and doc.sha256 is not None
        return doc.sha256
