"""The judgement kept in the database (compliance.standing) says what the Python judgement
(status.evaluate, expirations.build_dashboard) says: on every day, and after each kind of
change (approval, an edit of the category, a committee decision, a rules change, days
passing, removal), on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from compliance import standing
from compliance.expirations import SECTIONS, build_dashboard
from compliance.removal import remove_document, remove_provider
from compliance.requirements import (
    DEFAULT_FILE,
    Requirements,
    load_requirements,
    parse_requirements,
)
from compliance.status import CredentialFacts, ProviderFacts, ProviderFilter, evaluate
from credflow.settings import Settings
from models import Database, StoreLayout
from models.compliance_status import ComplianceItem, ProviderCompliance
from tests.compliance.test_status import TODAY, add_cred, add_provider, approve
from tests.review.test_api_support import (
    LICENSE_FIELDS,
    add_users,
    client_as,
    csrf_of,
    make_app,
    post_form,
    seed_document,
)

DOC_TYPES = (
    "medical_license", "nursing_license", "dea_registration", "board_certification", "diploma",
    "life_support_card", "cme_certificate", "malpractice_insurance", "training_certificate",
)  # fmt: skip
TITLES = {
    "life_support_card": ["BLS Provider", "ACLS Provider", "PALS", "Basic Life Support", None],
    "board_certification": ["Internal Medicine", "Emergency Medicine", None],
    "diploma": ["Doctor of Medicine", "Bachelor of Science in Nursing", None],
}
CATEGORIES = ["physician", "registered_nurse", "advanced_practice_nurse", "physician_assistant",
              None, "chaplain"]  # fmt: skip
DEPARTMENTS = ["Emergency Medicine", "ICU", "Surgery", "Cardiology", None]
STATES = ["CA", "NY", "TX", "OR", "WA"]
# days under the 2025 rules (in force from 2025-07-01) around TODAY
DAYS = [TODAY + timedelta(days=d) for d in range(-240, 1300, 29)]


def some_day(rng: random.Random, lo: int, hi: int) -> date:
    return TODAY + timedelta(days=rng.randint(lo, hi))


def seed_varied(s: Session, n: int, seed: int = 3) -> list[int]:
    """Clinicians of every kind: no category, unknown category, no states, two states,
    lapsed and lapsing credentials, cards without an expiry, validator problems, CME
    certificates coming and going, old verifications, no committee decision."""
    rng = random.Random(seed)
    ids: list[int] = []
    for i in range(n):
        states = tuple(rng.sample(STATES, rng.choice([0, 1, 1, 2])))
        name = f"{rng.choice('ABCab')}linician {i:03d}"  # upper and lower case: code point order
        pid = add_provider(s, name, category=rng.choice(CATEGORIES), states=states,
                           department=rng.choice(DEPARTMENTS))  # fmt: skip
        ids.append(pid)
        for _ in range(rng.randint(0, 12)):
            doc_type = rng.choice(DOC_TYPES)
            add_cred(
                s, pid, doc_type,
                title=rng.choice(TITLES.get(doc_type, [None])),
                state=rng.choice([*states, "NV", None]) if rng.random() < 0.9 else None,
                issued=some_day(rng, -1500, 60) if rng.random() < 0.7 else None,
                expires=some_day(rng, -200, 1100) if rng.random() < 0.6 else None,
                verified=some_day(rng, -500, 0),
                problems="check digit" if rng.random() < 0.05 else None,
                hours=rng.choice(["10", "25 hours", "12.5", None]) if doc_type == "cme_certificate"
                else None,
            )  # fmt: skip
        if rng.random() < 0.8:
            approve(s, pid, some_day(rng, -1200, -1))
    return ids


def same_board(
    db: Database, reqs: Requirements, on: date, flt: ProviderFilter | None = None
) -> None:
    with db.session() as s:
        kept = standing.board(s, reqs.version_on(on), on, flt)
        judged = build_dashboard(s, reqs, on, flt)
    assert (kept.providers, kept.levels) == (judged.providers, judged.levels), on
    for key, _ in SECTIONS:
        assert kept.sections[key] == judged.sections[key], (on, key)
        assert kept.count(key) == len(judged.sections[key])


def pending(db: Database, reqs: Requirements, keeper: standing.Keeper) -> int:
    with db.session() as s:
        return standing.pending_count(s, standing.rules_key(keeper.version(reqs)))


def keeper_for(db: Database) -> standing.Keeper:
    return standing.Keeper(db, today=lambda: TODAY)


def test_kept_board_equals_the_python_board_on_every_day(db: Database) -> None:
    with db.session() as s:
        seed_varied(s, 40)
    reqs = load_requirements()
    keeper = keeper_for(db)
    assert pending(db, reqs, keeper) == 40
    assert keeper.rebuild(reqs) == 40 and pending(db, reqs, keeper) == 0
    for on in DAYS:
        same_board(db, reqs, on)
    for flt in (ProviderFilter(department="ICU"), ProviderFilter(state="ca"),
                ProviderFilter(category="registered_nurse", department="Surgery")):  # fmt: skip
        same_board(db, reqs, TODAY, flt)
        same_board(db, reqs, TODAY + timedelta(days=200), flt)
    # only the first rows of each section, and the sizes of all of them
    with db.session() as s:
        first = standing.board(s, reqs.version_on(TODAY), TODAY, limit=2)
        whole = build_dashboard(s, reqs, TODAY)
    for key, _ in SECTIONS:
        assert first.sections[key] == whole.sections[key][:2]
        assert first.count(key) == len(whole.sections[key])


def random_facts(rng: random.Random, pid: int) -> ProviderFacts:
    states = tuple(rng.sample(STATES, rng.choice([0, 1, 2])))
    creds = []
    for n in range(rng.randint(0, 14)):
        doc_type = rng.choice(DOC_TYPES)
        creds.append(CredentialFacts(
            pid * 100 + n, pid, doc_type, rng.choice([*states, None]),
            rng.choice(TITLES.get(doc_type, [None])),
            some_day(rng, -1500, 90) if rng.random() < 0.7 else None,
            some_day(rng, -300, 1200) if rng.random() < 0.5 else None,
            some_day(rng, -600, 0) if rng.random() < 0.9 else None,
            "bad" if rng.random() < 0.05 else None,
            rng.choice([5.0, 10.0, 25.0, 12.5]) if doc_type == "cme_certificate" else None,
        ))  # fmt: skip
    return ProviderFacts(
        pid, f"P{pid}", None, rng.choice(CATEGORIES), rng.choice(DEPARTMENTS), states, True,
        some_day(rng, -1300, 0) if rng.random() < 0.8 else None, tuple(creds),
    )  # fmt: skip


def test_levels_equal_evaluate_day_by_day_and_at_every_step() -> None:
    """No database: the kept dates give evaluate's level on each day, and on the days
    around each step (where an off-by-one would show)."""
    version = load_requirements().version_on(TODAY)
    rng = random.Random(11)
    for pid in range(1, 150):
        p = random_facts(rng, pid)
        kept = standing.judge(p, version)
        steps = {kept.at_risk_from, kept.non_compliant_from}
        steps |= {d for span in kept.cme_short for d in span}
        steps |= {r.shows_from for r in kept.items}
        days = set(DAYS[::3])
        for d in steps:
            if d is not None and date(2025, 7, 3) < d < date(2099, 1, 1):
                days |= {d - timedelta(days=1), d, d + timedelta(days=1)}
        for on in sorted(days):
            assert kept.level_on(on) == evaluate(p, version, on).level, (pid, on)


def test_cme_hours_that_age_out_and_come_back() -> None:
    """The one item that gets better by itself: short until a certificate counts, then
    short again once it leaves the 24-month window (31 Jan + 24 months = 31 Jan)."""
    cme = [CredentialFacts(1, 1, "cme_certificate", None, None, date(2026, 1, 31), None, None,
                           None, 50.0)]  # fmt: skip
    spans = standing.cme_short_spans(cme, 50.0, 24)
    assert spans == ((date.min, date(2026, 1, 31)), (date(2028, 1, 31), None))


def test_each_change_is_judged_again(db: Database, tmp_path: Path) -> None:
    """Through the app: approval, PATCH of the category, a committee decision, removal of
    a document and of a clinician; then a rules change, days passing and a restart."""
    add_users(db)
    layout = StoreLayout(tmp_path)
    with db.session() as s:
        seed_varied(s, 12, seed=5)
        nurse = add_provider(s, "Nora Nurse", category="registered_nurse", states=("OH",))
        add_cred(s, nurse, "life_support_card", title="BLS Provider",
                 expires=TODAY + timedelta(days=20))  # fmt: skip
    reqs = load_requirements()
    app = make_app(db, tmp_path, settings=Settings(data_dir=tmp_path))
    coordinator = client_as(app, "coordinator")
    keeper = keeper_for(db)

    def shown() -> None:
        """The dashboard page judges what changed before it answers."""
        assert coordinator.get(f"/compliance?on={TODAY}").status_code == 200
        assert pending(db, reqs, keeper) == 0
        for on in (TODAY, TODAY + timedelta(days=45), TODAY + timedelta(days=400)):
            same_board(db, reqs, on)

    shown()
    # approval: an Ohio licence for the nurse (a physician's licence type, on purpose:
    # what matters is that the new credential is counted)
    doc = seed_document(db, layout, doc_type="nursing_license")
    fields = {k: v for k, (v, _) in LICENSE_FIELDS.items()} | {"npi": None}
    r = coordinator.post(f"/api/documents/{doc}/approve",
                         json={"doc_type": "nursing_license", "fields": fields,
                               "provider_id": nurse},
                         headers={"X-CSRF-Token": csrf_of(coordinator)})  # fmt: skip
    assert r.status_code == 200, r.text
    assert pending(db, reqs, keeper) == 1
    shown()
    with db.session() as s:
        kinds = s.scalars(select(ComplianceItem.kind).where(
            ComplianceItem.credential_id == r.json()["credential_ids"][0])).all()  # fmt: skip
    assert "expiry" in kinds  # the new licence, with its expiry date

    # PATCH: another staff category asks for other credentials
    r = coordinator.patch(f"/api/providers/{nurse}", json={"staff_category": "physician"},
                          headers={"X-CSRF-Token": csrf_of(coordinator)})  # fmt: skip
    assert r.status_code == 200 and pending(db, reqs, keeper) == 1
    shown()
    # a committee decision starts a new recredentialing cycle
    manager = client_as(app, "manager")
    r = post_form(manager, f"/compliance/providers/{nurse}/decisions",
                  {"decided_on": (TODAY - timedelta(days=1070)).isoformat()})  # fmt: skip
    assert r.status_code == 303 and pending(db, reqs, keeper) == 1
    shown()
    # removal of the approved document, then of the clinician
    with db.session() as s:
        remove_document(s, layout, doc, actor="manager", reason="sent by mistake")
    assert pending(db, reqs, keeper) == 1
    shown()
    with db.session() as s:
        remove_provider(s, layout, nurse, actor="manager", reason="asked to be forgotten")
    with db.session() as s:
        assert s.get(ProviderCompliance, nurse) is None
        left = s.scalars(select(ComplianceItem).where(ComplianceItem.provider_id == nurse))
        assert not left.all()
    shown()

    # a rules change: every clinician is judged again, once
    text = DEFAULT_FILE.read_text(encoding="utf-8").replace("at_risk_days: 60", "at_risk_days: 45")
    changed = parse_requirements(text, source="changed")
    assert pending(db, changed, keeper) == 12
    assert keeper.rebuild(changed) == 12 and pending(db, changed, keeper) == 0
    for on in (TODAY, TODAY + timedelta(days=50), TODAY + timedelta(days=700)):
        same_board(db, changed, on)

    # days pass: nothing is judged again, and the board still equals the Python one
    later = keeper_for(db)
    later.today = lambda: TODAY + timedelta(days=300)
    assert later.ready(changed, TODAY + timedelta(days=300))
    assert pending(db, changed, later) == 0

    # a restart: a new process (engine, keeper) answers from the kept rows at once
    again = Database(db.url)
    try:
        fresh = keeper_for(again)
        assert pending(again, changed, fresh) == 0 and fresh.ready(changed, TODAY)
        same_board(again, changed, TODAY)
    finally:
        again.dispose()


def test_the_background_refresh_reports_progress(db: Database) -> None:
    """More stale clinicians than a request judges: the thread does it, in batches, and
    the page meanwhile answers from the Python judgement."""
    with db.session() as s:
        seed_varied(s, 30, seed=8)
    reqs = load_requirements()
    keeper = standing.Keeper(db, inline_limit=5, batch=7, today=lambda: TODAY)
    seen: list[int] = []
    assert keeper.ready(reqs, TODAY) is False  # started the thread
    keeper.join(60)
    assert keeper.progress.done == 30 and not keeper.progress.running
    assert keeper.ready(reqs, TODAY)
    with db.session() as s:
        seed_varied(s, 3, seed=9)  # 3 more, created without mark_stale: no row yet
    assert keeper.ready(reqs, TODAY) and pending(db, reqs, keeper) == 0
    with db.session() as s:
        s.execute(update(ProviderCompliance).values(stale=True))
    assert keeper.rebuild(reqs, report=lambda p: seen.append(p.done)) == 33
    assert seen == [7, 14, 21, 28, 33]
    # a day under the older rules is not kept: answered from the Python judgement
    assert keeper.ready(reqs, date(2025, 1, 15)) is False
