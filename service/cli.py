"""The ``samverkan`` command: Flask's group with our commands (db comes from Flask-Migrate)."""

from __future__ import annotations

import secrets
import sys
from functools import partial
from pathlib import Path
from typing import Any, NoReturn

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, routes_command, shell_command
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from service import audit
from service.errors import SamverkanError
from service.extensions import db
from service.transactions import commit_with_retry


def _create_app():  # type: ignore[no-untyped-def]
    from service.app import create_app

    return create_app()


cli = FlaskGroup(create_app=_create_app, add_default_commands=False,
                 help="Samverkan: samverkansavtal mellan kommuner och regioner.")
# Flask's own `run` is the development server; ours (below, on app.cli) serves with granian (service/ops/server.py).
cli.add_command(shell_command)
cli.add_command(routes_command)


@click.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=None, type=int, envvar="SAMVERKAN_WORKERS",
              help="Webbprocesser (standard: en per processorkärna, minst två).")
@click.option("--threads", default=4, show_default=True, type=int, envvar="SAMVERKAN_THREADS",
              help="Trådar per webbprocess.")
def run_command(host: str, port: int, workers: int | None, threads: int) -> None:
    """Serve the application: granian's worker processes, and the scheduler in this process (service/ops/server.py)."""
    from service.ops.server import default_workers, serve

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    click.echo(f"Samverkan lyssnar på http://{host}:{port}/")
    sys.exit(serve(host, port, workers or default_workers(), threads, with_scheduler=app.config["SCHEDULER"] != "off"))


@click.command("scheduler")
def scheduler_command() -> None:
    """Run only the scheduler (on PostgreSQL: one of several candidates, the lock holder fires timers)."""
    import signal
    import threading

    from service.scheduler.setup import start_scheduling

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    scheduler = start_scheduling(app)
    click.echo("Schemaläggaren körs." if scheduler else "Schemaläggaren väntar på att bli ledare.")
    try:
        while not stop.wait(1):
            pass
    except KeyboardInterrupt:
        pass
    if scheduler is not None:
        # Do not wait for running jobs: each is one transaction, and an interrupted one rolls back and
        # runs again at the next start (its timer row is still waiting).
        scheduler.shutdown(wait=False)


@click.command("deploy")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--comment", default="", help="Varför den här versionen driftsätts.")
@click.option("--process", "process_id", default=None,
              help="Processen som startar ärendet, för en fil med flera körbara processer (en fil i taget).")
@click.option("--warnings", "show_warnings", is_flag=True,
              help="Skriv ut granskningens varningar (de stoppar inte driftsättningen), inte bara hur många de är.")
def deploy_command(files: tuple[Path, ...], comment: str, process_id: str | None, show_warnings: bool) -> None:
    """Validate and deploy BPMN files as new process versions (forms beside each file first, then forms/).

    Every problem of every file is printed, and nothing is deployed unless all files pass. A call activity to
    a process in another file needs that process deployed first (an earlier command)."""
    from service.processes import lint
    from service.processes.definitions import deploy_definition, unchanged_version

    if process_id is not None and len(files) > 1:
        raise click.UsageError("--process gäller en fil i taget.")
    forms_dir = Path(current_app.config["FORMS_DIR"])
    prepared = [(path, path.read_bytes(), _forms_for(path, forms_dir), _decisions_for(path)) for path in files]
    # An unchanged file (every `make run`) was checked when it was stored: no lint process for it.
    problems = [line for path, xml, forms, decisions in prepared
                if unchanged_version(xml, path.name, forms_dir, forms, process_id, decisions) is None
                for line in _deploy_problems(path, xml, forms_dir, forms, process_id, decisions)]
    for line in problems:
        click.echo(line, err=True)
    if problems:
        click.echo(f"Inget driftsattes: {len(problems)} fel.", err=True)
        sys.exit(1)
    for path, xml, forms, decisions in prepared:
        try:
            row, is_new = commit_with_retry(partial(deploy_definition, xml, path.name, forms_dir, by=None,
                                                    comment=comment, edited_forms=forms, process_id=process_id,
                                                    decision_files=decisions))
        except SamverkanError as exc:
            click.echo(f"{path.name}: avvisad: {exc.message}", err=True)
            sys.exit(1)
        verb = "driftsatt som version" if is_new else "oförändrad, gäller fortfarande version"
        click.echo(f"{path.name}: {row.process_id} {verb} {row.version}")
        if is_new:  # the lint's warnings, as the modeller marks them (an unchanged file was shown them before)
            _print_warnings(path, lint.lint_warnings(xml, {*(p.name for p in forms_dir.glob("*.json")), *forms}),
                            show_warnings)


def _print_warnings(path: Path, warnings: list[Any], each: bool) -> None:
    """Each lint warning of a newly deployed file, or their number and how to see them."""
    if warnings and not each:
        click.echo(f"{path.name}: {len(warnings)} varningar från granskningen (visa dem med --warnings)", err=True)
    for warning in warnings if each else []:
        where = f"BPMN-element '{warning.element_id}': " if warning.element_id else ""
        click.echo(f"{path.name}: varning: {where}{warning.message} (regel {warning.rule})", err=True)


def _forms_for(path: Path, forms_dir: Path) -> dict[str, Any]:
    """The forms a file's diagram may name: beside the BPMN file first, then edited in the modeller (which win
    over forms/, as in the browser); deploy_definition reads the rest from forms/."""
    from service.modeller.operations import edited_forms
    from service.processes.definitions import available_forms

    beside = {} if path.parent.resolve() == forms_dir.resolve() else available_forms(path.parent)
    return {**edited_forms(), **beside}


def _decisions_for(path: Path) -> dict[str, str]:
    """The decision tables (DMN) a file's business-rule tasks may call: the *.dmn files beside it first, then
    DECISIONS_DIR's with those edited in the modeller in their place (as in the browser)."""
    from service.processes.definitions import available_decisions, configured_decisions

    beside = {} if path.parent.resolve() == Path(current_app.config["DECISIONS_DIR"]).resolve() \
        else available_decisions(path.parent)
    return {**configured_decisions(), **beside}


def _deploy_problems(path: Path, xml: bytes, forms_dir: Path, forms: dict[str, Any],
                     process_id: str | None = None, decisions: dict[str, str] | None = None) -> list[str]:
    """One line per problem of the file, each naming its BPMN element."""
    from service.processes.definitions import validate_definition

    lines = []
    for problem in validate_definition(xml, path.name, forms_dir, forms, process_id, decisions):
        where = f"BPMN-element '{problem.element_id}': " if problem.element_id else ""
        lines.append(f"{path.name}: avvisad: {where}{problem.message}")
    return lines


@click.command("create-database")
def create_database_command() -> None:
    """Create the PostgreSQL database DATABASE_URL names, if it does not exist (SQLite makes its file itself)."""
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "postgresql":
        click.echo("SQLite: databasfilen skapas när den används första gången.")
        return
    name = url.database or ""
    try:
        with create_engine(url, poolclass=NullPool).connect():
            click.echo(f"Databasen {name} finns redan.")
            return
    except DBAPIError as exc:
        unreachable = exc  # missing, or the server, the user or the password is at fault
    server = create_engine(url.set(database="postgres"), poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            if connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}):
                _refuse_database(name, unreachable)  # it exists: the fault is elsewhere
            connection.execute(text(f"CREATE DATABASE {server.dialect.identifier_preparer.quote(name)}"))
    except DBAPIError as exc:
        _refuse_database(name, exc)
    click.echo(f"Databasen {name} är skapad.")


def _refuse_database(name: str, exc: Exception) -> NoReturn:
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    click.echo(f"Databasen {name} kunde inte nås eller skapas: {reason}", err=True)
    sys.exit(1)


@click.command("seed-demo")
def seed_demo_command() -> None:
    """Create the Västra Götaland demo organisations and users; print the users' passwords."""
    from service.agreements.demo import seed_demo_agreement
    from service.deviations.demo import seed_demo_cases
    from service.parties.demo import seed_demo
    from service.reports.demo import seed_demo_report

    _require_demo_processes()
    passwords = commit_with_retry(lambda: seed_demo(lambda: secrets.token_urlsafe(9)))
    # One line each: the agreement, the cases, the annual report (after the cases: its figures are theirs).
    for seed in (seed_demo_agreement, seed_demo_cases, seed_demo_report):
        summary = commit_with_retry(seed)
        if summary:
            click.echo(summary)
    click.echo("Demoanvändare (lösenorden sätts om varje gång kommandot körs):")
    for username, (password, description) in passwords.items():
        click.echo(f"  {username:<10} {password:<14} {description}")


DEMO_PROCESSES = ("agreement_adoption", "agreement_lifecycle", "deviation", "dispute")


def _require_demo_processes() -> None:
    """Refuse in one line, before anything is written, when the database or the demo's processes are missing."""
    from service.processes.definitions import get_latest_definition

    try:
        missing = [name for name in DEMO_PROCESSES if get_latest_definition(name) is None]
    except DBAPIError:
        db.session.rollback()
        click.echo("Databasen saknar tabellerna: kör först samverkan db upgrade.", err=True)
        sys.exit(1)
    if missing:
        click.echo(f"Processerna {', '.join(missing)} är inte driftsatta: kör först samverkan deploy bpmn/*.bpmn.",
                   err=True)
        sys.exit(1)


@click.group("audit")
def audit_group() -> None:
    """Audit log commands."""


@audit_group.command("verify")
def verify_command() -> None:
    """Verify the audit log's hash chain against every anchor; name the first broken event."""
    result = audit.verify()
    db.session.rollback()
    if result.is_intact:
        click.echo(f"Granskningsloggen är obruten: {result.checked} händelser kontrollerade, mot {result.anchors} ankare.")
        return
    where = f"BRUTEN vid händelse {result.broken_seq}" if result.broken_seq is not None else "INTE KONTROLLERAD"
    click.echo(f"Granskningsloggen är {where}: {result.reason}", err=True)
    sys.exit(1)


def register_commands(app: Flask) -> None:
    """Our commands live on app.cli, so ``samverkan`` and ``flask --app service.app`` both have them."""
    from service.agreements.commands import agreements_group
    from service.modeller.commands import import_command, test_process_command
    from service.parties.commands import organisations_group
    from service.processes.commands import timers_group

    for command in (run_command, scheduler_command, deploy_command, create_database_command, seed_demo_command,
                    audit_group, timers_group, organisations_group, agreements_group, import_command,
                    test_process_command):
        app.cli.add_command(command)


def main() -> None:
    cli(prog_name="samverkan")
