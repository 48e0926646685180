"""``samverkan audit …`` commands beyond ``verify``: replay, anchor, export, package, disposal, access log."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from sqlalchemy.exc import DBAPIError

from service.extensions import db
from service.processes.models import ProcessInstance
from service.transactions import commit_with_retry


@click.command("replay")
@click.argument("instance_id", required=False, type=int)
@click.option("--all", "every", is_flag=True, help="Kör om alla processinstanser.")
def replay_command(instance_id: int | None, every: bool) -> None:
    """Re-execute an instance from its recorded inputs; report "identical" or the first differing step."""
    from service.audit.replay import replay_all, replay_instance

    if every == (instance_id is not None):
        raise click.UsageError("Ange ett ärendes processinstans eller --all.")
    if every:
        results = replay_all()
    else:
        instance = db.session.get(ProcessInstance, instance_id)
        if instance is None:
            raise click.BadParameter(f"processinstans {instance_id} finns inte", param_hint="INSTANCE_ID")
        results = [replay_instance(instance)]
    db.session.rollback()
    for result in results:
        click.echo(result.summary(), err=not result.is_identical)
    if not all(result.is_identical for result in results):
        sys.exit(1)


@click.command("anchor")
def anchor_command() -> None:
    """Verify the chain against every anchor and append a signed anchor of its head to AUDIT_ANCHOR_DIR."""
    from service.audit.anchor import anchor_directory, verify_and_anchor

    result = commit_with_retry(verify_and_anchor)
    if not result.is_intact:
        where = f"BRUTEN vid händelse {result.broken_seq}" if result.broken_seq is not None else "inte kontrollerad"
        click.echo(f"Inget ankare skrivet: kedjan är {where}: {result.reason}", err=True)
        sys.exit(1)
    click.echo(f"Ankare skrivet i {anchor_directory()}; kedjan obruten ({result.checked} händelser, "
               f"{result.anchors} tidigare ankare).")


@click.command("grant-runtime-role")
@click.argument("role")
def grant_runtime_role_command(role: str) -> None:
    """Create (if missing) the PostgreSQL role the service runs as and grant it its rights (run as the owner)."""
    from service.audit.roles import RoleRefused, grant_runtime_role

    try:
        with db.engine.begin() as connection:
            created = grant_runtime_role(connection, role)
    except RoleRefused as exc:
        raise click.BadParameter(str(exc), param_hint="ROLE") from None
    except DBAPIError as exc:
        raise click.ClickException(f"rättigheterna kunde inte ges: {str(exc.orig or exc).strip()}") from None
    if created:
        click.echo(f"Rollen {role} är skapad (utan lösenord: sätt ett med \\password {role} i psql).")
    click.echo(f"{role} får läsa och skriva ärendetabellerna, bara lägga till i granskningsloggen och "
               "flytta kedjans huvud framåt. Kör kommandot igen efter varje `samverkan db upgrade`.")


@click.command("export")
@click.argument("case_type", type=click.Choice(["agreement", "deviation", "dispute"]))
@click.argument("case_id", type=int)
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True)
def export_command(case_type: str, case_id: int, fmt: str, output: Path) -> None:
    """Export a case's history (JSON with its hash chain entries, or CSV); the read is in the access log."""
    from service.audit.access_log import command_line_user, record_access
    from service.audit.cases import get_case
    from service.audit.export import export_csv, export_json_text

    case = get_case(case_type, case_id)
    if case is None:
        raise click.BadParameter(f"{case_type} {case_id} finns inte", param_hint="CASE_ID")
    content = export_json_text(case) if fmt == "json" else export_csv(case)
    commit_with_retry(lambda: record_access(None, case_type, case_id, f"export-{fmt}",
                                            f"samverkan audit export {case_type} {case_id}", command_line_user()))
    output.write_text(content, encoding="utf-8")
    click.echo(f"Skrev {output}")


@click.command("package")
@click.argument("agreement_id", type=int)
@click.option("--output-dir", "-o", type=click.Path(file_okay=False, path_type=Path), default=Path("."))
def package_command(agreement_id: int, output_dir: Path) -> None:
    """Write an agreement's cases as an E-ARK CSIP/SIP-style information package (zip); each case's read is logged."""
    from service.audit.access_log import command_line_user, record_case_reads
    from service.audit.package import build_package, package_case_keys

    name, content = build_package(agreement_id)
    commit_with_retry(lambda: record_case_reads(None, package_case_keys(agreement_id), "package",
                                                f"samverkan audit package {agreement_id}", command_line_user()))
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / name).write_bytes(content)
    click.echo(f"Skrev {output_dir / name}")


@click.command("disposal-decision")
@click.option("--case-type", required=True, type=click.Choice(["deviation", "dispute"]))
@click.option("--after-years", required=True, type=int)
@click.option("--reference", required=True, help="Gallringsbeslutets diarienummer.")
def disposal_decision_command(case_type: str, after_years: int, reference: str) -> None:
    """Record the disposal decision (gallringsbeslut) for a case type."""
    from service.audit.retention import set_disposal_decision

    decision = commit_with_retry(lambda: set_disposal_decision(case_type, after_years, reference, by=None))
    click.echo(f"Gallringsbeslut {decision.reference}: {case_type} gallras {after_years} år efter avslut.")


@click.command("dispose")
@click.option("--dry-run", is_flag=True, help="Visa bara vad som skulle gallras.")
def dispose_command(dry_run: bool) -> None:
    """Dispose the content of closed cases past their disposal decision (logged in the audit chain)."""
    from service.audit.retention import dispose_due

    disposed = commit_with_retry(lambda: dispose_due(dry_run=dry_run))
    for item in disposed:
        click.echo(f"{'skulle gallra' if dry_run else 'gallrade'} {item.case_type} {item.case_id}: {', '.join(item.fields)}")
    click.echo(f"{len(disposed)} ärenden.")


@click.command("purge-access-log")
def purge_access_log_command() -> None:
    """Remove access-log rows older than ACCESS_LOG_RETENTION_YEARS (never fewer than five years)."""
    from service.audit.access_log import purge_expired, retention_years

    try:
        years = retention_years()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{commit_with_retry(purge_expired)} rader äldre än {years} år borttagna.")


COMMANDS = (replay_command, anchor_command, export_command, package_command, disposal_decision_command,
            dispose_command, purge_access_log_command, grant_runtime_role_command)


def register(group: click.Group) -> None:
    """Add the commands to the ``audit`` group (service/cli.py defines it, with ``verify``)."""
    for command in COMMANDS:
        group.add_command(command)
