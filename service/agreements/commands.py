"""``samverkan agreements …``: commands on agreements already adopted."""

from __future__ import annotations

import click

from service.transactions import commit_with_retry


@click.group("agreements")
def agreements_group() -> None:
    """Agreement commands."""


@agreements_group.command("restart-lifecycles")
def restart_lifecycles_command() -> None:
    """Give every running agreement lifecycle the latest diagram (start date, follow-up terms, checklist items)."""
    from service.agreements.lifecycle import restart_lifecycles

    restarted = commit_with_retry(restart_lifecycles)
    click.echo(f"{len(restarted)} avtal fick en ny livscykel: {', '.join(map(str, restarted)) or '–'}.")
