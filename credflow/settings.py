"""All of credflow's configuration, in one typed object read from `CREDFLOW_*` variables.

This is the only module that reads the environment. Every other package receives the
values it needs as plain arguments or small option objects built from these settings.
"""

from __future__ import annotations

import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# files rw for the owner (r for the group), folders rwx (r-x): nothing for other users
UMASK = 0o027


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CREDFLOW_", extra="ignore")

    # where everything lives (inbox, document store, page images, SQLite database)
    data_dir: Path = Field(default=Path("credflow-data"))
    # SQLAlchemy URL; default is SQLite inside data_dir.
    # PostgreSQL: postgresql+psycopg://user@host:5432/dbname
    database_url: str | None = None

    # the review UI and JSON API
    host: str = "127.0.0.1"
    port: int = 8000
    # signs session cookies; generated once into data_dir/secret.key when not set
    secret_key: str | None = None
    # a browser session ends this long after signing in, or after this long unused
    session_max_age_seconds: int = 12 * 3600
    session_idle_seconds: int = 30 * 60
    login_attempts_per_minute: int = 10
    # the session cookie's Secure flag; None = on when public_url is https
    cookie_secure: bool | None = None
    # a reverse proxy in front terminates TLS: allows binding a non-loopback host
    tls_proxy: bool = False
    # addresses of the reverse proxies whose X-Forwarded-For/-Proto are believed (comma-
    # separated, as uvicorn's forwarded_allow_ips); empty = none, the peer address counts
    forwarded_allow_ips: str = ""
    # API tokens stop working after this many days (credflow token create --days)
    token_days: int = 90
    # request bodies: JSON and forms up to this, uploads up to max_file_mb
    max_body_kb: int = 1024
    review_claim_seconds: int = 300

    # processing
    workers: int = Field(default_factory=lambda: os.cpu_count() or 1)
    queue: Literal["local", "celery"] = "local"
    broker_url: str = "redis://127.0.0.1:6379/0"
    lease_seconds: int = 600
    # ingest: memory limit of each worker process (and its tesseract), MB; 0 = none
    worker_memory_mb: int = 2048
    # ingest: a worker that reads no page for this long is stopped and the file retried
    page_timeout_seconds: float = 300.0
    # ingest: the Celery queue name (one per site sharing a Redis)
    celery_queue: str = "credflow"
    max_attempts: int = 3
    max_pages: int = 200
    max_file_mb: int = 200
    ocr_dpi: int = 300
    # OCR engine: "auto" = tesseract loaded in each worker (tesserocr) when installed and
    # built against the same tesseract as the program, else the program; or force either
    ocr_engine: Literal["auto", "tesserocr", "cli"] = "auto"
    page_image_dpi: int = 110
    # inbox watching: None = native events; a number = poll every N seconds (network shares)
    poll_seconds: float | None = None
    rescan_seconds: float = 60.0
    settle_seconds: float = 1.0
    # learn layouts from approved documents and propose values from them (admin may turn off)
    learning: bool = True

    # mail
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_from: str = "credflow@localhost"
    smtp_tls: Literal["none", "starttls", "ssl"] = "none"
    smtp_user: str | None = None
    smtp_password: str | None = None
    reminder_days: list[int] = Field(default_factory=lambda: [90, 60, 30, 7])
    # the address people open the UI at, for links in e-mail; None = http://host:port
    public_url: str | None = None
    # YAML requirement sets; None = the shipped default set
    requirements_file: Path | None = None
    # how old a primary-source verification may be at the committee's decision (NCQA 2025
    # CR 3: 120 days; 90 for a CVO)
    verification_max_age_days: int = Field(default=120, ge=1, le=3650)

    @property
    def https(self) -> bool:
        """Whether people reach the UI over HTTPS (public_url says so)."""
        return (self.public_url or "").lower().startswith("https://")

    @property
    def secure_cookies(self) -> bool:
        return self.https if self.cookie_secure is None else self.cookie_secure

    @property
    def inbox_dir(self) -> Path:
        return self.data_dir / "inbox"

    @property
    def store_dir(self) -> Path:
        return self.data_dir / "store"

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'credflow.db').resolve()}"

    @cached_property
    def session_secret(self) -> str:
        """The cookie signing key: from the settings, else kept in data_dir/secret.key."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(48))
        return path.read_text().strip()

    def ensure_dirs(self) -> None:
        """Make the folders, private to this account: clinicians' documents and the database
        live here. Sets the process umask so every file made later (database, WAL, store,
        page images) is unreadable by other local users."""
        os.umask(UMASK)
        for d in (self.data_dir, self.inbox_dir, self.store_dir):
            if not d.exists():
                d.mkdir(mode=0o700, parents=True, exist_ok=True)

    def loose_modes(self) -> list[tuple[Path, int]]:
        """Existing files and folders of the data folder that other local users may read."""
        candidates = [self.data_dir, self.inbox_dir, self.store_dir, self.data_dir / "pages"]
        candidates += [*self.data_dir.glob("credflow.db*"), self.data_dir / "secret.key"]
        return [
            (path, path.stat().st_mode & 0o777)
            for path in candidates
            if path.exists() and path.stat().st_mode & 0o007
        ]


def load_settings(data_dir: Path | None = None, **overrides: object) -> Settings:
    """Settings from the environment, with command-line values taking precedence."""
    values = {k: v for k, v in overrides.items() if v is not None}
    if data_dir is not None:
        values["data_dir"] = data_dir
    return Settings(**values)  # type: ignore[arg-type]
