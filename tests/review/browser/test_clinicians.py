"""The clinicians in a real browser (Debian's chromium through Playwright) against the real
app on uvicorn: walk the directory, search it, filter it, page it and open a clinician's
file; change the details with the keyboard alone. The screenshots of the directory and
the file (the README's) are saved with the test artifacts."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from models import AuditEvent, Credential, Provider
from models.compliance import CommitteeDecision
from tests.compliance.clinician_support import SampleFile, seed_file
from tests.review.browser.conftest import PASSWORD
from tests.review.live import serving

pytestmark = pytest.mark.browser

FIRST = [
    "Aisha",
    "Ben",
    "Carmen",
    "David",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jamal",
    "Kate",
    "Luis",
    "Mei",
    "Noah",
    "Olga",
]
LAST = [
    "Okafor",
    "Lindqvist",
    "Reyes",
    "Nakamura",
    "Haddad",
    "Brennan",
    "Kowalski",
    "Osei",
    "Marchetti",
    "Dubois",
]
DEPARTMENTS = ["Emergency Medicine", "Family Medicine", "ICU", "Surgery", "Cardiology"]
CATEGORIES = ["physician", "registered_nurse", "advanced_practice_nurse", "physician_assistant"]


@dataclass
class Site:
    url: str
    db: Any
    sample: SampleFile


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    from credflow.context import open_context
    from credflow.web import build_app
    from review import auth

    data_dir = tmp_path_factory.mktemp("clinicians") / "data"
    ctx = open_context(data_dir, database_url=f"sqlite:///{data_dir / 'credflow.db'}")
    today = datetime.now(UTC).date()
    sample = seed_file(ctx.db, ctx.layout, today)
    rng = random.Random(12)
    with ctx.db.session() as s:
        for name, role in {
            "alice": "coordinator",
            "morgan": "manager",
            "audrey": "auditor",
        }.items():
            auth.create_user(s, name, PASSWORD, role)
        names = sorted({f"{f} {last}" for f in FIRST for last in LAST})
        for n, name in enumerate(rng.sample(names, 72)):
            add_clinician(s, n, name, rng.randint(15, 50), today)
    with serving(build_app(ctx)) as url:
        yield Site(url, ctx.db, sample)
    ctx.close()


def add_clinician(s: Any, n: int, name: str, lapse_days: int, today: date) -> None:
    """Most hold everything; every fifth has a licence lapsing soon, every seventh lacks
    the insurance, every eleventh is inactive."""
    category = CATEGORIES[n % 4]
    p = Provider(
        name=name,
        npi=f"{1_234_500_000 + n * 7:010d}",
        email=name.lower().replace(" ", ".") + "@example.org",
        staff_category=category,
        department=DEPARTMENTS[n % 5],
        states=[["CA"], ["OR"], ["CA", "NV"], ["WA"]][n % 4],
        active=n % 11 != 5,
    )
    s.add(p)
    s.flush()
    doctor = category in ("physician", "physician_assistant")
    licence_days = lapse_days if n % 5 == 0 else 500
    for st in p.states:
        s.add(
            Credential(
                provider_id=p.id,
                doc_type="medical_license" if doctor else "nursing_license",
                jurisdiction=st,
                credential_number=f"{st}{40_000 + n}",
                expiration_date=today + timedelta(days=licence_days),
            )
        )
    held: list[tuple[str, str | None, str | None, int | None]] = [
        ("dea_registration", p.states[0], None, 600),
        ("board_certification", None, "Internal Medicine", None),
        ("diploma", None, "Doctor of Medicine", None),
        ("life_support_card", None, "BLS Provider", None),
        ("cme_certificate", None, "Grand rounds", None),
    ]
    if n % 7:
        held.append(("malpractice_insurance", None, None, 300))
    for doc_type, state, title, days in held:
        s.add(
            Credential(
                provider_id=p.id,
                doc_type=doc_type,
                jurisdiction=state,
                credential_title=title,
                credit_hours="60" if doc_type == "cme_certificate" else None,
                issue_date=today - timedelta(days=60),
                expiration_date=today + timedelta(days=days) if days else None,
            )
        )
    s.add(
        CommitteeDecision(
            provider_id=p.id, decided_on=today - timedelta(days=300), decision="approved"
        )
    )


def sign_in(page: Any, url: str, username: str, then: str) -> None:
    page.goto(f"{url}/login?next={then}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.press("input[name=password]", "Enter")
    page.wait_for_url(f"{url}{then}*")


def result_names(page: Any) -> list[str]:
    return [t.strip() for t in page.locator("#results tbody td:first-child a").all_inner_texts()]


def test_walk_search_filter_page_and_open_the_file(
    site: Site, browser: Any, screenshots: Path
) -> None:
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, site.url, "morgan", "/queue")
    # "Clinicians" is in the top navigation
    page.get_by_role("link", name="Clinicians").click()
    page.wait_for_url(f"{site.url}/providers")
    summary = page.locator(".results-summary")
    assert "clinicians" in summary.inner_text() and "page 1 of 2" in summary.inner_text()
    first = result_names(page)
    assert len(first) == 50 and first == sorted(first)
    page.screenshot(path=str(screenshots / "clinicians-directory.png"), full_page=False)

    # the live search: typing updates the results and the shareable URL
    page.fill("#f-q", "gonzalez")
    page.wait_for_function("() => document.querySelectorAll('#results tbody tr').length === 1")
    assert result_names(page) == ["Maria Elena Gonzalez"]
    page.wait_for_url("**/providers?q=gonzalez*")
    # by licence number too
    page.fill("#f-q", "a123456")
    page.wait_for_url("**/providers?q=a123456*")
    assert result_names(page) == ["Maria Elena Gonzalez"]

    # a filter: the department drop-down, then the compliance standing
    page.fill("#f-q", "")
    page.wait_for_url(f"{site.url}/providers?*")
    page.select_option("#f-department", "ICU")
    page.wait_for_url("**department=ICU*")
    page.wait_for_function("() => document.querySelectorAll('#results tbody tr').length < 50")
    with site.db.session() as s:
        icu = sorted(s.scalars(select(Provider.name).where(
            Provider.department == "ICU", Provider.active.is_(True))))  # fmt: skip
    assert result_names(page) == icu
    # the filtered URL can be shared: opened afresh it shows the same
    page.goto(page.url)
    assert page.locator("#f-department").input_value() == "ICU"
    assert result_names(page) == icu

    # paging, then open the file from the directory
    page.goto(f"{site.url}/providers?q=gonzalez")
    page.get_by_role("link", name="Maria Elena Gonzalez").click()
    page.wait_for_url(f"{site.url}/providers/{site.sample.provider_id}")
    for heading in ("Identity and details", "Compliance", "Credentials", "Documents",
                    "References and employment verifications", "Committee decisions",
                    "Notifications sent", "Retention holds", "Actions"):  # fmt: skip
        assert page.get_by_role("heading", name=heading, exact=True).is_visible(), heading
    assert page.locator("#d-category").input_value() == "physician"
    assert "Ask for the renewal before it expires." in page.locator("#compliance").inner_text()
    # the evidence: the page image of the licence opens
    with context.expect_page() as popup:
        page.locator("#credentials a", has_text="page image").first.click()
    image = popup.value
    image.wait_for_load_state()
    assert image.url.endswith(f"/documents/{site.sample.document_id}/pages/1.png")
    image.close()
    page.screenshot(
        path=str(screenshots / "clinician-file.png"),
        full_page=True,
        clip={"x": 0, "y": 0, "width": 1360, "height": 2000},
    )
    # the old pages land on their sections
    page.goto(f"{site.url}/providers/{site.sample.provider_id}/records")
    assert page.url.endswith(f"/providers/{site.sample.provider_id}#records")
    assert errors == []
    context.close()


def test_details_by_keyboard_and_an_auditor_reads_only(site: Site, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    pid = site.sample.provider_id
    sign_in(page, site.url, "alice", f"/providers/{pid}")
    # from the section links to the form, by keyboard alone
    page.focus("#d-department")
    page.keyboard.press("Control+a")
    page.keyboard.type("Emergency Medicine")
    page.keyboard.press("Shift+Tab")  # back to the staff category
    assert page.evaluate("document.activeElement.id") == "d-category"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "d-states"
    page.focus("#d-active")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Save details"
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/providers/{pid}?saved=*")
    assert "Saved: department." in page.locator("[role=status]").inner_text()
    with site.db.session() as s:
        assert s.get_one(Provider, pid).department == "Emergency Medicine"
        actor = select(AuditEvent.actor).where(
            AuditEvent.action == "provider.updated", AuditEvent.entity_id == pid
        )
        assert s.scalar(actor) == "alice"
    # every form control has a label
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll(
                   'main input:not([type=hidden]), main select, main textarea')]
                   .filter(el => !el.labels || el.labels.length === 0).map(el => el.name)"""
    )
    assert unlabelled == []
    context.close()

    auditor = browser.new_context().new_page()
    sign_in(auditor, site.url, "audrey", f"/providers/{pid}")
    assert auditor.locator("#details-form").count() == 0
    assert "Emergency Medicine" in auditor.locator("#details").inner_text()
    auditor.context.close()
