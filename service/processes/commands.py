"""``samverkan timers …``: commands on the timers running cases wait on."""

from __future__ import annotations

import click

from service.transactions import commit_with_retry


@click.group("timers")
def timers_group() -> None:
    """Timer commands."""


@timers_group.command("recompute")
@click.argument("bpmn_id")
def recompute_command(bpmn_id: str) -> None:
    """Evaluate again the due moment of every waiting date timer of element BPMN_ID (after a calendar fix)."""
    from service.processes.timer_corrections import recompute_waiting_timers

    moved = commit_with_retry(lambda: recompute_waiting_timers(bpmn_id))
    click.echo(f"{moved} väntande timer(s) för {bpmn_id} fick ett nytt förfallodatum.")
