"""The `credflow` command. Each group of commands lives in its own module under commands/."""

from __future__ import annotations

import typer

from credflow.commands import register_all

app = typer.Typer(
    name="credflow",
    help="Credentialing documents: watched inbox, OCR and extraction, review queue, compliance.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
register_all(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
