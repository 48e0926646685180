"""Time the inbox with 100 000 open tasks on PostgreSQL: list pages and the menu's COUNT queries.

Also the REST API's task list (GET /api/v1/tasks with a read token), paged and sorted in the database.

Data: 500 groups (100 organisations × 5 roles), 100 000 READY tasks spread evenly over them (one process
instance each, with a 2 kB serialized state the lists must never read), 10 000 agreements whose versions
own the first 10 000 instances. Measured through the Flask test client as a logged-in user (a page
includes the menu's two COUNTs), and the COUNT queries alone; EXPLAIN shows the list query's plan.

Run from the project root; it drops and recreates every table in the bench database:

    .venv/bin/python bench/inbox.py [--tasks 100000] [--groups 500] [--agreements 10000] [--runs 60]
                                    [--database-url URL]
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from common import fresh_app  # bench/common.py (the script's own folder is on sys.path)
from flask import Flask
from sqlalchemy import insert, select, text
from sqlalchemy.dialects import postgresql

from service.agreements.models import Agreement, AgreementParty, AgreementVersion
from service.api.tokens import create_token
from service.extensions import db
from service.inbox import queries
from service.parties.models import Membership, Organisation, Role, User
from service.processes.definitions import deploy_definition
from service.processes.models import HumanTask, ProcessInstance
from service.processes.operations import count_tasks_for
from service.transactions import commit_with_retry

ROOT = Path(__file__).resolve().parent.parent
ROLES = (Role.CASE_OFFICER, Role.MANAGER, Role.BODY_SECRETARY, Role.DEVIATION_CONTACT, Role.STEERING_GROUP_MEMBER)
CHUNK = 5000


def build(app: Flask, tasks: int, groups: int, agreements: int) -> None:
    """Insert organisations, the bench users, instances, tasks and agreements with bulk INSERTs."""
    with app.app_context():
        definition = commit_with_retry(lambda: deploy_definition(
            (ROOT / "bpmn" / "agreement_adoption.bpmn").read_bytes(), "agreement_adoption.bpmn", ROOT / "forms", by=None))[0]
        organisations = [Organisation(name=f"Benchkommun {n:03d}", kind="kommun") for n in range(groups // len(ROLES))]
        db.session.add_all(organisations)
        db.session.flush()
        org_ids = [o.id for o in organisations]
        one = _user("bench1", [(org_ids[0], Role.CASE_OFFICER)])
        ten = _user("bench10", [(org_ids[n], role) for n in range(2) for role in ROLES])
        db.session.add_all([one, ten])
        db.session.commit()
        group_list = [(org, str(role)) for org in org_ids for role in ROLES]
        _bulk_instances_and_tasks(definition.id, tasks, group_list, one.id)
        _bulk_agreements(agreements, org_ids, one.id)
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def _user(username: str, groups: list[tuple[int, Role]]) -> User:
    user = User(username=username, display_name=f"Bänk {username}")
    user.set_password("x")
    user.memberships = [Membership(organisation_id=org, role=role) for org, role in groups]
    return user


def _bulk_instances_and_tasks(definition_id: int, count: int, groups: list[tuple[int, str]], claimer: int) -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    state = "x" * 2048
    for first in range(0, count, CHUNK):
        numbers = range(first, min(first + CHUNK, count))
        instance_ids = db.session.scalars(insert(ProcessInstance).returning(ProcessInstance.id), [
            {"definition_id": definition_id, "title": f"Ärende {n} om samverkan", "state": state, "status": "running",
             "lock_version": 1, "started_at": start, "updated_at": start} for n in numbers]).all()
        db.session.execute(insert(HumanTask), [
            {"instance_id": instance_id, "task_id": f"t{n}", "bpmn_id": "decide", "name": f"Uppgift {n % 50}",
             "case_title": f"Ärende {n} om samverkan",
             "form": "agreement-decision.schema.json", "role": groups[n % len(groups)][1],
             "organisation_id": groups[n % len(groups)][0], "status": "ready",
             "claimed_by_id": claimer if n % 1000 == 0 else None,
             "due_at": start + timedelta(hours=n % 2000) if n % 7 else None, "created_at": start + timedelta(seconds=n)}
            for n, instance_id in zip(numbers, instance_ids, strict=True)])
        db.session.commit()


def _bulk_agreements(count: int, org_ids: list[int], creator: int) -> None:
    instance_ids = db.session.scalars(select(ProcessInstance.id).order_by(ProcessInstance.id).limit(count)).all()
    now = datetime(2026, 11, 1, tzinfo=UTC)
    agreement_ids = db.session.scalars(insert(Agreement).returning(Agreement.id), [
        {"title": f"Avtal {n}", "status": "awaiting_decisions", "coordinator_organisation_id": org_ids[n % len(org_ids)],
         "created_by_id": creator, "created_at": now, "follow_up_interval": "P1Y", "expiry_notice_days": 90}
        for n in range(len(instance_ids))]).all()
    db.session.execute(insert(AgreementVersion), [
        {"agreement_id": a, "number": 1, "status": "awaiting_decisions", "title": f"Avtal {n}", "sections": {},
         "motivation": "", "recommender_ids": [], "adoption_round": 1, "instance_id": i, "created_by_id": creator,
         "created_at": now}
        for n, (a, i) in enumerate(zip(agreement_ids, instance_ids, strict=True))])
    db.session.execute(insert(AgreementParty), [
        {"agreement_id": a, "organisation_id": org_ids[(n + k) % len(org_ids)], "diarienummer": ""}
        for n, a in enumerate(agreement_ids) for k in range(2)])
    db.session.commit()


def timed(runs: int, work: Callable[[], Any]) -> tuple[float, float]:
    """(median, p95) in milliseconds; one warm-up call first."""
    work()
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        work()
        samples.append((time.perf_counter() - began) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(int(len(samples) * 0.95) - 1, 0)]


def signed_in(app: Flask, username: str) -> Any:
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/logga-in").get_data(as_text=True))
    response = client.post("/logga-in", data={"username": username, "password": "x", "csrf_token": token.group(1)})
    assert response.status_code == 302, response.status_code
    return client


def measure(app: Flask, runs: int) -> None:
    pages = [("group list, page 1", "/uppgifter?lista=grupp"), ("group list, page 4", "/uppgifter?lista=grupp&sida=4"),
             ("my list (claimed)", "/uppgifter"), ("group list, search (all match)", "/uppgifter?lista=grupp&q=samverkan"),
             ("group list, sorted by case", "/uppgifter?lista=grupp&sortera=case"),
             ("group list, due filter", "/uppgifter?lista=grupp&forfaller=overdue")]
    print(f"{'':34}{'median ms':>10}{'p95 ms':>9}  rows")
    for username in ("bench1", "bench10"):
        client = signed_in(app, username)
        with app.app_context():
            user = db.session.scalar(select(User).where(User.username == username))
            visible = count_tasks_for(user)
            print(f"-- {username}: {len(user.groups())} group(s), {visible} visible tasks")
            for label, scope in (("COUNT mine", "mine"), ("COUNT group", "group")):
                median, p95 = timed(runs, lambda scope=scope, user=user: count_tasks_for(user, scope))
                print(f"{label:34}{median:10.2f}{p95:9.2f}  {count_tasks_for(user, scope)}")
        for label, url in pages:
            def get(url: str = url, client: Any = client) -> None:
                response = client.get(url)
                assert response.status_code == 200
            median, p95 = timed(runs, get)
            rows = client.get(url).get_data(as_text=True).count('data-task-id="')
            print(f"{label:34}{median:10.2f}{p95:9.2f}  {rows}")
        measure_api(app, username, runs)


def measure_api(app: Flask, username: str, runs: int) -> None:
    """The REST API's task list for the same person, with a read token."""
    api_lists = [("API list, page 1 (25)", "/api/v1/tasks?page_size=25"),
                 ("API list, page 4, newest first", "/api/v1/tasks?page_size=25&page=4&sort=-created_at"),
                 ("API list, group tasks", "/api/v1/tasks?page_size=25&assigned=group")]
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        secret = commit_with_retry(lambda: create_token(user, "bench", {"read"}, 1)).secret
    client, headers = app.test_client(), {"Authorization": f"Bearer {secret}"}
    for label, url in api_lists:
        def call(url: str = url) -> None:
            response = client.get(url, headers=headers)
            assert response.status_code == 200, response.get_data(as_text=True)
        median, p95 = timed(runs, call)
        rows = len(client.get(url, headers=headers).get_json()["items"])
        print(f"{label:34}{median:10.2f}{p95:9.2f}  {rows}")


def explain(app: Flask) -> None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "bench10"))
        for args in ({"lista": "grupp"}, {"lista": "mina"}):
            filters = queries.InboxFilters.from_args(args)
            query = queries._sorted(queries._filtered(user, filters), filters.sortera).limit(25)
            sql = str(query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
            plan = [row[0] for row in db.session.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + sql))]
            print(f"\nEXPLAIN ANALYZE list query ({args['lista']}, bench10):")
            print("\n".join("  " + line for line in plan))
            print("  -> seq scan on human_tasks:", any("Seq Scan on human_tasks" in line for line in plan))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/samverkan_bench_inbox")
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--groups", type=int, default=500)
    parser.add_argument("--agreements", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=60)
    args = parser.parse_args()
    app = fresh_app(args.database_url)
    began = time.perf_counter()
    build(app, args.tasks, args.groups, args.agreements)
    print(f"built {args.tasks} open tasks over {args.groups} groups and {args.agreements} agreements "
          f"in {time.perf_counter() - began:.0f} s")
    measure(app, args.runs)
    explain(app)


if __name__ == "__main__":
    main()
