"""``samverkan organisations …``: which organisations are members of which associations (GR, VästKom)."""

from __future__ import annotations

import sys

import click
from sqlalchemy import select

from service.errors import ValidationFailed
from service.extensions import db
from service.transactions import commit_with_retry


@click.group("organisations")
def organisations_group() -> None:
    """Organisation commands."""


@organisations_group.command("add-member")
@click.argument("member")
@click.argument("association")
def add_member_command(member: str, association: str) -> None:
    """Make MEMBER (an organisation's name) a member of ASSOCIATION: its recommendations go to MEMBER."""
    from service.parties.operations import add_association_membership

    _run(lambda: add_association_membership(_named(member), _named(association), by=None))
    click.echo(f"{member} är medlem i {association}.")


@organisations_group.command("remove-member")
@click.argument("member")
@click.argument("association")
def remove_member_command(member: str, association: str) -> None:
    """End MEMBER's membership of ASSOCIATION."""
    from service.parties.operations import remove_association_membership

    _run(lambda: remove_association_membership(_named(member), _named(association), by=None))
    click.echo(f"{member} är inte längre medlem i {association}.")


@organisations_group.command("members")
@click.argument("association")
def members_command(association: str) -> None:
    """List the members of ASSOCIATION."""
    from service.parties.queries import list_members

    for organisation in list_members(_named(association).id):
        click.echo(organisation.name)


def _named(name: str):  # type: ignore[no-untyped-def]
    from service.parties.models import Organisation

    found = db.session.scalar(select(Organisation).where(Organisation.name == name))
    if found is None:
        click.echo(f"Organisationen ”{name}” finns inte.", err=True)
        sys.exit(2)
    return found


def _run(change) -> None:  # type: ignore[no-untyped-def]
    try:
        commit_with_retry(change)
    except ValidationFailed as exc:
        click.echo(" ".join(message for messages in exc.fields.values() for message in messages), err=True)
        sys.exit(1)
