"""Writing and sending e-mail: Jinja templates anyone can edit, and SMTP via smtplib.

Each template in `templates/mail/` starts with a `Subject:` line, then a blank line, then
the body. Messages are rendered when they are queued (the outbox keeps the text), and
sent over one SMTP connection per batch.
"""

from __future__ import annotations

import contextlib
import smtplib
import socket
import ssl
from dataclasses import dataclass
from email.header import Header
from email.message import Message
from email.mime.text import MIMEText
from email.utils import format_datetime, make_msgid
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Protocol

from jinja2 import Environment, FileSystemLoader, StrictUndefined

MAIL_TEMPLATES = Path(__file__).parent / "templates" / "mail"


class MailSettings(Protocol):
    """The SMTP values of credflow's Settings (compliance does not import credflow)."""

    smtp_host: str
    smtp_port: int
    smtp_from: str
    smtp_tls: Literal["none", "starttls", "ssl"]
    smtp_user: str | None
    smtp_password: str | None


@dataclass(frozen=True)
class SmtpConfig:
    host: str = "127.0.0.1"
    port: int = 25
    sender: str = "credflow@localhost"
    tls: Literal["none", "starttls", "ssl"] = "none"
    user: str | None = None
    password: str | None = None
    timeout: float = 20.0

    @classmethod
    def from_settings(cls, settings: MailSettings) -> SmtpConfig:
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_from,
            tls=settings.smtp_tls,
            user=settings.smtp_user,
            password=settings.smtp_password,
        )

    @property
    def domain(self) -> str:
        return self.sender.rsplit("@", 1)[-1].strip("> ") or "localhost"

    def new_message_id(self) -> str:
        return make_msgid(domain=self.domain)


class PermanentSendError(Exception):
    """The server refused the message for good (5xx): retrying will not help."""


class MailTemplates:
    """Renders `NAME.txt` into (subject, body)."""

    def __init__(self, folder: Path = MAIL_TEMPLATES) -> None:
        self.env = Environment(
            loader=FileSystemLoader(str(folder)),
            undefined=StrictUndefined,
            autoescape=False,  # plain-text mail
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )

    def render(self, template: str, context: dict[str, Any]) -> tuple[str, str]:
        name = template
        text = self.env.get_template(f"{name}.txt").render(**context)
        head, _, body = text.partition("\n\n")
        if not head.startswith("Subject:"):
            raise ValueError(f"mail template {name}.txt must start with a 'Subject:' line")
        subject = " ".join(head[len("Subject:") :].split())
        return subject, body.strip() + "\n"


def build_message(
    config: SmtpConfig, *, recipient: str, subject: str, body: str, message_id: str, sent_at: Any
) -> Message:
    """A plain-text UTF-8 message. Built with the classic email API, which is several times
    faster than EmailMessage's header parsing: this runs once per message sent."""
    msg = MIMEText(body, "plain", "utf-8")
    msg["From"] = config.sender
    msg["To"] = recipient
    msg["Subject"] = subject if subject.isascii() else Header(subject, "utf-8").encode()
    msg["Message-ID"] = message_id
    msg["Date"] = format_datetime(sent_at)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to us
    return msg


class SmtpSender:
    """One SMTP connection, opened at the first message and closed on exit."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpSender:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        smtp: smtplib.SMTP
        if c.tls == "ssl":
            smtp = smtplib.SMTP_SSL(
                c.host, c.port, timeout=c.timeout, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(c.host, c.port, timeout=c.timeout)
            if c.tls == "starttls":
                smtp.starttls(context=ssl.create_default_context())
        if c.user:
            smtp.login(c.user, c.password or "")
        sock = getattr(smtp, "sock", None)
        if sock is not None:
            # SMTP is a chatty request/answer protocol: without this, Nagle's algorithm and
            # delayed ACKs add tens of milliseconds to every message
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return smtp

    def send(self, msg: Message) -> None:
        """Send one message; PermanentSendError for a 5xx refusal, other SMTP/OS errors
        for what may pass (server down, 4xx)."""
        if self._smtp is None:
            self._smtp = self._connect()
        try:
            refused = self._smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as e:
            codes = [code for code, _ in e.recipients.values()]
            if codes and all(code >= 500 for code in codes):
                raise PermanentSendError(f"recipient refused ({codes[0]})") from e
            raise
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as e:
            if e.smtp_code >= 500:
                raise PermanentSendError(f"refused by the server ({e.smtp_code})") from e
            raise
        except (smtplib.SMTPServerDisconnected, OSError):
            self._drop()
            raise
        if refused:
            raise PermanentSendError("recipient refused")

    def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            with contextlib.suppress(OSError):
                smtp.close()

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()
