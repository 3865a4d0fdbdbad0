"""`credflow user ...` and `credflow token ...` on the data folder and database that
`credflow run` uses (CREDFLOW_DATABASE_URL / --data-dir), SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from credflow.cli import app as cli
from credflow.context import open_context
from credflow.web import build_app
from models import AuditEvent, User
from tests.review.test_api_support import sign_in


def test_user_and_token_commands(db_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"CREDFLOW_DATABASE_URL": db_url, "CREDFLOW_DATA_DIR": str(tmp_path)}

    def run(*args: str, input: str | None = None) -> tuple[int, str]:
        result = runner.invoke(cli, list(args), env=env, input=input)
        return result.exit_code, result.output

    code, out = run("user", "add", "maria", "--role", "manager", "--password", "first pass 1")
    assert code == 0, out
    # no --password: asked twice, and a mismatch is asked again
    code, out = run(
        "user",
        "add",
        "sam",
        "--role",
        "auditor",
        input="one password\nanother one\nsecret pass 9\nsecret pass 9\n",
    )
    assert code == 0, out
    assert "do not match" in out
    code, out = run("user", "add", "maria", "--role", "admin", "--password", "whatever 1")
    assert code == 1 and "already exists" in out
    code, out = run("user", "add", "kim", "--role", "boss", "--password", "whatever 1")
    assert code != 0

    code, out = run("user", "list")
    assert code == 0 and "maria" in out and "manager" in out and "auditor" in out

    code, token = run("token", "create", "maria")
    assert code == 0
    token = token.strip()

    # the same data folder and settings serve the web app that `run` starts
    ctx = open_context(tmp_path, database_url=db_url)
    try:
        web = TestClient(build_app(ctx))
        assert (
            web.get("/api/me", headers={"Authorization": f"Bearer {token}"}).json()["username"]
            == "maria"
        )
        assert sign_in(web, "sam", "secret pass 9").status_code == 303

        code, out = run("user", "passwd", "maria", input="second pass 2\nsecond pass 2\n")
        assert code == 0, out
        assert sign_in(TestClient(build_app(ctx)), "maria", "first pass 1").status_code == 401
        assert sign_in(TestClient(build_app(ctx)), "maria", "second pass 2").status_code == 303

        code, out = run("user", "disable", "maria")
        assert code == 0, out
        assert web.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
        assert sign_in(TestClient(build_app(ctx)), "maria", "second pass 2").status_code == 401
        code, out = run("token", "create", "maria")
        assert code == 1 and "disabled" in out
        code, out = run("user", "disable", "nobody")
        assert code == 1 and "no user named 'nobody'" in out
        assert run("user", "enable", "maria")[0] == 0
        assert run("user", "role", "sam", "coordinator") == (0, "sam is now coordinator\n")
        code, second = run("token", "create", "sam")
        assert run("token", "revoke", "sam") == (0, "revoked 1 token(s) of sam\n")
        revoked = {"Authorization": f"Bearer {second.strip()}"}
        assert web.get("/api/me", headers=revoked).status_code == 401

        with ctx.db.session() as session:
            users = {u.username: u for u in session.scalars(select(User))}
            assert not users["maria"].disabled and users["sam"].role == "coordinator"
            events = session.scalars(select(AuditEvent).where(AuditEvent.actor == "cli")).all()
        assert [e.action for e in events] == [
            "user.created",
            "user.created",
            "token.created",
            "user.password_changed",
            "token.revoked",  # a new password revokes the user's tokens
            "user.disabled",
            "user.enabled",
            "user.role_changed",
            "token.created",
            "token.revoked",
        ]
        assert all("maria" not in (e.note or "") for e in events)
    finally:
        ctx.close()
