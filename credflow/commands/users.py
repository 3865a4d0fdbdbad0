"""`credflow user ...` and `credflow token ...`: accounts and API tokens on the same data
folder and settings that `credflow run` uses. Every change is an audit event."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from credflow.context import open_context
from credflow.options import DataDir
from models import ApiToken, Role, User
from review import auth

ACTOR = "cli"
RoleOption = Annotated[
    Role, typer.Option("--role", "-r", help="What the account may do.", case_sensitive=False)
]
PasswordOption = Annotated[
    str | None,
    typer.Option(
        "--password",
        help="The new password (asked for twice when left out; beware shell history).",
        show_default=False,
    ),
]


@contextmanager
def _session(data_dir: Path | None) -> Iterator[Session]:
    ctx = open_context(data_dir)
    try:
        with ctx.db.session() as session:
            yield session
    finally:
        ctx.close()


def _run(action: Callable[[], None]) -> None:
    """Run a change; an account error is one line on stderr and exit code 1."""
    try:
        action()
    except auth.AccountError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from None


def _ask_password(password: str | None) -> str:
    if password is not None:
        return password
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


def register(app: typer.Typer) -> None:
    user_app = typer.Typer(help="Accounts that sign in to the review UI.", no_args_is_help=True)
    token_app = typer.Typer(help="API tokens (Authorization: Bearer ...).", no_args_is_help=True)
    app.add_typer(user_app, name="user")
    app.add_typer(token_app, name="token")

    @user_app.command("add")
    def add(
        name: Annotated[str, typer.Argument(help="Username to sign in with.")],
        role: RoleOption = Role.COORDINATOR,
        password: PasswordOption = None,
        email: Annotated[str | None, typer.Option(help="Where notifications go.")] = None,
        data_dir: DataDir = None,
    ) -> None:
        """Add an account: coordinator, manager, auditor or admin."""
        secret = _ask_password(password)

        def change() -> None:
            with _session(data_dir) as session:
                auth.create_user(session, name, secret, role, email=email, actor=ACTOR)
            typer.echo(f"added {role.value} {name}")

        _run(change)

    @user_app.command("passwd")
    def passwd(
        name: Annotated[str, typer.Argument(help="Username.")],
        password: PasswordOption = None,
        data_dir: DataDir = None,
    ) -> None:
        """Set a new password (signs the user out everywhere)."""
        secret = _ask_password(password)

        def change() -> None:
            with _session(data_dir) as session:
                auth.set_password(session, name, secret, actor=ACTOR)
            typer.echo(f"password changed for {name}")

        _run(change)

    @user_app.command("role")
    def role_cmd(
        name: Annotated[str, typer.Argument(help="Username.")],
        role: Annotated[Role, typer.Argument(help="The new role.", case_sensitive=False)],
        data_dir: DataDir = None,
    ) -> None:
        """Change what an account may do."""

        def change() -> None:
            with _session(data_dir) as session:
                auth.set_role(session, name, role, actor=ACTOR)
            typer.echo(f"{name} is now {role.value}")

        _run(change)

    @user_app.command("disable")
    def disable(
        name: Annotated[str, typer.Argument(help="Username.")], data_dir: DataDir = None
    ) -> None:
        """Stop an account from signing in and revoke its API tokens."""

        def change() -> None:
            with _session(data_dir) as session:
                auth.disable_user(session, name, actor=ACTOR)
            typer.echo(f"disabled {name}")

        _run(change)

    @user_app.command("enable")
    def enable(
        name: Annotated[str, typer.Argument(help="Username.")], data_dir: DataDir = None
    ) -> None:
        """Let a disabled account sign in again."""

        def change() -> None:
            with _session(data_dir) as session:
                auth.enable_user(session, name, actor=ACTOR)
            typer.echo(f"enabled {name}")

        _run(change)

    @user_app.command("list")
    def list_users(data_dir: DataDir = None) -> None:
        """The accounts, their roles and whether they may sign in."""
        with _session(data_dir) as session:
            tokens = dict(
                session.execute(
                    select(ApiToken.user_id, func.count()).group_by(ApiToken.user_id)
                ).all()
            )
            table = Table("username", "role", "status", "tokens", "created")
            for user in session.scalars(select(User).order_by(User.username)):
                table.add_row(
                    user.username,
                    user.role,
                    "disabled" if user.disabled else "active",
                    str(tokens.get(user.id, 0)),
                    user.created_at.strftime("%Y-%m-%d"),
                )
        Console().print(table)

    @token_app.command("create")
    def create_token(
        name: Annotated[str, typer.Argument(help="The user the token acts as.")],
        days: Annotated[
            int | None,
            typer.Option(help="Days until it stops working (default CREDFLOW_TOKEN_DAYS, 90)."),
        ] = None,
        read_only: Annotated[
            bool, typer.Option("--read-only", help="It may read but change nothing.")
        ] = False,
        data_dir: DataDir = None,
    ) -> None:
        """Print a new API token for the user (shown once; only its hash is kept)."""

        def change() -> None:
            ctx = open_context(data_dir)
            try:
                valid = ctx.settings.token_days if days is None else days
                with ctx.db.session() as session:
                    token = auth.create_token(
                        session, name, actor=ACTOR, days=valid, read_only=read_only
                    )
            finally:
                ctx.close()
            typer.echo(token)

        _run(change)

    @token_app.command("list")
    def list_tokens(data_dir: DataDir = None) -> None:
        """Every API token: whose, its scope, when made, last used and when it expires."""
        with _session(data_dir) as session:
            rows = auth.list_tokens(session)
        table = Table("id", "user", "scope", "created", "last used", "expires")
        day = "%Y-%m-%d"
        for t in rows:
            table.add_row(
                str(t.id),
                t.username,
                "read-only" if t.read_only else "read-write",
                t.created_at.strftime(day),
                t.last_used_at.strftime(day) if t.last_used_at else "never",
                t.expires_at.strftime(day) if t.expires_at else "never",
            )
        Console(width=120).print(table)

    @token_app.command("revoke")
    def revoke(
        name: Annotated[str, typer.Argument(help="The user whose tokens stop working.")],
        data_dir: DataDir = None,
    ) -> None:
        """Revoke every API token of the user."""

        def change() -> None:
            with _session(data_dir) as session:
                count = auth.revoke_tokens(session, name, actor=ACTOR)
            typer.echo(f"revoked {count} token(s) of {name}")

        _run(change)
