"""Backfill: folders and zips (nested, zip-slip refused), resumable, dry run, the command."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from credflow.cli import app
from ingest.backfill import Backfill, Found, Refused, iter_sources, unsafe_entry, zip_entry_count
from ingest.pool import WorkerConfig
from ingest.tasks import ProcessOptions
from models import Database, Document, DocumentArrival, StoreLayout
from tests.ingest.helpers import make_text_pdf, status_counts


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(zipfile.ZipInfo(name), data)  # ZipInfo keeps unsafe names as given
    return buf.getvalue()


def _pdf(tmp: Path, n: int) -> bytes:
    return make_text_pdf(tmp / f"gen-{n}.pdf", n).read_bytes()


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    """old-files/ with nested folders, a zip in a folder, a zip in a zip, zip-slip entries,
    a duplicate, system files and a file that is not a document."""
    gen = tmp_path / "gen"
    root = tmp_path / "old-files"
    make_text_pdf(root / "2019" / "Gonzalez, Maria" / "licence.pdf", 1)
    make_text_pdf(root / "2020" / "dea.pdf", 2)
    (root / "2020" / "copy-of-dea.pdf").write_bytes((root / "2020" / "dea.pdf").read_bytes())
    (root / "2020" / "notes.txt").write_text("call the board on Monday")
    (root / "Thumbs.db").write_bytes(b"\0" * 10)
    inner = _zip({"Smith, John/bls.pdf": _pdf(gen, 3), "Smith, John/acls.pdf": _pdf(gen, 4)})
    (root / "2021").mkdir()
    (root / "2021" / "scans.zip").write_bytes(
        _zip(
            {
                "a/cme.pdf": _pdf(gen, 5),
                "a/inner.zip": inner,
                "../../escape.pdf": _pdf(gen, 6),
                "/etc/cron.d/evil.pdf": _pdf(gen, 7),
                "__MACOSX/a/._cme.pdf": b"\0\5\26\7",
                "a/": b"",
            }
        )
    )
    return root


def _backfill(db: Database, tmp_path: Path, workers: int = 1) -> Backfill:
    config = WorkerConfig(
        db.url, tmp_path / "data", ProcessOptions(lease_seconds=120), memory_mb=2048
    )
    return Backfill(
        db, StoreLayout(tmp_path / "data"), max_file_mb=50, workers=workers, worker_config=config
    )


def test_unsafe_entries() -> None:
    assert unsafe_entry("../x.pdf") and unsafe_entry("a/../../x.pdf") and unsafe_entry("/x.pdf")
    assert unsafe_entry("C:\\x.pdf") and unsafe_entry("a\\..\\..\\x.pdf")
    assert not unsafe_entry("a/b..c/x.pdf")


def test_sources_are_streamed_with_hints_and_refusals(archive: Path) -> None:
    found: list[tuple[str, str | None]] = []
    refused: list[str] = []
    for item in iter_sources([archive]):
        if isinstance(item, Found):
            assert b"".join(item.chunks)  # consumed before the next item, as the contract says
            found.append((item.name, item.hint))
        else:
            assert isinstance(item, Refused)
            refused.append(item.where)
    assert sorted(found) == sorted(
        [
            ("licence.pdf", "old-files/2019/Gonzalez, Maria"),
            ("dea.pdf", "old-files/2020"),
            ("copy-of-dea.pdf", "old-files/2020"),
            ("notes.txt", "old-files/2020"),
            ("cme.pdf", "old-files/2021/scans.zip/a"),
            ("bls.pdf", "old-files/2021/scans.zip/a/inner.zip/Smith, John"),
            ("acls.pdf", "old-files/2021/scans.zip/a/inner.zip/Smith, John"),
        ]
    )
    assert sorted(refused) == sorted(
        [
            "old-files/2021/scans.zip//etc/cron.d/evil.pdf",
            "old-files/2021/scans.zip/../../escape.pdf",
        ]
    )
    assert zip_entry_count(archive / "2021" / "scans.zip") == 6


def test_backfill_reads_everything_once_and_resumes(
    db: Database, archive: Path, tmp_path: Path
) -> None:
    first = _backfill(db, tmp_path).run([archive])
    assert (first.found, first.read, first.duplicates, first.failed, first.refused) == (
        7,
        5,
        1,
        1,
        2,
    )
    assert not (tmp_path / "escape.pdf").exists()
    assert status_counts(db) == {"awaiting_review": 5, "failed": 1}
    with db.session() as s:
        hint = s.scalar(select(Document.hint).where(Document.filename == "bls.pdf"))
        assert hint == "old-files/2021/scans.zip/a/inner.zip/Smith, John"
        assert s.scalar(select(func.count()).select_from(DocumentArrival)) == 7

    again = _backfill(db, tmp_path).run([archive])  # a second run skips what is done
    assert (again.found, again.skipped, again.read, again.duplicates, again.failed) == (
        7,
        7,
        0,
        0,
        0,
    )
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(DocumentArrival)) == 7


def test_an_interrupted_backfill_finishes_on_the_next_run(
    db: Database, archive: Path, tmp_path: Path
) -> None:
    taken_only = _backfill(db, tmp_path, workers=0).run([archive])  # as if stopped before reading
    assert taken_only.queued == 5 and status_counts(db)["received"] == 5
    _backfill(db, tmp_path, workers=1).run([archive])
    assert status_counts(db) == {"awaiting_review": 5, "failed": 1}


def test_dry_run_counts_and_changes_nothing(db: Database, archive: Path, tmp_path: Path) -> None:
    summary = _backfill(db, tmp_path).dry_run([archive])
    assert (summary.found, summary.refused) == (7, 2) and summary.bytes > 0
    assert status_counts(db) == {}
    assert not (tmp_path / "data" / "store").exists()


def test_backfill_command(archive: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    runner = CliRunner()
    dry = runner.invoke(app, ["backfill", str(archive), "--data-dir", str(data), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would take 7 file(s)" in dry.output
    result = runner.invoke(
        app, ["backfill", str(archive), "--data-dir", str(data), "--workers", "1"]
    )
    assert result.exit_code == 0, result.output
    assert "read 5, duplicates 1, failed 1, already done 0, refused 2" in result.output
    assert "zip-slip" in result.output
    failed = runner.invoke(app, ["failed", "--data-dir", str(data)])
    assert "notes.txt" in failed.output and "not a PDF" in failed.output
    retry = runner.invoke(app, ["retry", "--all-failed", "--data-dir", str(data)])
    assert "1 document(s) sent back" in retry.output
