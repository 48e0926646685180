"""PostgreSQL's two roles: the owner runs migrations and owns the tables; the runtime role the service connects
as reads and writes the case tables, but only appends to the audit chain and moves its head forward."""

from __future__ import annotations

import re

from sqlalchemy import Connection, text

ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

# Everything on every table, then taken back where the audit chain needs it: no UPDATE, DELETE or TRUNCATE
# of audit rows; the head only UPDATEd (its trigger refuses a seq that does not grow); the schema's version
# (alembic_version) only read. Default privileges give tables of later migrations the same grants.
_GRANTS = (
    "GRANT CONNECT ON DATABASE {database} TO {role}",
    "GRANT USAGE ON SCHEMA public TO {role}",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
    "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
    "REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON audit_events FROM {role}",
    "REVOKE INSERT, DELETE, TRUNCATE, REFERENCES, TRIGGER ON audit_chain_head FROM {role}",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {role}",
)


class RoleRefused(Exception):
    """The role cannot be granted: a bad name, the owner itself, not PostgreSQL, or not permitted."""


def grant_runtime_role(connection: Connection, role: str) -> bool:
    """Create the runtime role if missing (LOGIN, no password yet) and grant it exactly its rights; True if
    created. Run as the owner, after every ``db upgrade``; the caller commits."""
    if connection.dialect.name != "postgresql":
        raise RoleRefused("SQLite har inga databasroller: bara PostgreSQL har en körroll")
    if not ROLE_NAME.match(role):
        raise RoleRefused(f"rollnamnet {role!r} ska vara små bokstäver, siffror och _ (högst 63 tecken)")
    if role == connection.scalar(text("SELECT current_user")):
        raise RoleRefused(f"{role} är ägaren som kör kommandot: körrollen måste vara en annan roll")
    if connection.scalar(text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = :role"),
                         {"role": role}):
        raise RoleRefused(f"{role} äger tabeller: körrollen får inte vara ägaren (den kan stänga av triggrarna)")
    created = not connection.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :role"), {"role": role})
    if created:
        connection.execute(text(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE'))
    database = connection.dialect.identifier_preparer.quote(str(connection.scalar(text("SELECT current_database()"))))
    for statement in _GRANTS:
        connection.execute(text(statement.format(database=database, role=f'"{role}"')))
    if connection.scalar(text("SELECT to_regclass('alembic_version')")) is not None:  # absent if not migrated
        connection.execute(text(f'REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM "{role}"'))
    return created
