"""Command groups; each module exposes `register(app)`."""

from __future__ import annotations

import importlib

import typer

MODULES = (
    "extract_cmd",
    "service",
    "users",
    "db_cmd",
    "compliance_cmd",
    "records_cmd",
    "layouts_cmd",
    "screening_cmd",
)


def register_all(app: typer.Typer) -> None:
    for name in MODULES:
        module = importlib.import_module(f"credflow.commands.{name}")
        module.register(app)
