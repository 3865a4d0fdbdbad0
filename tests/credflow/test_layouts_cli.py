"""`credflow layouts list|show|forget`: what was learned, from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from credflow.cli import app
from credflow.context import open_context
from models import AuditEvent
from tests.compliance.test_removal_learning import read_and_approve
from tests.support import CORPUS


def test_list_show_and_forget_a_learned_layout(tmp_path: Path) -> None:
    ctx = open_context(tmp_path)
    doc_id, _, _ = read_and_approve(ctx.db, "doc_0034.pdf")
    ctx.close()
    runner = CliRunner()
    listed = runner.invoke(app, ["layouts", "list", "--data-dir", str(tmp_path)])
    assert listed.exit_code == 0, listed.output
    assert "dea_registration" in listed.output
    shown = runner.invoke(app, ["layouts", "show", "1", "--data-dir", str(tmp_path)])
    assert shown.exit_code == 0 and f"from document(s) {doc_id}" in shown.output
    assert "credential_number" in shown.output
    forgot = runner.invoke(
        app, ["layouts", "forget", "1", "--as", "admin", "--data-dir", str(tmp_path)]
    )
    assert forgot.exit_code == 0 and "forgot layout 1" in forgot.output
    again = runner.invoke(app, ["layouts", "show", "1", "--data-dir", str(tmp_path)])
    assert again.exit_code == 1 and "no learned layout 1" in again.output
    ctx = open_context(tmp_path)
    with ctx.db.session() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "layout.forgotten")).one()
        assert event.actor == "admin"
    ctx.close()


def test_extract_stays_zero_shot_unless_given_the_site(tmp_path: Path) -> None:
    ctx = open_context(tmp_path)
    read_and_approve(ctx.db, "doc_0034.pdf")
    ctx.close()
    second = str(CORPUS / "doc_0074.pdf")
    runner = CliRunner()
    plain = runner.invoke(app, ["extract", second, "--json"])
    assert plain.exit_code == 0, plain.output
    assert "source" not in json.loads(plain.output)
    learned = runner.invoke(app, ["extract", second, "--json", "--data-dir", str(tmp_path)])
    assert learned.exit_code == 0, learned.output
    sources = json.loads(learned.output)["source"]
    assert sources["credential_number"].startswith("from 1 confirmed document of this layout")
