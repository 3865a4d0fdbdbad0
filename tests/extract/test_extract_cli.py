"""`credflow extract`: JSON Lines for several files, a one-line reason and a non-zero exit
for a file that cannot be read, and --text."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from credflow.cli import app
from tests.support import CORPUS, REAL

runner = CliRunner()


def test_json_lines_for_several_files() -> None:
    files = [CORPUS / "doc_0001.pdf", CORPUS / "doc_0044.pdf", CORPUS / "doc_0034.pdf"]
    result = runner.invoke(app, ["extract", "--json", *map(str, files)])
    assert result.exit_code == 0, result.output
    objs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [Path(o["file"]).name for o in objs] == [f.name for f in files]
    assert objs[1]["doc_type"] == "medical_license"
    lic = objs[1]
    assert lic["fields"]["npi"] == "1840368645"
    assert set(lic["confidence"]) == set(lic["fields"]) == set(lic["evidence"])
    assert lic["evidence"]["npi"]["page"] == 1 and len(lic["evidence"]["npi"]["box"]) == 4


def test_broken_file_gets_one_line_reason_and_others_still_print(tmp_path: Path) -> None:
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\n garbage that is not a PDF body")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    good = tmp_path / "good.pdf"
    shutil.copy(CORPUS / "doc_0001.pdf", good)
    result = runner.invoke(app, ["extract", "--json", str(broken), str(good), str(empty)])
    assert result.exit_code != 0
    assert [json.loads(line)["file"] for line in result.stdout.splitlines()] == [str(good)]
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 2
    assert errors[0].startswith(f"{broken}: ") and errors[1].startswith(f"{empty}: ")


def test_encrypted_pdf_exits_non_zero() -> None:
    result = runner.invoke(
        app, ["extract", "--json", str(REAL / "other-pdfs" / "password-example.pdf")]
    )
    assert result.exit_code != 0
    assert "password" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_text_prints_pages_in_reading_order() -> None:
    result = runner.invoke(app, ["extract", "--text", str(CORPUS / "doc_0044.pdf")])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].endswith("page 1 ---")
    assert "Illinois Department of Financial and Professional Regulation" in lines[1:4]
    number = next(i for i, ln in enumerate(lines) if "License Number" in ln and "036.176858" in ln)
    name = next(i for i, ln in enumerate(lines) if "NASSER III, CHRISTOPHER E." in ln)
    assert name < number  # top to bottom


def test_workers_spread_files_over_processes() -> None:
    files = [CORPUS / "doc_0001.pdf", CORPUS / "doc_0009.pdf", CORPUS / "doc_0013.pdf"]
    result = runner.invoke(app, ["extract", "--json", "--workers", "2", *map(str, files)])
    assert result.exit_code == 0, result.output
    assert [Path(json.loads(line)["file"]).name for line in result.stdout.splitlines()] == [
        f.name for f in files
    ]
