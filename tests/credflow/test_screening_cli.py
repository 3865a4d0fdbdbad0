"""`credflow sources import` and `credflow screen` with --data-dir, and the sources folder
that `credflow run` watches."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from compliance.sources.watch import SourceFolder
from credflow.cli import app
from credflow.context import open_context
from models import Provider
from tests.compliance.screening_support import LEIE, SAM_SAMPLE, leie_files


def test_import_then_screen(tmp_path: Path) -> None:
    runner = CliRunner()
    ctx = open_context(tmp_path)
    with ctx.db.session() as s:
        s.add(Provider(name="Melanie Zepeda", states=["CO"]))
    ctx.close()
    files = [str(p) for p in leie_files(range(6, 7))]
    done = runner.invoke(app, ["sources", "import", *files, "--data-dir", str(tmp_path)])
    assert done.exit_code == 0, done.output
    assert (
        "1606EXCL.csv: oig_leie (leie_excl), list of 2016-06-01: 359 rows read, 359 kept, "
        "0 rejected" in done.output
    )
    again = runner.invoke(app, ["sources", "import", files[0], "--data-dir", str(tmp_path)])
    assert "imported before" in again.output and "unchanged" in again.output
    refused = runner.invoke(
        app,
        ["sources", "import", str(LEIE / "leie_record_layout.pdf"), "--data-dir", str(tmp_path)],
    )
    assert (
        refused.exit_code == 1 and "refused leie_record_layout.pdf: not an LEIE" in refused.output
    )
    screened = runner.invoke(app, ["screen", "--date", "2016-07-31", "--data-dir", str(tmp_path)])
    assert screened.exit_code == 0, screened.output
    assert "screened 1 clinician(s) on 2016-07-31 against oig_leie" in screened.output
    assert "oig_leie: 1 possible" in screened.output and "open hits raised: 1" in screened.output


def test_sources_folder(tmp_path: Path) -> None:
    ctx = open_context(tmp_path)
    folder = SourceFolder(tmp_path / "sources")
    folder.folder.mkdir()
    shutil.copy(SAM_SAMPLE, folder.folder / SAM_SAMPLE.name)
    (folder.folder / "notes.txt").write_text("not a list")
    assert folder.poll(ctx.db) == []  # first look: wait until the file holds still
    (report,) = folder.poll(ctx.db)  # the refused notes.txt is logged, not returned
    assert report.source == "sam" and report.rows_kept == 16
    assert folder.poll(ctx.db) == []  # unchanged: not hashed or imported again
    ctx.close()
