"""The structure the design asks for holds: the folders import only what the dependency
table allows (import-linter, contracts in pyproject.toml), no function in review/ or
compliance/ is longer than 120 lines, and the search hook is installed by `Database`."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session

from models import Database
from models import search as search_mod

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(*args: str) -> subprocess.CompletedProcess[str]:
    exe = str(LINT_IMPORTS) if LINT_IMPORTS.exists() else shutil.which("lint-imports")
    assert exe, "import-linter is not installed (pip install -e '.[test]')"
    return subprocess.run(
        [exe, "--no-cache", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def test_import_contracts_hold() -> None:
    run = _lint_imports()
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


def test_a_forbidden_import_is_found(tmp_path: Path) -> None:
    """The checker does see imports: review importing models, forbidden here, breaks."""
    config = tmp_path / "contracts.toml"
    config.write_text(
        "[tool.importlinter]\n"
        'root_packages = ["models", "review"]\n'
        "[[tool.importlinter.contracts]]\n"
        'name = "review without models"\n'
        'type = "forbidden"\n'
        'source_modules = ["review"]\n'
        'forbidden_modules = ["models"]\n'
    )
    run = _lint_imports("--config", str(config))
    assert run.returncode != 0
    assert "1 broken" in run.stdout


def test_no_long_functions_in_the_web_layer_and_domain() -> None:
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts/function_length.py")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout


def test_the_length_check_finds_a_long_function(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(130))
    (tmp_path / "long.py").write_text(f"def long() -> None:\n{body}\n")
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts/function_length.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1
    assert "long is 131 lines long" in run.stdout


def test_search_hook_is_installed_by_the_database_not_by_importing(tmp_path: Path) -> None:
    assert not event.contains(Session, "after_flush", search_mod._keep_terms)
    db = Database(f"sqlite:///{tmp_path / 'hook.db'}")
    assert event.contains(db.sessions, "after_flush", search_mod._keep_terms)
    db.dispose()
