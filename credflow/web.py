"""The web application as `credflow run` serves it: the review app with the typed web
configuration made from the settings, and the plugins installed under the entry-point
group `credflow.plugins`."""

from __future__ import annotations

from importlib.metadata import entry_points

from fastapi import FastAPI

from compliance.mail import SmtpConfig
from compliance.notify import NotifyOptions
from credflow.context import Context
from credflow.settings import Settings
from review.app import create_app
from review.config import WebConfig
from review.plugins import Plugin

PLUGIN_GROUP = "credflow.plugins"


def web_config(settings: Settings) -> WebConfig:
    """The web layer's settings, read from the one settings object."""
    notify = NotifyOptions.from_settings(settings)
    return WebConfig(
        session_max_age=settings.session_max_age_seconds,
        session_idle=settings.session_idle_seconds,
        login_attempts_per_minute=settings.login_attempts_per_minute,
        claim_seconds=settings.review_claim_seconds,
        https=settings.https,
        secure_cookies=settings.secure_cookies,
        max_body_bytes=settings.max_body_kb * 1024,
        max_upload_bytes=settings.max_file_mb << 20,
        page_image_dpi=settings.page_image_dpi,
        learning=settings.learning,
        public_url=settings.public_url or "http://127.0.0.1:8000",
        mail_domain=settings.smtp_from.rsplit("@", 1)[-1],
        requirements_file=settings.requirements_file,
        verification_max_age_days=settings.verification_max_age_days,
        smtp=SmtpConfig.from_settings(settings),
        notify=notify,
    )


def installed_plugins() -> list[Plugin]:
    """Every plugin published under `credflow.plugins`; a broken one fails loudly."""
    return [ep.load() for ep in entry_points(group=PLUGIN_GROUP)]


def build_app(ctx: Context) -> FastAPI:
    from ingest.learning import learner

    return create_app(
        ctx.db,
        ctx.layout,
        web_config(ctx.settings),
        secret_key=ctx.settings.session_secret,
        plugins=installed_plugins(),
        learner=learner if ctx.settings.learning else None,
    )
