"""Notifications through a real SMTP server (aiosmtpd on a free port), read back from it:
reminders at the right offsets and only once, across re-runs and a crash; retries with
backoff while the server is down; refusals marked failed; mail to managers."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from compliance import notify
from compliance.mail import SmtpConfig
from compliance.training import add_session
from credflow.settings import Settings
from models import Credential, Database, Provider, User
from models.compliance import CommitteeDecision, OutboxMessage
from tests.compliance.test_status import TODAY, add_cred, add_provider, complete_physician


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Sink:
    """Keeps every message the server accepts; refuses recipients starting with 'bounce'."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address.startswith("bounce"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=default_policy)
        self.messages.append(msg)
        return "250 Message accepted"


class SmtpServer:
    """A real SMTP server that a test can stop and start again on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.sink = Sink()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self) -> list[EmailMessage]:
        return self.sink.messages


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def settings_for(server: SmtpServer, tmp_path: Path, **kw: Any) -> Settings:
    return Settings(data_dir=tmp_path, smtp_host="127.0.0.1", smtp_port=server.port,
                    smtp_from="credentialing@hospital.example", **kw)  # fmt: skip


def at(day: date, hour: int = 6) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=hour)


def nurse_with_expiring_bls(db: Database, expires: date) -> int:
    with db.session() as s:
        pid = add_provider(s, "Nora Nurse", category="registered_nurse", states=("OR",),
                           email="nora@example.org")  # fmt: skip
        add_cred(s, pid, "nursing_license", state="OR", expires=expires + timedelta(days=700))
        add_cred(s, pid, "life_support_card", title="BLS Provider", expires=expires)
        add_session(s, title="BLS renewal class", starts_at=at(expires - timedelta(days=50), 9),
                    place="Training room 2", renews_doc_type="life_support_card",
                    renews_course="BLS", actor="test")  # fmt: skip
        add_session(s, title="ACLS course", starts_at=at(expires - timedelta(days=40), 9),
                    place="Sim lab", renews_doc_type="life_support_card", renews_course="ACLS",
                    actor="test")  # fmt: skip
    return pid


def test_reminders_at_each_offset_once(db: Database, smtp: SmtpServer, tmp_path: Path) -> None:
    start = TODAY
    expires = start + timedelta(days=90)
    nurse_with_expiring_bls(db, expires)
    with db.session() as s:
        # an address that would smuggle a header gets no mail at all
        bad = add_provider(s, "Bad Address", category="registered_nurse", states=("OR",),
                           email="x@example.org\nBcc: all@elsewhere.example")  # fmt: skip
        add_cred(s, bad, "nursing_license", state="OR", expires=expires)
    settings = settings_for(smtp, tmp_path)

    def run(day: date) -> notify.PassSummary:
        return notify.run_pass(db, settings, day, clock=lambda: at(day))

    first = run(start)
    assert (first.reminders_queued, first.sent) == (1, 1)
    (msg,) = smtp.messages
    assert msg["To"] == "nora@example.org"
    assert msg["From"] == "credentialing@hospital.example"
    assert msg["Subject"] == f"Your BLS card expires on {expires} (90 days)"
    body = msg.get_content()
    assert "BLS renewal class" in body and "Training room 2" in body
    assert "ACLS course" not in body  # it does not renew a BLS card
    assert msg["Message-ID"]

    assert run(start).sent == 0  # the same day again: nothing new
    assert run(start + timedelta(days=29)).sent == 0  # 61 days left: still the 90-day notice
    assert run(start + timedelta(days=30)).sent == 1  # 60 days
    # the 30-day pass was missed; with 5 days left only the 7-day reminder goes out
    assert run(start + timedelta(days=85)).sent == 1
    assert [m["Subject"].split("(")[1] for m in smtp.messages] == [
        "90 days)",
        "60 days)",
        "5 days)",
    ]
    with db.session() as s:
        keys = sorted(s.scalars(select(OutboxMessage.dedupe_key)))
        sent = s.execute(select(OutboxMessage.status, OutboxMessage.body)).all()
    assert [k.rsplit(":", 1)[1] for k in keys] == ["60", "7", "90"]
    # a sent message's text (personal data) is not kept; the row records that it went out
    assert {tuple(r) for r in sent} == {("sent", "")}
    assert len({m["Message-ID"] for m in smtp.messages}) == 3


def test_crash_between_send_and_mark(db: Database, smtp: SmtpServer, tmp_path: Path) -> None:
    """Rows left 'sending' by a crashed sender wait for their lease, then go out again with
    the Message-ID fixed at the claim; rows under a live lease are not touched."""
    nurse_with_expiring_bls(db, TODAY + timedelta(days=30))
    settings = settings_for(smtp, tmp_path)
    config = SmtpConfig.from_settings(settings)
    opts = notify.NotifyOptions(lease_seconds=600)
    notify.run_pass(db, settings, TODAY, send=False, clock=lambda: at(TODAY))
    t0 = at(TODAY)
    # the crashed sender: it claimed the row (lease until t0 + 600 s) and then died
    claimed = notify.claim(db, "crashed-worker", t0, opts, config)
    assert len(claimed) == 1
    with db.session() as s:
        row = s.get(OutboxMessage, claimed[0].id)
        assert row is not None and row.status == "sending" and row.message_id
        fixed_id = row.message_id

    # another sender during the lease leaves it alone
    assert notify.send_outbox(db, config, opts, clock=lambda: t0 + timedelta(seconds=300)).sent == 0
    assert smtp.messages == []
    # after the lease it is sent once, with the Message-ID given at the claim
    after = t0 + timedelta(seconds=601)
    assert notify.send_outbox(db, config, opts, clock=lambda: after).sent == 1
    assert notify.send_outbox(db, config, opts, clock=lambda: after).sent == 0
    assert [m["Message-ID"] for m in smtp.messages] == [fixed_id]
    with db.session() as s:
        row = s.get(OutboxMessage, claimed[0].id)
        assert row is not None and (row.status, row.attempts, row.lease_owner) == ("sent", 2, None)


def test_retry_with_backoff_while_the_server_is_down(
    db: Database, smtp: SmtpServer, tmp_path: Path
) -> None:
    nurse_with_expiring_bls(db, TODAY + timedelta(days=30))
    settings = settings_for(smtp, tmp_path)
    config = SmtpConfig.from_settings(settings)
    opts = notify.NotifyOptions(backoff_seconds=60, max_attempts=3)
    notify.run_pass(db, settings, TODAY, send=False, clock=lambda: at(TODAY))
    smtp.stop()
    t0 = at(TODAY)

    def state() -> tuple[str, int, datetime, str | None]:
        with db.session() as s:
            m = s.scalars(select(OutboxMessage)).one()
            return m.status, m.attempts, m.next_attempt_at, m.last_error

    r = notify.send_outbox(db, config, opts, clock=lambda: t0)
    assert (r.sent, r.retried) == (0, 1)
    status, attempts, next_at, error = state()
    assert (status, attempts, next_at) == ("pending", 1, t0 + timedelta(seconds=60))
    assert error and "Connection refused" in error
    # before the backoff is over nothing is tried
    assert (
        notify.send_outbox(db, config, opts, clock=lambda: t0 + timedelta(seconds=59)).retried == 0
    )
    assert state()[1] == 1
    t1 = t0 + timedelta(seconds=60)
    notify.send_outbox(db, config, opts, clock=lambda: t1)
    assert state()[:3] == ("pending", 2, t1 + timedelta(seconds=120))  # twice as long
    # the failure is visible
    with db.session() as s:
        assert [p.attempts for p in notify.outbox_problems(s)] == [2]

    smtp.start()
    t2 = t1 + timedelta(seconds=120)
    assert notify.send_outbox(db, config, opts, clock=lambda: t2).sent == 1
    assert state()[0] == "sent" and len(smtp.messages) == 1


def test_failed_after_max_attempts_and_permanent_refusals(
    db: Database, smtp: SmtpServer, tmp_path: Path
) -> None:
    nurse_with_expiring_bls(db, TODAY + timedelta(days=30))
    with db.session() as s:
        pid = add_provider(s, "Bounce Back", category="registered_nurse", states=("OR",),
                           email="bounce@example.org")  # fmt: skip
        add_cred(s, pid, "nursing_license", state="OR", expires=TODAY + timedelta(days=20))
        add_cred(s, pid, "life_support_card", title="BLS", expires=TODAY + timedelta(days=600))
    settings = settings_for(smtp, tmp_path)
    config = SmtpConfig.from_settings(settings)
    summary = notify.run_pass(db, settings, TODAY, clock=lambda: at(TODAY))
    # the refused recipient fails at once (5xx); the other message is delivered
    assert (summary.sent, summary.failed) == (1, 1)
    with db.session() as s:
        (failed,) = notify.outbox_problems(s)
    assert failed.status == "failed" and "recipient refused (550)" in (failed.last_error or "")

    # a message that keeps failing ends as failed after max_attempts
    with db.session() as s:
        s.execute(update(OutboxMessage).where(OutboxMessage.id == failed.id)
                  .values(recipient="later@example.org"))  # fmt: skip
        assert notify.retry_failed(s, actor="test") == 1
    smtp.stop()
    opts = notify.NotifyOptions(max_attempts=2, backoff_seconds=1)
    t = datetime.now(UTC) + timedelta(seconds=1)  # retry_failed queued it for now
    notify.send_outbox(db, config, opts, clock=lambda: t)
    r = notify.send_outbox(db, config, opts, clock=lambda: t + timedelta(seconds=5))
    assert r.failed == 1
    with db.session() as s:
        assert notify.outbox_counts(s) == {"sent": 1, "failed": 1}


def test_managers_get_new_deviations_and_a_weekly_digest(
    db: Database, smtp: SmtpServer, tmp_path: Path
) -> None:
    with db.session() as s:
        s.add(User(username="maria", password_hash="x", role="manager", email="maria@example.org"))
        s.add(User(username="aud", password_hash="x", role="auditor", email="aud@example.org"))
        pid = complete_physician(s, "Lapsed Doctor", email="doc@example.org")
        add_cred(s, pid, "medical_license", state="NV", expires=TODAY - timedelta(days=1))
        s.query(Provider).filter_by(id=pid).update({"states": ["CA", "NV"]})
    settings = settings_for(smtp, tmp_path, public_url="https://cred.hospital.example")

    monday = TODAY - timedelta(days=TODAY.weekday())
    first = notify.run_pass(db, settings, monday, clock=lambda: at(monday))
    assert first.deviations_opened == 2  # NV licence expired, NV DEA missing
    to_maria = [m for m in smtp.messages if m["To"] == "maria@example.org"]
    assert sorted(m["Subject"] for m in to_maria) == [
        "credflow weekly digest, week of " + monday.isoformat(),
        "credflow: 2 new deviations",
    ]
    deviations_mail = next(m for m in to_maria if "new deviations" in m["Subject"])
    body = deviations_mail.get_content()
    assert "Lapsed Doctor" in body and "https://cred.hospital.example/compliance/deviations" in body
    assert not [m for m in smtp.messages if m["To"] == "aud@example.org"]

    wednesday = monday + timedelta(days=2)
    assert notify.run_pass(db, settings, wednesday, clock=lambda: at(wednesday)).sent == 0
    next_week = monday + timedelta(days=7)
    again = notify.run_pass(db, settings, next_week, clock=lambda: at(next_week))
    assert again.deviations_opened == 0
    digests = [m for m in smtp.messages if "digest" in m["Subject"]]
    assert len(digests) == 2 and "Open deviations: 2" in digests[1].get_content()


def test_notify_command(smtp: SmtpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from credflow.cli import app
    from credflow.context import open_context

    data = tmp_path / "data"
    ctx = open_context(data)
    with ctx.db.session() as s:
        pid = add_provider(s, "Cli Nurse", category="registered_nurse", states=("OR",),
                           email="cli@example.org")  # fmt: skip
        add_cred(s, pid, "nursing_license", state="OR", expires=date(2026, 5, 1))
    ctx.close()
    monkeypatch.setenv("CREDFLOW_SMTP_PORT", str(smtp.port))
    monkeypatch.setenv("CREDFLOW_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CREDFLOW_SMTP_FROM", "office@hospital.example")
    runner = CliRunner()
    result = runner.invoke(app, ["notify", "--data-dir", str(data), "--date", "2026-03-02"])
    assert result.exit_code == 0, result.output
    # the licence reminder and "no BLS card on record" (training due)
    assert "queued: 2 reminders" in result.output and "sent: 2" in result.output
    assert smtp.messages[0]["From"] == "office@hospital.example"
    status = runner.invoke(app, ["notify", "--data-dir", str(data), "--status"])
    assert status.exit_code == 0 and "sent 2" in status.output
    assert "cli@example.org" not in status.output  # no personal values printed
    bad = runner.invoke(app, ["notify", "--data-dir", str(data), "--date", "2026-13-01"])
    assert bad.exit_code != 0


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_smtp_login_with_the_settings_user(tmp_path: Path) -> None:
    """CREDFLOW_SMTP_USER / _PASSWORD: the server sees the login before any message."""
    from aiosmtpd.smtp import AuthResult, LoginPassword

    logins: list[tuple[str, str]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        if isinstance(data, LoginPassword):
            logins.append((data.login.decode(), data.password.decode()))
            return AuthResult(success=data.password == b"s3cret")
        return AuthResult(success=False)

    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, authenticator=authenticator,
                            auth_require_tls=False, auth_required=True)  # fmt: skip
    controller.start()
    try:
        config = SmtpConfig(port=port, user="credflow", password="s3cret")
        from compliance.mail import SmtpSender, build_message

        with SmtpSender(config) as sender:
            sender.send(build_message(config, recipient="a@example.org", subject="Grüße",
                                      body="héllo\n", message_id=config.new_message_id(),
                                      sent_at=datetime.now(UTC)))  # fmt: skip
    finally:
        controller.stop()
    assert logins[0] == ("credflow", "s3cret")
    (msg,) = sink.messages
    assert msg["Subject"] == "Grüße" and msg.get_content() == "héllo\n"


def test_cme_due_before_recredentialing(db: Database, smtp: SmtpServer, tmp_path: Path) -> None:
    with db.session() as s:
        pid = complete_physician(s, "Few Credits", email="few@example.org")
        s.query(CommitteeDecision).filter_by(provider_id=pid).update(
            {"decided_on": date(2023, 3, 22)}  # recredentialing due 2026-03-22, in 20 days
        )
        s.query(Credential).filter_by(provider_id=pid, doc_type="cme_certificate").update(
            {"credit_hours": "12.5"}
        )
    settings = settings_for(smtp, tmp_path)
    notify.run_pass(db, settings, TODAY, clock=lambda: at(TODAY))
    (cme,) = [m for m in smtp.messages if m["Subject"].startswith("CME")]
    assert cme["Subject"] == "CME hours due before your recredentialing on 2026-03-22"
    assert "12.5 of 50 CME hours" in cme.get_content()
