"""Command-line options shared by several commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        envvar="CREDFLOW_DATA_DIR",
        help="Folder holding the inbox, document store and SQLite database.",
        show_default=False,
    ),
]
