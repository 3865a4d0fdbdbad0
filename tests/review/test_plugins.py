"""Plugins are found by the entry-point group `credflow.plugins` (an installed package's
metadata), and what they add shares the app's sign-in and roles."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import APIRouter, Depends, FastAPI

from credflow.web import PLUGIN_GROUP, installed_plugins
from models import Database, Role, User
from review.plugins import WebContext
from tests.review.test_api_support import add_users, client_as, make_app


def install(app: FastAPI, web: WebContext) -> None:
    """A plugin as a package would publish it: one page for managers."""
    router = APIRouter()

    @router.get("/hello-plugin")
    def hello(user: User = Depends(web.require_role(Role.MANAGER))) -> dict[str, str]:
        return {"hello": user.username}

    app.include_router(router)


@pytest.fixture
def published(tmp_path: Path) -> Iterator[Path]:
    """A distribution on sys.path whose metadata names `install` above under the group."""
    info = tmp_path / "site" / "credflow_hello-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: credflow-hello\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        f"[{PLUGIN_GROUP}]\nhello = tests.review.test_plugins:install\n"
    )
    sys.path.insert(0, str(info.parent))
    yield info
    sys.path.remove(str(info.parent))


def test_an_installed_plugin_is_loaded_and_guarded(
    published: Path, db: Database, tmp_path: Path
) -> None:
    plugins = installed_plugins()
    assert install in plugins
    add_users(db)
    app = make_app(db, tmp_path, plugins=plugins)
    assert client_as(app, "manager").get("/hello-plugin").json() == {"hello": "manager"}
    assert client_as(app, "coordinator").get("/hello-plugin").status_code == 403


def test_without_plugins_installed_none_is_loaded() -> None:
    assert install not in installed_plugins()
