"""`credflow notify` (one compliance pass) and `credflow compliance ...` (rules, status,
what-if, expirations CSV, refresh of the kept judgement)."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer

from credflow.context import open_context
from credflow.options import DataDir


def _day(value: str | None) -> date:
    if not value:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(value)
    except ValueError as e:
        raise typer.BadParameter("use YYYY-MM-DD") from e


DateOpt = Annotated[
    str | None, typer.Option("--date", help="Run as of this day (YYYY-MM-DD); default today.")
]


def register(app: typer.Typer) -> None:
    @app.command("notify")
    def notify_cmd(
        data_dir: DataDir = None,
        day: DateOpt = None,
        status: Annotated[
            bool, typer.Option("--status", help="Show the outbox and failures; send nothing.")
        ] = False,
        no_send: Annotated[
            bool, typer.Option("--no-send", help="Detect and queue, but send nothing.")
        ] = False,
        retry_failed: Annotated[
            bool, typer.Option("--retry-failed", help="Queue failed messages again first.")
        ] = False,
    ) -> None:
        """One compliance pass: find deviations, queue reminders and manager mail, send the
        outbox over SMTP (CREDFLOW_SMTP_HOST / _PORT / _FROM / _TLS / _USER / _PASSWORD)."""
        from compliance import notify
        from compliance.requirements import RequirementsError

        ctx = open_context(data_dir)
        try:
            if status:
                with ctx.db.session() as s:
                    counts = notify.outbox_counts(s)
                    problems = notify.outbox_problems(s)
                typer.echo(
                    "outbox: "
                    + ", ".join(
                        f"{k} {counts.get(k, 0)}" for k in ("pending", "sending", "sent", "failed")
                    )
                )
                for m in problems:
                    when = (
                        m.next_attempt_at.strftime("%Y-%m-%d %H:%M")
                        if m.status == "pending"
                        else ""
                    )
                    typer.echo(
                        f"  #{m.id} {m.kind} {m.status} attempts={m.attempts} "
                        f"{('next ' + when) if when else ''} {m.last_error or ''}".rstrip()
                    )
                if counts.get("failed"):
                    raise typer.Exit(1)
                return
            if retry_failed:
                with ctx.db.session() as s:
                    n = notify.retry_failed(s, actor="cli")
                typer.echo(f"{n} failed messages queued again")
            try:
                summary = notify.run_pass(ctx.db, ctx.settings, _day(day), send=not no_send)
            except RequirementsError as e:
                typer.echo(str(e), err=True)
                raise typer.Exit(2) from e
            for line in summary.lines():
                typer.echo(line)
            if summary.failed:
                raise typer.Exit(1)
        finally:
            ctx.close()

    group = typer.Typer(help="Requirements, compliance status and reports.", no_args_is_help=True)
    app.add_typer(group, name="compliance")

    @group.command("rules")
    def rules_cmd(
        file: Annotated[
            Path | None, typer.Argument(help="A requirements YAML; default: the one in use.")
        ] = None,
        data_dir: DataDir = None,
    ) -> None:
        """Check a requirements file and print its versions and what changed in each."""
        from compliance.requirements import RequirementsError, load_requirements
        from compliance.status import diff_versions
        from credflow.settings import load_settings

        path = file or load_settings(data_dir).requirements_file
        try:
            reqs = load_requirements(path)
        except RequirementsError as e:
            typer.echo(str(e), err=True)
            raise typer.Exit(2) from e
        typer.echo(f"{reqs.source}: {len(reqs.versions)} versions")
        for v in reqs.versions:
            sets = ", ".join(s.name for s in v.sets)
            typer.echo(
                f"  {v.version} from {v.effective}: verification {v.verification_days} days, "
                f"recredentialing {v.recredential_months} months, sets: {sets}"
            )
            for change in diff_versions(reqs.previous(v), v):
                typer.echo(f"    - {change}")

    @group.command("status")
    def status_cmd(
        provider_id: Annotated[int, typer.Argument(help="The provider's id.")],
        data_dir: DataDir = None,
        day: DateOpt = None,
    ) -> None:
        """A clinician's status on a date, item by item."""
        from compliance.requirements import load_requirements
        from compliance.status import provider_status

        ctx = open_context(data_dir)
        try:
            with ctx.db.session() as s:
                st = provider_status(
                    s, load_requirements(ctx.settings.requirements_file), provider_id, _day(day)
                )
        finally:
            ctx.close()
        if st is None:
            typer.echo(f"no provider {provider_id}", err=True)
            raise typer.Exit(1)
        typer.echo(f"provider {st.provider_id}: {st.status} on {st.on} (rules {st.version})")
        for i in st.items:
            typer.echo(f"  {i.level.label:14s} {i.label}: {i.reason}")

    @group.command("what-if")
    def what_if_cmd(
        version: Annotated[
            str | None, typer.Argument(help="Version name; default: the next upcoming one.")
        ] = None,
        data_dir: DataDir = None,
    ) -> None:
        """Who falls out of compliance when a rules version takes effect, and why."""
        from compliance.requirements import load_requirements
        from compliance.status import load_facts, what_if

        ctx = open_context(data_dir)
        try:
            reqs = load_requirements(ctx.settings.requirements_file)
            today = datetime.now(UTC).date()
            if version:
                chosen = reqs.version(version)
            elif reqs.upcoming(today):
                chosen = reqs.upcoming(today)[0]
            else:
                typer.echo("no upcoming rules version; name one to compare it with the one before")
                raise typer.Exit(1)
            with ctx.db.session() as s:
                report = what_if(load_facts(s), reqs, chosen)
        finally:
            ctx.close()
        typer.echo(
            f"version {report.version} on {report.effective} (after {report.previous}): "
            f"{len(report.rows)} clinicians worse off"
        )
        for r in report.rows:
            typer.echo(f"  provider {r.provider_id}: {r.before.label} -> {r.after.label}")
            for i in r.why:
                typer.echo(f"    {i.label}: {i.reason}")

    @group.command("expirations")
    def expirations_cmd(
        data_dir: DataDir = None,
        day: DateOpt = None,
        department: Annotated[str | None, typer.Option(help="Only this department.")] = None,
        category: Annotated[str | None, typer.Option(help="Only this staff category.")] = None,
        state: Annotated[str | None, typer.Option(help="Only clinicians practising here.")] = None,
    ) -> None:
        """The expirations dashboard as CSV on standard output."""
        from compliance.expirations import build_dashboard, dashboard_csv
        from compliance.requirements import load_requirements
        from compliance.status import ProviderFilter

        ctx = open_context(data_dir)
        try:
            with ctx.db.session() as s:
                board = build_dashboard(
                    s, load_requirements(ctx.settings.requirements_file), _day(day),
                    ProviderFilter(department=department, category=category, state=state),
                )  # fmt: skip
        finally:
            ctx.close()
        sys.stdout.write(dashboard_csv(board))

    @group.command("refresh")
    def refresh_cmd(data_dir: DataDir = None) -> None:
        """Judge every clinician whose kept compliance judgement is missing or out of date
        (after a rules change, or a bulk load); the dashboard then answers from it."""
        from rich.progress import Progress

        from compliance.requirements import load_requirements
        from compliance.standing import Keeper
        from compliance.standing import Progress as Judged

        ctx = open_context(data_dir)
        try:
            keeper = Keeper(ctx.db)
            with Progress() as bar:
                task = bar.add_task("judging clinicians", total=None)

                def report(p: Judged) -> None:
                    bar.update(task, completed=p.done, total=p.total)

                done = keeper.rebuild(load_requirements(ctx.settings.requirements_file), report)
        finally:
            ctx.close()
        typer.echo(f"{done} clinicians judged")
