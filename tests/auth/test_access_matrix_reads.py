"""The access matrix's pages (GET rows) and its refusals without a CSRF token, in one world per backend.

Neither kind of request may change anything (a GET reads; a POST without its token is refused before the
view runs), so they share the world that tests/auth/test_access_matrix.py builds afresh for every action:
one world and one sign-in per principal for all of them. A request that did change the world fails its own
test (the CSRF test compares the state before and after); the reads' rows are checked as the actions' are.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask, g

from service import clock
from service.extensions import db as _db
from service.processes.definitions import deploy_definition
from service.transactions import commit_with_retry
from tests.auth.matrix_world import PRINCIPALS, MatrixWorld, state
from tests.auth.test_access_matrix import ROWS, Row, _params, check_row
from tests.conftest import ROOT, _differing_reexecutions, _reset
from tests.deviations.world import START


@pytest.fixture(scope="module")
def world(app: Flask) -> Iterator[MatrixWorld]:
    """tests/auth/test_access_matrix.py's world with its diagrams deployed and the clock frozen, for the module;
    emptied afterwards, once its instances are checked to re-execute as the ``db`` fixture checks them."""
    backend = "postgresql" if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql") else "sqlite"
    clock.freeze(START)
    differing: list[str] = []
    with app.app_context():
        try:
            for name in ("deviation.bpmn", "dispute.bpmn"):
                commit_with_retry(lambda name=name: _deploy(name))
            yield MatrixWorld(app, _db)
            _db.session.remove()
            differing = _differing_reexecutions()
        finally:
            clock.reset()
            _reset(backend)
    assert not differing, f"re-execution differs: {differing}"


def _deploy(name: str) -> None:
    deploy_definition((ROOT / "bpmn" / name).read_bytes(), name, ROOT / "forms", by=None)


@pytest.mark.parametrize("row", _params("GET"))
def test_who_may_see_the_page(world: MatrixWorld, row: Row) -> None:
    check_row(world, row)


@pytest.mark.parametrize("row", [pytest.param(row, id=row.id) for row in ROWS if row.method == "POST"])
def test_posts_without_csrf_token_are_refused_and_change_nothing(world: MatrixWorld, row: Row) -> None:
    principal = sorted(row.allowed, key=PRINCIPALS.index)[0]
    world.token(principal)  # signed in, with a token in the session that the form below leaves out
    before = state()
    for name in list(g):
        g.pop(name)
    data = {name: value.format(**world.ids()) for name, value in row.data.items()}
    response = world.client(principal).post(row.path.format(**world.ids()), data=data)
    assert response.status_code == 400
    assert state() == before

