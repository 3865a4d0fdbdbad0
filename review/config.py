"""What the web application needs to know, as one typed value. `credflow.web.web_config`
builds it from `credflow.settings.Settings` (the one place defaults live); `create_app`
takes it, so no route reads the settings object or guesses a default."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from compliance.mail import SmtpConfig
from compliance.notify import NotifyOptions


@dataclass(frozen=True)
class WebConfig:
    """The web layer's settings. The defaults are those of a bare app (tests, benches):
    no mail is sent unless `smtp` is given."""

    session_max_age: int = 12 * 3600
    session_idle: int = 30 * 60
    login_attempts_per_minute: int = 10
    # the longest wait forced on repeated wrong passwords for one account
    login_backoff_cap: float = 8.0
    claim_seconds: int = 300
    # HSTS and secure cookies (people reach the UI over HTTPS)
    https: bool = False
    secure_cookies: bool = False
    max_body_bytes: int = 1024 * 1024
    max_upload_bytes: int = 200 << 20
    page_image_dpi: int = 110
    learning: bool = True
    # the address mails link to
    public_url: str = "http://127.0.0.1:8000"
    mail_domain: str = "localhost"
    requirements_file: Path | None = None
    # a primary-source verification older than this at the committee's decision is stale
    verification_max_age_days: int = 120
    # mail for the managers (a confirmed exclusion); None: queue it, send nothing now
    smtp: SmtpConfig | None = None
    notify: NotifyOptions = field(default_factory=NotifyOptions)
