"""A real credflow web app for the browser tests: documents read by the real pipeline,
served by uvicorn on a free port, driven through Debian's chromium with Playwright.

The documents are taken in the way the inbox takes them (`ingest.intake.Intake`) and read
by the worker's own task (`ingest.tasks.process_document`: OCR, classification, fields,
page images), so the review screen shows exactly what a coordinator would see.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from models import Database
from tests.review.live import serving

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "screenshots"
# the scans the tests review: a nursing licence read well by OCR, and a second one to race for
KEYBOARD_DOC = "doc_0015.jpg"
RACE_DOC = "doc_0047.jpg"
PASSWORD = "correct horse battery"
USERS = {"alice": "coordinator", "bob": "coordinator", "carol": "coordinator", "audrey": "auditor"}


@dataclass
class LiveApp:
    url: str
    data_dir: Path
    db: Database
    documents: dict[str, int] = field(default_factory=dict)


@pytest.fixture(scope="session")
def live_app(tmp_path_factory: pytest.TempPathFactory, corpus_dir: Path) -> Iterator[LiveApp]:

    from credflow.context import open_context
    from credflow.web import build_app
    from ingest.intake import Intake
    from ingest.tasks import ProcessOptions, process_document
    from review import auth

    if not Path(CHROMIUM).exists():  # pragma: no cover - depends on the machine
        pytest.skip(f"{CHROMIUM} is not installed")
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    data_dir = tmp_path_factory.mktemp("browser") / "data"
    ctx = open_context(data_dir, database_url=f"sqlite:///{data_dir / 'credflow.db'}")
    with ctx.db.session() as s:
        for name, role in USERS.items():
            auth.create_user(s, name, PASSWORD, role)
    intake = Intake(ctx.db, ctx.layout)
    documents: dict[str, int] = {}
    for name in (KEYBOARD_DOC, RACE_DOC):
        # copied into a subfolder of the inbox, as a scanner would leave it
        source = data_dir / "inbox" / "Cohen, Jose" / name
        source.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(corpus_dir / name, source)
        taken = intake.take_file(source, hint="Cohen, Jose", remove=True)
        outcome = process_document(ctx.db, ctx.layout, taken.document_id, ProcessOptions())
        assert outcome.status == "awaiting_review", outcome
        documents[name] = taken.document_id

    with serving(build_app(ctx)) as url:
        yield LiveApp(url, data_dir, ctx.db, documents)
    ctx.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
