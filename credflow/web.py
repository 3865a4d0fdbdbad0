"""The web application as `credflow run` serves it: the review app with the settings and
every plugin that is installed (compliance dashboard and records)."""

from __future__ import annotations

import importlib

from fastapi import FastAPI

from credflow.context import Context
from review.app import create_app
from review.plugins import Plugin

# modules exposing `install(app, web)`; a module that does not exist (yet) is skipped
PLUGIN_MODULES = ("compliance.web_dashboard", "compliance.web_records")


def installed_plugins(names: tuple[str, ...] = PLUGIN_MODULES) -> list[Plugin]:
    plugins: list[Plugin] = []
    for name in names:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            # only the plugin itself missing is fine; a broken import inside it is not
            if err.name != name:
                raise
            continue
        plugins.append(module.install)
    return plugins


def build_app(ctx: Context) -> FastAPI:
    from ingest.learning import learner

    return create_app(
        ctx.db,
        ctx.layout,
        secret_key=ctx.settings.session_secret,
        plugins=installed_plugins(),
        settings=ctx.settings,
        learner=learner if ctx.settings.learning else None,
    )
