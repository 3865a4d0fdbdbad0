"""What the review app hands to the parts that add pages to it (compliance, reports).

A plugin is a function `install(app: FastAPI, web: WebContext) -> None` that adds routers
and template folders, published under the entry-point group `credflow.plugins`;
`credflow.web` passes those installed to `review.app.create_app`.
Plugins use `web.require_role(...)` for access and `web.templates` for pages, so every page
shares one sign-in, one layout (`base.html`) and one CSRF check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from fastapi import FastAPI
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, FileSystemLoader

from models import Database, Role, StoreLayout, User
from review.config import WebConfig


class RoleDependency(Protocol):
    """`Depends(web.require_role(Role.MANAGER, Role.AUDITOR))` gives the signed-in User, or
    answers 401 (API) / redirects to /login (pages) without a session, 403 with a wrong role."""

    def __call__(self, *roles: Role) -> Callable[..., User]: ...


@dataclass
class WebContext:
    db: Database
    layout: StoreLayout
    templates: Jinja2Templates
    require_role: RoleDependency
    # a FastAPI dependency that checks the CSRF token of a form POST
    csrf_protect: Callable[..., Any]
    # the web layer's typed settings
    config: WebConfig = field(default_factory=WebConfig)
    # navigation links plugins add: (label, path, roles that see it)
    nav: list[tuple[str, str, tuple[Role, ...]]] = field(default_factory=list)

    def add_templates(self, folder: Path) -> None:
        """Make a plugin's template folder visible to `web.templates` (after the app's own)."""
        loader = self.templates.env.loader

        loaders = list(loader.loaders) if isinstance(loader, ChoiceLoader) else [loader]
        loaders.append(FileSystemLoader(str(folder)))
        self.templates.env.loader = ChoiceLoader([ld for ld in loaders if ld is not None])


Plugin = Callable[[FastAPI, WebContext], None]
