"""`credflow compliance refresh`: every clinician judged once, then nothing left to do."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from compliance import standing
from compliance.requirements import load_requirements
from credflow.cli import app
from credflow.context import open_context
from tests.compliance.test_standing import seed_varied


def test_refresh_judges_everyone_once(tmp_path: Path) -> None:
    ctx = open_context(tmp_path)
    with ctx.db.session() as s:
        seed_varied(s, 9)
    runner = CliRunner()
    first = runner.invoke(app, ["compliance", "refresh", "--data-dir", str(tmp_path)])
    assert first.exit_code == 0, first.output
    assert "9 clinicians judged" in first.output
    key = standing.rules_key(standing.Keeper(ctx.db).version(load_requirements()))
    with ctx.db.session() as s:
        assert standing.pending_count(s, key) == 0
    again = runner.invoke(app, ["compliance", "refresh", "--data-dir", str(tmp_path)])
    assert "0 clinicians judged" in again.output
    ctx.close()
