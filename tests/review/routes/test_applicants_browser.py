"""The applicant's walk in a real browser (Debian's chromium, Playwright) against the app on
uvicorn: a coordinator creates the candidate, opens the checklist (the agencies named),
e-mails the missing-items letter (received by aiosmtpd), records each primary-source
verification with the page's form until the file is ready for the committee, and moves it
along to the committee, where the Applicants view shows it ready. Screenshots (copied
into docs/ for the README): the checklist page, and the letter's PDF rendered with pdftoppm."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

from credflow.settings import Settings
from models import Database
from tests.compliance.applicant_support import add_documents
from tests.compliance.test_notify import SmtpServer, smtp  # noqa: F401  (the SMTP fixture)
from tests.review.live import serving
from tests.review.test_api_support import PASSWORD, add_users, make_app

# written beside the other browser tests' screenshots; docs/ holds the copies the README shows
SHOTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "screenshots"
CREATE = """async (body) => {
  const token = JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token'];
  const r = await fetch('/api/providers', {method: 'POST', body: JSON.stringify(body),
    headers: {'Content-Type': 'application/json', 'X-CSRF-Token': token}});
  return [r.status, await r.json()];
}"""


def _sign_in(page: Any, url: str) -> None:
    page.goto(f"{url}/login")
    page.fill("#username", "coordinator")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def _verify_one(page: Any, day: date) -> str:
    """Fill the verification form for the last item it offers (not the preselected one, so
    the choice must reach the server); returns that item's label."""
    option = page.locator("#verify-form select[name=credential] option").last
    label = str(option.inner_text())
    page.select_option("#verify-form select[name=credential]", option.get_attribute("value"))
    page.fill("#verify-form input[name=source]", f"Primary source for {label}")
    page.select_option("#verify-form select[name=method]", "online_lookup")
    page.fill("#verify-form input[name=verified_on]", day.isoformat())
    page.select_option("#verify-form select[name=result]", "verified")
    page.click("#verify-form button[type=submit]")
    page.wait_for_url("**/checklist?done=verified")
    return label


def _walk(page: Any, url: str, db: Database, smtp: SmtpServer) -> int:  # noqa: F811
    _sign_in(page, url)
    status, made = page.evaluate(
        CREATE,
        {
            "name": "Ana Ruiz",
            "email": "ana.ruiz@example.org",
            "staff_category": "physician",
            "department": "Internal Medicine",
            "states": ["CA", "NY"],
            "status": "applicant",
        },
    )
    assert status == 201, made
    pid = int(made["id"])
    page.goto(f"{url}/providers/{pid}/checklist")
    row = page.locator('tr[data-requirement="state_license:CA"]')
    assert "Medical Board of California" in row.inner_text()
    assert row.get_attribute("data-status") == "missing"
    page.click("#send-letter")
    page.wait_for_url("**/checklist?done=letter")
    assert "Missing-items letter queued" in page.inner_text("main")
    (msg,) = smtp.messages
    assert "State medical licence (NY) (missing): New York State Education Department" in (
        msg.get_content()
    )
    assert "letter" in page.inner_text("ul.letters")
    with db.session() as s:
        add_documents(s, pid)  # the documents arrive and are approved in the review screen
    page.reload()
    return pid


def test_applicant_walk_in_the_browser(
    browser: Any,
    smtp: SmtpServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    db = Database(f"sqlite:///{tmp_path / 'credflow.db'}")  # the API walk runs on both
    db.upgrade()
    add_users(db)
    settings = Settings(
        data_dir=tmp_path,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_from="credentialing@hospital.example",
    )
    app = make_app(db, tmp_path, settings=settings)
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    page = context.new_page()
    SHOTS.mkdir(parents=True, exist_ok=True)
    with serving(app) as url:
        pid = _walk(page, url, db, smtp)
        day = date.today() - timedelta(days=7)
        done = [_verify_one(page, day) for _ in range(6)]
        assert len(set(done)) == 6
        assert page.locator("#ready").inner_text().startswith("Not ready")
        page.screenshot(path=str(SHOTS / "checklist.png"), full_page=True)
        while page.locator("#verify-form").count():
            done.append(_verify_one(page, day))
        assert len(done) == 12  # 8 items of the physician set, 2 references, 2 employers
        assert page.inner_text("#ready") == "Ready for committee"
        for step in ("in review", "committee"):
            page.click(f"button:has-text('Move to {step}')")
            page.wait_for_url("**/checklist?done=status")
        assert page.inner_text(".provider-status") == "committee"
        page.goto(f"{url}/applicants")
        committee = page.locator("#status-committee")
        assert "Ana Ruiz" in committee.inner_text() and "ready" in committee.inner_text()
        cookies = {c["name"]: c["value"] for c in context.cookies()}
        pdf = httpx.get(f"{url}/providers/{pid}/missing-items-letter.pdf", cookies=cookies)
    context.close()
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    _letter_png(db, pid, tmp_path)
    db.dispose()


def _letter_png(db: Database, pid: int, tmp_path: Path) -> None:
    """The letter as the candidate gets it on paper, before anything arrived: a new
    candidate's PDF rendered with pdftoppm for the README."""
    from compliance.checklist import build_checklist
    from compliance.letters import render_missing_items_pdf
    from compliance.requirements import load_requirements
    from tests.compliance.applicant_support import add_applicant

    with db.session() as s:
        fresh = add_applicant(s)
        add_documents(s, fresh, only={"license_ca", "degree", "board"})
        pdf = render_missing_items_pdf(build_checklist(s, load_requirements(), fresh, date.today()))
    if shutil.which("pdftoppm") is None:  # pragma: no cover - depends on the machine
        return
    (tmp_path / "letter.pdf").write_bytes(pdf)
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "80",
            "-singlefile",
            str(tmp_path / "letter.pdf"),
            str(SHOTS / "missing-items-letter"),
        ],
        check=True,
    )
    assert (SHOTS / "missing-items-letter.png").stat().st_size > 10_000
