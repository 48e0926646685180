"""``samverkan import`` (a model from SpiffArena or Camunda, mapped and deployed) and ``samverkan test-process``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from service.errors import SamverkanError
from service.transactions import commit_with_retry

if TYPE_CHECKING:
    from service.modeller.imports import Preview


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--map", "mappings", multiple=True, metavar="BANA=ROLL@ORGANISATION",
              help="En bana (eller en uppgift utan bana, med sitt id) till en roll (kod eller svenskt namn) i en "
                   "organisation (id, namn, eller 'case' för ärendets organisation; utelämnad: ärendets).")
@click.option("--form", "picked", multiple=True, metavar="UPPGIFT=FORMULÄR",
              help="Formuläret för en uppgift som modellen inte anger något för (Camunda).")
@click.option("--process", "process_id", default=None, metavar="PROCESS-ID",
              help="Processen som startar ett ärende, när filen har flera körbara processer.")
@click.option("--comment", default="", help="Varför den här versionen driftsätts.")
def import_command(file: Path, mappings: tuple[str, ...], picked: tuple[str, ...], process_id: str | None,
                   comment: str) -> None:
    """Import FILE (SpiffArena or Camunda) with the JSON form files beside it and deploy it.

    Without --map (or with a lane left out) the user tasks are listed with their lanes and forms, and nothing
    is imported."""
    from service.modeller import imports, uploads

    paths = [file, *(path for path in sorted(file.parent.glob("*.json")) if path.is_file())]
    found: Preview | None = None
    try:
        bundle = uploads.read_uploads((path.name, path.read_bytes()) for path in paths)
        found = imports.preview(bundle, process_id)
        chosen = dict(_mapping(text) for text in mappings)
        forms = dict(_pair(text, "--form") for text in picked)
        row, is_new = commit_with_retry(lambda: imports.import_model(bundle, chosen, by=None, comment=comment,
                                                                      chosen_forms=forms, process_id=process_id))
    except SamverkanError as exc:
        _refused(file, exc, found)
    verb = "importerad och driftsatt som version" if is_new else "oförändrad, gäller fortfarande version"
    click.echo(f"{file.name}: {row.process_id} {verb} {row.version}")


def _mapping(text: str) -> tuple[str, tuple[str, str]]:
    key, value = _pair(text, "--map")
    role, _, organisation = value.partition("@")
    return key, (role, organisation or "case")


def _pair(text: str, option: str) -> tuple[str, str]:
    key, sign, value = text.rpartition("=")
    if not sign or not key.strip() or not value.strip():
        raise click.UsageError(f"{option} '{text}': skriv NAMN=VÄRDE.")
    return key.strip(), value.strip()


def _refused(file: Path, exc: SamverkanError, found: Preview | None) -> None:
    """Print the reason (each field's and element's), and the tasks to map when the model could be read."""
    if found is not None:
        _list_tasks(found)
    click.echo(f"{file.name}: avvisad: {exc.message}", err=True)
    for messages in getattr(exc, "fields", {}).values():
        for message in messages:
            click.echo(f"  {message}", err=True)
    for problem in getattr(exc, "problems", []):
        click.echo(f"  BPMN-element '{problem.element_id}': {problem.message}", err=True)
    sys.exit(1)


def _list_tasks(found: Preview) -> None:
    click.echo(f"{found.bundle.filename}: processen {found.process_id} har {len(found.tasks)} användaruppgifter:", err=True)
    for task in found.tasks:
        lane = f"bana '{task.lane}'" if task.lane is not None else "ingen bana"
        forms = ", ".join(f"{name}{' (saknas)' if name in task.missing else ''}" for name in (task.form, task.ui_form) if name)
        click.echo(f"  {task.bpmn_id} '{task.name}': {lane}; formulär: {forms or 'inget'}"
                   f"{''.join(f'; {hint}' for hint in task.hints)}", err=True)
    keys = ", ".join(f"'{group.key}'" for group in found.groups)
    click.echo(f"Ange --map för {keys}.", err=True)


@click.command("test-process")
@click.argument("process_id")
@click.option("--file", "file", default=None, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Kör testerna mot den här BPMN-filen (inte driftsatt) i stället för den senaste versionen.")
def test_process_command(process_id: str, file: Path | None) -> None:
    """Run the test cases of PROCESS_ID in memory against its latest version (or FILE); exit 1 if any fails."""
    from flask import current_app

    from service.modeller.operations import edited_forms
    from service.processes.definitions import (
        available_decisions,
        available_forms,
        configured_decisions,
        parsed,
        prepare_definition,
        require_latest_definition,
    )
    from service.processes.test_cases import run_test_cases

    try:
        if file is None:
            row = require_latest_definition(process_id)
            definition, schemas = parsed(row), row.forms
        else:
            forms_dir = Path(current_app.config["FORMS_DIR"])
            beside = {} if file.parent.resolve() == forms_dir.resolve() else available_forms(file.parent)
            # The decision tables beside the file first, as samverkan deploy reads them.
            same = file.parent.resolve() == Path(current_app.config["DECISIONS_DIR"]).resolve()
            tables = {**configured_decisions(), **({} if same else available_decisions(file.parent))}
            definition, schemas = prepare_definition(file.read_bytes(), file.name, forms_dir,
                                                     {**edited_forms(), **beside}, process_id, decision_files=tables)
        outcomes = run_test_cases(definition, schemas)
    except SamverkanError as exc:
        click.echo(f"{process_id}: {exc.message}", err=True)
        sys.exit(1)
    for outcome in outcomes:
        where = f" (BPMN-element '{outcome.element_id}')" if outcome.element_id else ""
        click.echo(f"godkänt: {outcome.name}" if outcome.passed else f"UNDERKÄNT: {outcome.message}{where}")
    failed = sum(not outcome.passed for outcome in outcomes)
    click.echo(f"{process_id}: {len(outcomes)} testfall, {failed} underkända.", err=bool(failed))
    if failed:
        sys.exit(1)
