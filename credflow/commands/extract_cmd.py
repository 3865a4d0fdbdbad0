"""`credflow extract`: read files into the spec's JSON, with no database."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from extract import ExtractError, extract_file


def register(app: typer.Typer) -> None:
    @app.command("extract")
    def extract(
        files: Annotated[list[Path], typer.Argument(help="PDF, PNG, JPEG or TIFF files.")],
        as_json: Annotated[bool, typer.Option("--json", help="One JSON object per file.")] = False,
    ) -> None:
        """Read documents and print their type and fields (no database needed)."""
        failed = 0
        for path in files:
            try:
                result = extract_file(path)
            except ExtractError as e:
                failed += 1
                typer.echo(f"{path}: {e}", err=True)
                continue
            except FileNotFoundError:
                failed += 1
                typer.echo(f"{path}: no such file", err=True)
                continue
            if as_json:
                sys.stdout.write(json.dumps(result.to_json()) + "\n")
            else:
                typer.echo(f"{path}: {result.doc_type}")
                for name, field in result.fields.items():
                    typer.echo(f"  {name:18s} {field.value!s:40s} {field.confidence:.2f}")
        if failed:
            raise typer.Exit(1)
