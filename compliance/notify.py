"""The notification pass: find deviations, queue reminders and manager mail, send the outbox.

Messages are queued in the `outbox` table under a unique dedupe key (e.g. credential +
expiry + offset), so running the pass twice queues nothing twice. Sending claims rows with
a lease and a Message-ID before talking to the server and marks each sent right after;
a crash in between leaves a row `sending` whose lease expires, and the next pass sends it
again with the same Message-ID (the one duplicate no SMTP client can rule out). Failures
are retried with exponential backoff and end as `failed`, visible on the outbox page and
in `credflow notify --status`.

`run_pass(db, settings, today)` is what `credflow notify` and `credflow run` (daily) call.
"""

from __future__ import annotations

import logging
import os
import re
import smtplib
import socket
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.utils import make_msgid
from pathlib import Path
from typing import Any, Protocol, cast

from sqlalchemy import Table, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from compliance import deviations as dev
from compliance.expirations import DOC_LABELS
from compliance.mail import (
    MailSettings,
    MailTemplates,
    PermanentSendError,
    SmtpConfig,
    SmtpSender,
    build_message,
)
from compliance.requirements import Requirements, load_requirements
from compliance.status import (
    Level,
    ProviderFacts,
    ProviderFilter,
    ProviderStatus,
    current_credentials,
    evaluate,
    load_facts,
)
from compliance.training import SessionView, sessions_for, upcoming
from models import Credential, Database, Provider, Role, User, record_event
from models.base import utcnow
from models.compliance import Deviation, DeviationStatus, OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)
_OUTBOX = cast(Table, OutboxMessage.__table__)
MAIL_ADDRESS = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")
DEFAULT_OFFSETS = (90, 60, 30, 7)


class NotifySettings(MailSettings, Protocol):
    """What a notification pass reads from credflow's Settings."""

    reminder_days: list[int]
    public_url: str | None
    host: str
    port: int
    requirements_file: Path | None
    verification_max_age_days: int


@dataclass(frozen=True)
class NotifyOptions:
    reminder_days: tuple[int, ...] = DEFAULT_OFFSETS
    base_url: str = "http://127.0.0.1:8000"
    batch: int = 50
    # SMTP connections used at once: sending is bound by the server's round trips
    senders: int = 4
    lease_seconds: int = 600
    max_attempts: int = 8
    backoff_seconds: float = 60.0  # first retry after 1 minute, then 2, 4, 8 ...
    backoff_max_seconds: float = 6 * 3600.0

    @classmethod
    def from_settings(cls, settings: NotifySettings) -> NotifyOptions:
        days = tuple(sorted({int(d) for d in settings.reminder_days}))
        base = settings.public_url or f"http://{settings.host}:{settings.port}"
        return cls(reminder_days=tuple(d for d in days if d >= 0), base_url=str(base).rstrip("/"))

    def backoff(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(self.backoff_seconds * 2 ** max(attempts - 1, 0),
                                     self.backoff_max_seconds))  # fmt: skip


# --- queueing ----------------------------------------------------------------------


@dataclass(frozen=True)
class Draft:
    dedupe_key: str
    kind: str
    provider_id: int | None
    recipient: str
    template: str
    context: dict[str, Any]


def _insert_ignore(session: Session, rows: list[dict[str, Any]]) -> int:
    """INSERT ... ON CONFLICT (dedupe_key) DO NOTHING, on SQLite and PostgreSQL."""
    if not rows:
        return 0
    conn = session.connection()
    ins: Any = (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(
        OutboxMessage.__table__
    )
    stmt = ins.on_conflict_do_nothing(index_elements=["dedupe_key"])
    created = 0
    for i in range(0, len(rows), 500):
        chunk = rows[i : i + 500]
        result = conn.execute(stmt, chunk)
        # drivers that cannot count an executemany say -1: then every row is new (the keys
        # were checked just before, in this transaction)
        created += result.rowcount if result.rowcount >= 0 else len(chunk)
    return created


def queue(
    session: Session,
    drafts: Sequence[Draft],
    templates: MailTemplates,
    now: datetime | None = None,
    *,
    domain: str = "localhost",
) -> int:
    """Render and add the drafts whose dedupe key is new (due at `now`); returns how many
    were added."""
    if not drafts:
        return 0
    keys = [d.dedupe_key for d in drafts]
    existing: set[str] = set()
    for i in range(0, len(keys), 500):
        chunk = keys[i : i + 500]
        existing.update(
            session.scalars(
                select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(chunk))
            )
        )
    now = now or utcnow()
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for d in drafts:
        if d.dedupe_key in existing or d.dedupe_key in seen:
            continue
        seen.add(d.dedupe_key)
        subject, body = templates.render(d.template, d.context)
        rows.append(
            {
                "dedupe_key": d.dedupe_key, "kind": d.kind, "provider_id": d.provider_id,
                "recipient": d.recipient, "subject": subject[:300], "body": body,
                "status": OutboxStatus.PENDING.value, "attempts": 0, "next_attempt_at": now,
                "created_at": now, "message_id": make_msgid(domain=domain),
            }
        )  # fmt: skip
    return _insert_ignore(session, rows)


def reminder_drafts(
    facts: Iterable[ProviderFacts],
    statuses: dict[int, ProviderStatus],
    requirements: Requirements,
    today: date,
    offsets: Sequence[int],
    sessions: Sequence[SessionView],
) -> list[Draft]:
    """Reminders to clinicians: before each expiry (the smallest offset reached, so a late
    first pass sends one message, not four), CME short before recredentialing, and a
    missing life-support card with the next sessions that give one."""
    if not offsets:
        return []
    version = requirements.version_on(today)
    horizon = max(offsets)
    out: list[Draft] = []
    for p in facts:
        # an address that is not one (or could smuggle headers) gets no mail
        if not p.active or not p.email or not MAIL_ADDRESS.match(p.email):
            continue
        rules = version.rules_for(p.staff_category, p.states, p.department)
        st = statuses.get(p.id)
        labels = {i.credential_id: i.label for i in st.items if i.credential_id} if st else {}
        for cred, exp in current_credentials(p.credentials, rules):
            if exp is None or exp < today or (exp - today).days > horizon:
                continue
            days = (exp - today).days
            offset = min(d for d in offsets if days <= d)
            label = labels.get(cred.id) or DOC_LABELS.get(cred.doc_type, cred.doc_type)
            out.append(
                Draft(
                    f"expiry:{cred.id}:{exp.isoformat()}:{offset}", "reminder", p.id, p.email,
                    "reminder",
                    {
                        "name": p.name, "label": label, "expires_on": exp.isoformat(),
                        "days": days, "jurisdiction": cred.jurisdiction,
                        "sessions": [_session_ctx(s) for s in
                                     sessions_for(sessions, cred.doc_type, cred.title)],
                    },
                )
            )  # fmt: skip
        if st is None:
            continue
        for item in st.items:
            if item.kind == "cme_short" and item.due is not None and today <= item.due:
                days = (item.due - today).days
                if days > horizon:
                    continue
                offset = min(d for d in offsets if days <= d)
                out.append(
                    Draft(f"cme:{p.id}:{item.due.isoformat()}:{offset}", "cme", p.id, p.email,
                          "cme", {"name": p.name, "due": item.due.isoformat(),
                                  "reason": item.reason})
                )  # fmt: skip
            elif item.kind == "missing" and item.doc_type == "life_support_card":
                # once a month until it arrives
                title = item.label
                out.append(
                    Draft(
                        f"training:{p.id}:{item.key}:{today.strftime('%Y-%m')}", "training",
                        p.id, p.email, "training_missing",
                        {"name": p.name, "label": title,
                         "sessions": [_session_ctx(s) for s in
                                      sessions_for(sessions, "life_support_card", title)]},
                    )
                )  # fmt: skip
    return out


def _session_ctx(s: SessionView) -> dict[str, Any]:
    return {"title": s.title, "starts_at": s.when, "place": s.place}


@dataclass(frozen=True)
class Manager:
    id: int
    username: str
    email: str


def managers(session: Session) -> list[Manager]:
    rows = session.execute(
        select(User.id, User.username, User.email)
        .where(User.role.in_([Role.MANAGER.value, Role.ADMIN.value]))
        .where(User.disabled.is_(False), User.email.is_not(None))
        .order_by(User.id)
    )
    return [Manager(r.id, r.username, r.email) for r in rows if MAIL_ADDRESS.match(r.email or "")]


def manager_drafts(
    session: Session,
    opened: Sequence[int],
    today: date,
    statuses: dict[int, ProviderStatus],
    expiring_30: int,
    opts: NotifyOptions,
) -> list[Draft]:
    """New deviations (one message per pass that found some) and the weekly digest."""
    people = managers(session)
    if not people:
        return []
    out: list[Draft] = []
    if opened:
        rows = session.execute(
            select(Deviation.id, Deviation.kind, Deviation.summary, Deviation.provider_id)
            .where(Deviation.id.in_(list(opened)[:1000]))
            .order_by(Deviation.id)
        ).all()
        names = {s.provider_id: s.name for s in statuses.values()}
        listed = [
            {"id": r.id, "kind": r.kind, "summary": r.summary,
             "provider": names.get(r.provider_id, f"provider #{r.provider_id}")}
            for r in rows
        ]  # fmt: skip
        span = f"{min(opened)}-{max(opened)}"
        for m in people:
            out.append(
                Draft(f"deviations:{m.id}:{span}", "deviations", None, m.email, "deviations",
                      {"deviations": listed, "today": today.isoformat(),
                       "base_url": opts.base_url})
            )  # fmt: skip
    year, week, _ = today.isocalendar()
    week_start = today - timedelta(days=today.weekday())
    open_by_kind = session.execute(
        select(Deviation.kind, func.count())
        .where(Deviation.status != DeviationStatus.RESOLVED)
        .group_by(Deviation.kind)
        .order_by(Deviation.kind)
    ).all()
    oldest = session.execute(
        select(Deviation.id, Deviation.kind, Deviation.summary, Deviation.provider_id,
               Deviation.opened_at)
        .where(Deviation.status != DeviationStatus.RESOLVED)
        .order_by(Deviation.opened_at, Deviation.id)
        .limit(20)
    ).all()  # fmt: skip
    names = {s.provider_id: s.name for s in statuses.values()}
    failed = session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "failed")
    )
    levels = Counter(s.level for s in statuses.values())
    context = {
        "week_start": week_start.isoformat(),
        "open_total": sum(n for _, n in open_by_kind),
        "open_by_kind": [(k, n) for k, n in open_by_kind],
        "expiring_30": expiring_30,
        "non_compliant": levels[Level.NON_COMPLIANT],
        "at_risk": levels[Level.AT_RISK],
        "failed_messages": failed or 0,
        "oldest": [
            {"id": r.id, "kind": r.kind, "summary": r.summary,
             "opened": r.opened_at.date().isoformat(),
             "provider": names.get(r.provider_id, f"provider #{r.provider_id}")}
            for r in oldest
        ],
        "base_url": opts.base_url,
    }  # fmt: skip
    for m in people:
        out.append(Draft(f"digest:{m.id}:{year}-W{week:02d}", "digest", None, m.email, "digest",
                         context))  # fmt: skip
    return out


# --- sending -----------------------------------------------------------------------


@dataclass
class SendResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Claimed:
    id: int
    recipient: str
    subject: str
    body: str
    message_id: str
    attempts: int
    token: str  # the claim's lease owner


def claim(
    db: Database, worker: str, now: datetime, opts: NotifyOptions, config: SmtpConfig
) -> list[Claimed]:
    """Take up to `batch` due rows in one UPDATE: pending and due, or `sending` with an
    expired lease (a sender that crashed). A row has its Message-ID before it is sent (from
    the queue, or given here), so a resend after a crash carries the same one."""
    t = _OUTBOX
    c = t.c
    due = or_(
        (c.status == OutboxStatus.PENDING.value) & (c.next_attempt_at <= now),
        (c.status == OutboxStatus.SENDING.value) & (c.lease_expires_at < now),
    )
    token = f"{worker}:{uuid.uuid4().hex[:12]}"
    pick = select(c.id).where(due).order_by(c.id).limit(opts.batch)
    if not db.is_sqlite:
        pick = pick.with_for_update(skip_locked=True)
    with db.engine.begin() as conn:
        conn.execute(
            update(t)
            .where(c.id.in_(pick.scalar_subquery()), due)
            .values(status=OutboxStatus.SENDING.value, lease_owner=token,
                    lease_expires_at=now + timedelta(seconds=opts.lease_seconds),
                    attempts=c.attempts + 1)
        )  # fmt: skip
        rows = conn.execute(
            select(c.id, c.recipient, c.subject, c.body, c.message_id, c.attempts)
            .where(c.lease_owner == token)
            .order_by(c.id)
        ).all()
        out: list[Claimed] = []
        for r in rows:
            msg_id = r.message_id
            if not msg_id:
                msg_id = config.new_message_id()
                conn.execute(update(t).where(c.id == r.id).values(message_id=msg_id))
            out.append(Claimed(r.id, r.recipient, r.subject, r.body, msg_id, r.attempts, token))
    return out


def _finish(db: Database, row: Claimed, **values: Any) -> None:
    """Record the outcome, only while the row is still under this claim's lease."""
    c = _OUTBOX.c
    with db.engine.begin() as conn:
        conn.execute(
            update(_OUTBOX)
            .where(c.id == row.id, c.lease_owner == row.token,
                   c.status == OutboxStatus.SENDING.value)
            .values(lease_owner=None, lease_expires_at=None, **values)
        )  # fmt: skip


def _retry(
    db: Database, row: Claimed, error: str, now: datetime, opts: NotifyOptions, result: SendResult
) -> None:
    if row.attempts >= opts.max_attempts:
        _finish(db, row, status=OutboxStatus.FAILED.value, last_error=error)
        result.failed += 1
    else:
        _finish(db, row, status=OutboxStatus.PENDING.value, last_error=error,
                next_attempt_at=now + opts.backoff(row.attempts))  # fmt: skip
        result.retried += 1


def send_outbox(
    db: Database,
    config: SmtpConfig,
    opts: NotifyOptions | None = None,
    *,
    clock: Clock = utcnow,
) -> SendResult:
    """Send every due message over `opts.senders` SMTP connections at once (each claims its
    own batches). Stops early when the server cannot be reached (the claimed messages wait
    for their backoff); a message the server refuses for good is failed."""
    opts = opts or NotifyOptions()
    if opts.senders <= 1:
        return _send_loop(db, config, opts, clock)
    with ThreadPoolExecutor(opts.senders, thread_name_prefix="credflow-smtp") as pool:
        parts = list(pool.map(lambda _: _send_loop(db, config, opts, clock), range(opts.senders)))
    total = SendResult()
    for part in parts:
        total.sent += part.sent
        total.retried += part.retried
        total.failed += part.failed
        total.errors.extend(part.errors)
    return total


def _send_loop(db: Database, config: SmtpConfig, opts: NotifyOptions, clock: Clock) -> SendResult:
    worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    result = SendResult()
    with SmtpSender(config) as sender:
        while True:
            now = clock()
            batch = claim(db, worker, now, opts, config)
            if not batch:
                break
            started = time.monotonic()
            unreachable: str | None = None
            for n, row in enumerate(batch):
                if unreachable is not None:
                    _retry(db, row, unreachable, now, opts, result)
                    continue
                if time.monotonic() - started > opts.lease_seconds - 2 * config.timeout:
                    # the lease runs out before we could finish: let these go back unclaimed
                    for rest in batch[n:]:
                        _finish(db, rest, status=OutboxStatus.PENDING.value,
                                attempts=rest.attempts - 1)  # fmt: skip
                    break
                msg = build_message(config, recipient=row.recipient, subject=row.subject,
                                    body=row.body, message_id=row.message_id,
                                    sent_at=clock())  # fmt: skip
                try:
                    sender.send(msg)
                except PermanentSendError as e:
                    _finish(db, row, status=OutboxStatus.FAILED.value, last_error=str(e))
                    result.failed += 1
                    result.errors.append(str(e))
                except (smtplib.SMTPException, OSError) as e:
                    error = _smtp_error(e)
                    result.errors.append(error)
                    _retry(db, row, error, now, opts, result)
                    if _connection_error(e):
                        unreachable = error
                else:
                    # the text is not kept once sent: it holds personal data the mail
                    # server has anyway; the row stays as the record that it went out
                    _finish(db, row, status=OutboxStatus.SENT.value, sent_at=clock(),
                            last_error=None, body="")  # fmt: skip
                    result.sent += 1
            if unreachable is not None:
                log.warning("SMTP server unreachable: %s", unreachable)
                break
    return result


def _connection_error(e: BaseException) -> bool:
    return isinstance(e, (OSError, smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError))


_ADDRESS = re.compile(r"[^\s<>@]+@[^\s<>@]+")


def _smtp_error(e: BaseException) -> str:
    """The error for the outbox page and `notify --status`, without e-mail addresses."""
    if isinstance(e, smtplib.SMTPResponseException):
        text = e.smtp_error
        text = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
        out = f"SMTP {e.smtp_code}: {text[:200]}"
    else:
        out = f"{type(e).__name__}: {e}"[:300]
    return _ADDRESS.sub("<address>", out)


# --- the pass ----------------------------------------------------------------------


@dataclass
class PassSummary:
    today: date
    version: str = ""
    providers: int = 0
    deviations_opened: int = 0
    deviations_resolved: int = 0
    deviations_open: int = 0
    reminders_queued: int = 0
    manager_messages_queued: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    pending: int = 0
    timings: dict[str, float] = field(default_factory=dict)

    def lines(self) -> list[str]:
        return [
            f"compliance pass for {self.today.isoformat()} (rules {self.version}), "
            f"{self.providers} active clinicians",
            f"deviations: {self.deviations_opened} opened, {self.deviations_resolved} resolved, "
            f"{self.deviations_open} unresolved",
            f"queued: {self.reminders_queued} reminders, "
            f"{self.manager_messages_queued} to managers",
            f"sent: {self.sent}, to retry: {self.retried}, failed: {self.failed}, "
            f"waiting: {self.pending}",
        ]


def run_pass(
    db: Database,
    settings: NotifySettings,
    today: date | None = None,
    *,
    send: bool = True,
    clock: Clock = utcnow,
    requirements: Requirements | None = None,
    templates: MailTemplates | None = None,
) -> PassSummary:
    """One pass: detect deviations, queue reminders and manager mail, send the outbox.

    `settings` is credflow's Settings (or anything with its smtp_*, reminder_days and
    requirements_file attributes)."""
    today = today or clock().astimezone(UTC).date()
    requirements = requirements or load_requirements(settings.requirements_file)
    templates = templates or MailTemplates()
    opts = NotifyOptions.from_settings(settings)
    smtp = SmtpConfig.from_settings(settings)
    summary = PassSummary(today=today, version=requirements.version_on(today).version)
    t0 = time.perf_counter()
    with db.session() as s:
        facts = load_facts(s, ProviderFilter(active_only=True))
        summary.timings["load"] = time.perf_counter() - t0
        version = requirements.version_on(today)
        statuses = {p.id: evaluate(p, version, today) for p in facts}
        summary.timings["evaluate"] = time.perf_counter() - t0
        summary.providers = len(facts)
        found = dev.find(facts, statuses)
        detected = dev.detect(s, found, today)
        summary.deviations_opened = len(detected.opened)
        summary.deviations_resolved = len(detected.resolved)
        summary.timings["deviations"] = time.perf_counter() - t0
        sessions = upcoming(s, datetime.combine(today, datetime.min.time(), tzinfo=UTC))
        drafts = reminder_drafts(facts, statuses, requirements, today, opts.reminder_days, sessions)
        max_age = settings.verification_max_age_days
        from compliance.letters import coordinator_drafts  # letters builds on this module

        drafts += coordinator_drafts(s, today, max_age_days=max_age)  # candidates' file
        summary.reminders_queued = queue(s, drafts, templates, clock(), domain=smtp.domain)
        # for the digest: printed expiration dates in the next 30 days (one indexed query)
        expiring_30 = (
            s.scalar(
                select(func.count())
                .select_from(Credential)
                .join(Provider, Provider.id == Credential.provider_id)
                .where(Provider.active.is_(True))
                .where(Credential.expiration_date.between(today, today + timedelta(days=30)))
            )
            or 0
        )
        mdrafts = manager_drafts(s, detected.opened, today, statuses, expiring_30, opts)
        summary.manager_messages_queued = queue(s, mdrafts, templates, clock(), domain=smtp.domain)
        summary.timings["queue"] = time.perf_counter() - t0
    if send:
        sent = send_outbox(db, smtp, opts, clock=clock)
        summary.sent, summary.retried, summary.failed = sent.sent, sent.retried, sent.failed
        summary.timings["send"] = time.perf_counter() - t0
    with db.session() as s:
        counts = outbox_counts(s)
        summary.pending = counts.get(OutboxStatus.PENDING, 0) + counts.get(OutboxStatus.SENDING, 0)
        summary.deviations_open = (
            s.scalar(
                select(func.count())
                .select_from(Deviation)
                .where(Deviation.status != DeviationStatus.RESOLVED)
            )
            or 0
        )
    return summary


# --- what people look at -------------------------------------------------------------


def outbox_counts(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    ).all()
    return {str(k): int(n) for k, n in rows}


@dataclass(frozen=True)
class OutboxRow:
    id: int
    kind: str
    dedupe_key: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    provider_id: int | None


def outbox_problems(session: Session, limit: int = 200) -> list[OutboxRow]:
    """Failed messages and those waiting for a retry: what someone should look at."""
    q = (
        select(OutboxMessage)
        .where(
            or_(
                OutboxMessage.status == OutboxStatus.FAILED,
                OutboxMessage.last_error.is_not(None) & (OutboxMessage.status != OutboxStatus.SENT),
            )
        )
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    )
    return [
        OutboxRow(m.id, m.kind, m.dedupe_key, m.status, m.attempts, m.next_attempt_at,
                  m.last_error, m.created_at, m.sent_at, m.provider_id)
        for m in session.scalars(q)
    ]  # fmt: skip


def retry_failed(session: Session, *, actor: str, ids: Sequence[int] | None = None) -> int:
    """Put failed messages back in the queue (after fixing the SMTP settings, say)."""
    q = update(OutboxMessage).where(OutboxMessage.status == OutboxStatus.FAILED)
    if ids is not None:
        q = q.where(OutboxMessage.id.in_(list(ids)))
    result = session.execute(
        q.values(status=OutboxStatus.PENDING, attempts=0, next_attempt_at=utcnow())
    )
    n = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if n:
        record_event(session, actor=actor, action="outbox.retry", entity_type="outbox",
                     note=f"{n} failed messages queued again")  # fmt: skip
    return n
