"""A person's decision on a hit: confirmed or dismissed, with a reason. A confirmed
exclusion (LEIE, SAM) or Medicare opt-out opens a critical deviation with an owner and
queues mail to every manager at once (`send_now` sends it); every decision is audited and
applies to the open results of the same hit on unchanged data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from compliance import notify
from compliance.deviations import default_owner
from compliance.mail import MailTemplates, SmtpConfig
from compliance.screening.run import DEVIATION_KINDS, LIST_LABELS
from models import Database, Provider, User, record_event
from models.base import utcnow
from models.compliance import Deviation, DeviationStatus
from models.screening import ScreeningResult

DECISIONS = ("confirmed", "dismissed")


class AdjudicationError(ValueError):
    """A decision that cannot be recorded; `status` is the HTTP status that fits."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Outcome:
    result_id: int
    decision: str
    deviation_id: int | None
    messages_queued: int


def adjudicate(
    session: Session,
    result_id: int,
    decision: str,
    reason: str,
    *,
    actor: str,
    base_url: str = "http://127.0.0.1:8000",
    mail_domain: str = "localhost",
) -> Outcome:
    reason = " ".join((reason or "").split())
    if decision not in DECISIONS:
        raise AdjudicationError("decision is 'confirmed' or 'dismissed'", 422)
    if not reason:
        raise AdjudicationError("say why (the reason is kept as evidence)", 422)
    row = session.get(ScreeningResult, result_id)
    if row is None:
        raise AdjudicationError(f"no screening result #{result_id}", 404)
    if row.result == "clear":
        raise AdjudicationError(f"screening result #{result_id} is clear: nothing to decide")
    if row.status != "open":
        raise AdjudicationError(f"screening result #{result_id} is already {row.status}")
    now = utcnow()
    same = [row.id]
    if row.fingerprint:
        same = list(
            session.scalars(
                select(ScreeningResult.id).where(
                    ScreeningResult.fingerprint == row.fingerprint, ScreeningResult.status == "open"
                )
            )
        )
    session.execute(
        update(ScreeningResult)
        .where(ScreeningResult.id.in_(same))
        .values(status=decision, decided_by=actor, decided_at=now, decision_reason=reason)
    )
    record_event(
        session,
        actor=actor,
        action=f"screening.{decision}",
        entity_type="screening_result",
        entity_id=row.id,
        note=f"{row.source} {row.result}: {reason}",
    )
    dev_id, queued = None, 0
    if decision == "confirmed" and row.source in DEVIATION_KINDS:
        dev_id, queued = _open_deviation(session, row, reason, actor, base_url, mail_domain)
    session.expire(row)
    return Outcome(row.id, decision, dev_id, queued)


def _open_deviation(
    s: Session, row: ScreeningResult, reason: str, actor: str, base_url: str, domain: str
) -> tuple[int, int]:
    kind = DEVIATION_KINDS[row.source]
    key = f"{kind}:{row.provider_id}:{row.source}:{row.entry_key}"
    existing = s.scalar(select(Deviation.id).where(Deviation.open_key == key))
    if existing is not None:
        return existing, 0
    label = LIST_LABELS[row.source]
    owner = default_owner(s)
    now = utcnow()
    dev = Deviation(
        key=key,
        open_key=key,
        kind=kind,
        provider_id=row.provider_id,
        summary=f"CRITICAL: confirmed on {label} (list of {row.list_date}); "
        f"screening result #{row.id}",
        status=DeviationStatus.OPEN,
        owner_id=owner,
        opened_at=now,
        updated_at=now,
    )
    s.add(dev)
    s.flush()
    record_event(
        s,
        actor=actor,
        action="deviation.opened",
        entity_type="deviation",
        entity_id=dev.id,
        note=f"{kind} (critical), screening result #{row.id}",
    )
    provider = s.get(Provider, row.provider_id)
    owner_name = s.scalar(select(User.username).where(User.id == owner)) if owner else None
    today: date = datetime.now(UTC).date()
    context: dict[str, Any] = {
        "provider": provider.name if provider else f"provider #{row.provider_id}",
        "list": label,
        "list_date": row.list_date,
        "reason": reason,
        "actor": actor,
        "today": today.isoformat(),
        "deviation_id": dev.id,
        "owner": owner_name or "nobody yet",
        "base_url": base_url.rstrip("/"),
    }
    drafts = [
        notify.Draft(
            f"exclusion:{dev.id}:{m.id}",
            "deviations",
            row.provider_id,
            m.email,
            "exclusion",
            context,
        )
        for m in notify.managers(s)
    ]
    return dev.id, notify.queue(s, drafts, MailTemplates(), domain=domain)


def send_now(db: Database, smtp: SmtpConfig, opts: notify.NotifyOptions) -> notify.SendResult:
    """Send what is waiting in the outbox (the managers' mail about a confirmed exclusion)."""
    return notify.send_outbox(db, smtp, opts)
