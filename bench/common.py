"""Set-up shared by the benchmarks: a fresh PostgreSQL database built by the real migrations."""

from __future__ import annotations

import psycopg
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import text
from sqlalchemy.engine import make_url

from service.app import create_app
from service.extensions import db
from service.parties.demo import seed_demo

# A strong key (the service refuses weak ones, issue #17); for benchmarks only.
BENCH_SECRET_KEY = "bench-only-key-9e3b7d1f5a2c8e4b6d0f3a9c7e1b5d2f"


def fresh_app(url: str) -> Flask:
    """Create the database if missing, empty it, build the schema through the migrations, seed the demo
    parties and users (password "x"). Commits; the caller deploys what it measures."""
    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql", database="test").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (parsed.database,)).fetchone():
            connection.execute(f'CREATE DATABASE "{parsed.database}"')
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": BENCH_SECRET_KEY})
    with app.app_context():
        db.session.remove()  # an open session's lock makes DROP wait forever on PostgreSQL
        with db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        upgrade()
        seed_demo(lambda: "x")
        db.session.commit()
    return app
