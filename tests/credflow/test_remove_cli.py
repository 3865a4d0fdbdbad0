"""`credflow remove`: removal on request from the command line, holds respected."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from compliance.removal import place_hold
from credflow.cli import app
from credflow.context import open_context
from models import AuditEvent, Credential, Provider


def _provider_with_licence(data_dir: Path) -> int:
    ctx = open_context(data_dir)
    with ctx.db.session() as session:
        provider = Provider(name="Maria Elena Gonzalez", npi="1234567893")
        provider.credentials.append(
            Credential(doc_type="medical_license", credential_number="35.123456")
        )
        session.add(provider)
        session.flush()
        provider_id = provider.id
    ctx.close()
    return provider_id


def test_remove_provider_is_refused_under_a_hold_then_done(tmp_path: Path) -> None:
    runner = CliRunner()
    provider_id = _provider_with_licence(tmp_path)
    ctx = open_context(tmp_path)
    with ctx.db.session() as session:
        hold = place_hold(
            session, actor="manager", reason="survey look-back", provider_id=provider_id
        )
        hold_id = hold.id

    refused = runner.invoke(
        app,
        ["remove", "provider", str(provider_id), "--reason", "asked", "--data-dir", str(tmp_path)],
    )
    assert refused.exit_code == 1
    assert "survey look-back" in refused.output

    from compliance.removal import release_hold

    with ctx.db.session() as session:
        release_hold(session, hold_id, actor="manager")
    done = runner.invoke(
        app,
        [
            "remove",
            "provider",
            str(provider_id),
            "--reason",
            "clinician left",
            "--as",
            "manager",
            "--data-dir",
            str(tmp_path),
        ],
    )
    assert done.exit_code == 0, done.output
    assert "1 credential(s)" in done.output
    with ctx.db.session() as session:
        assert session.get(Provider, provider_id) is None
        assert session.scalar(select(func.count()).select_from(Credential)) == 0
        tombstone = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "provider.removed")
        ).one()
        assert tombstone.actor == "manager"
        assert "Gonzalez" not in (tombstone.note or "")
    ctx.close()
