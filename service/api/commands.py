"""``samverkan api-key``: issue an API key from the command line (the same as /konto/api-nycklar)."""

from __future__ import annotations

import sys

import click
from flask import Flask
from sqlalchemy import select

from service.api.tokens import create_token
from service.errors import ValidationFailed
from service.extensions import db
from service.parties.models import User
from service.transactions import commit_with_retry


def register(app: Flask) -> None:
    @app.cli.command("api-key")
    @click.argument("username")
    @click.option("--write", is_flag=True, help="Läs- och skrivbehörighet (annars bara läsa).")
    @click.option("--days", default=30, show_default=True, help="Giltighetstid i dagar (1–365).")
    @click.option("--name", default="kommandorad", show_default=True, help="Nyckelns namn.")
    def api_key(username: str, write: bool, days: int, name: str) -> None:
        """Create an API key for USERNAME and print its secret (shown once; only its hash is stored)."""
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None or not user.is_enabled:
            click.echo(f"Användaren '{username}' finns inte eller är avstängd.", err=True)
            sys.exit(1)
        scopes = {"read", "write"} if write else {"read"}
        try:
            issued = commit_with_retry(lambda: create_token(user, name, scopes, days))
        except ValidationFailed as exc:
            details = "; ".join(f"--{field}: {' '.join(messages)}" for field, messages in exc.fields.items())
            click.echo(f"Ingen nyckel: {exc.message} {details}", err=True)
            sys.exit(1)
        click.echo(issued.secret)
