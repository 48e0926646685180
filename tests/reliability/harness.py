"""What the load, crash and benchmark runs share: a world of organisations, users and open peer cases; real
processes (gunicorn app workers, ``samverkan scheduler``) on loopback; simulated users speaking HTTP; and the
checks that prove nothing was lost, duplicated or half-written. Used by tests/reliability and bench/load.py."""

from __future__ import annotations

import http.client
import os
import random
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

from sqlalchemy import select

from service.audit.models import AuditEvent
from service.columns import now
from service.engine import runner
from service.extensions import db
from service.parties.models import AuthorisedBody, Membership, Organisation, OrganisationKind, Role, User
from service.processes.definitions import deploy_definition, parsed
from service.processes.models import HumanTask, InstanceStatus, ProcessInstance, ProcessTimer, TaskStatus, TimerStatus
from service.processes.operations import start_process
from service.transactions import commit_with_retry
from tests.conftest import TEST_SECRET_KEY

ROOT = Path(__file__).resolve().parents[2]
PEER = ROOT / "bench" / "peer"
PASSWORD = "last-och-krasch-1"
TASK_LINK = re.compile(r'href="/uppgifter/(\d+)"')
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
# Every field of the three peer forms: the server keeps the declared ones of the task at hand.
PEER_FORM = {"text": "Utkast", "approved": "on", "signed_by": "Anna Andersson"}


# ---- the world ---------------------------------------------------------------------------------------------

@dataclass
class World:
    usernames: list[str]
    organisation_ids: list[int]


def deploy_all() -> None:
    """The peer diagram and the deviation process (reports start one)."""
    for path, forms in ((PEER / "peer.bpmn", PEER), (PEER / "peer_loop.bpmn", PEER),
                        (ROOT / "bpmn" / "deviation.bpmn", ROOT / "forms")):
        xml = path.read_bytes()
        commit_with_retry(lambda xml=xml, path=path, forms=forms: deploy_definition(xml, path.name, forms, by=None))


def build_world(users: int, organisations: int, cases_per_organisation: int) -> World:
    """Organisations with case officers (round robin) and open peer cases; committed."""
    deploy_all()
    orgs = [Organisation(name=f"Lastkommun {n}", kind=OrganisationKind.KOMMUN, bodies=[AuthorisedBody(name="Kommunstyrelsen")])
            for n in range(1, organisations + 1)]
    db.session.add_all(orgs)
    db.session.flush()
    people = []
    for n in range(users):
        person = User(username=f"last{n}", display_name=f"Lastperson {n}")
        person.set_password(PASSWORD)
        person.memberships = [Membership(organisation_id=orgs[n % organisations].id, role=Role.CASE_OFFICER)]
        people.append(person)
    db.session.add_all(people)
    db.session.commit()
    for org in orgs:
        officer = next(p for p in people if p.memberships[0].organisation_id == org.id)
        start_cases(officer, org.id, cases_per_organisation)
    return World([p.username for p in people], [o.id for o in orgs])


def start_cases(officer: User, organisation_id: int, count: int, process_id: str = "peer") -> list[int]:
    return [commit_with_retry(lambda n=n: start_process(process_id, by=officer, title=f"Ärende {n}",
                                                        data={"organisation_id": organisation_id})).id
            for n in range(count)]


# ---- processes -------------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


METRICS_TOKEN = "reliability-metrics-token"


def service_env(database_url: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": TEST_SECRET_KEY, "SAMVERKAN_LOG_LEVEL": "WARNING",
            "SAMVERKAN_METRICS_TOKEN": METRICS_TOKEN,
            "SAMVERKAN_SCHEDULER_LEADER_POLL_SECONDS": "1", "SAMVERKAN_SCHEDULER_SYNC_SECONDS": "1",
            "SAMVERKAN_SCHEDULER_HEARTBEAT_SECONDS": "1", **extra}


def start_gunicorn(database_url: str, workers: int, log: Any, metrics_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """gunicorn with deploy/gunicorn.conf.py on a free loopback port; returns the process and its base URL."""
    port = free_port()
    env = service_env(database_url, SAMVERKAN_SCHEDULER="off", PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
                      SAMVERKAN_WORKERS=str(workers), SAMVERKAN_BIND=f"127.0.0.1:{port}")
    command = [str(Path(sys.executable).with_name("gunicorn")), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
               "service.app:create_app()"]
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    if not wait_until(lambda: status(base, "/healthz") == 200 and len(children(process.pid)) >= workers, 60):
        process.kill()
        raise RuntimeError("gunicorn did not come up")
    return process, base


def start_service(database_url: str, workers: int, log: Any,
                  metrics_dir: Path) -> tuple[subprocess.Popen[bytes], subprocess.Popen[bytes], str]:
    """A ``samverkan scheduler`` and gunicorn's app workers: (scheduler, gunicorn, base URL). If gunicorn does
    not come up, the scheduler is stopped before the error goes on: left running, it would keep the scheduler's
    lock on the database, and every later scheduler of it (the next test's, the next run's) would wait for a
    leadership it never gets."""
    scheduler = start_scheduler(database_url, log)
    try:
        gunicorn, base = start_gunicorn(database_url, workers, log, metrics_dir)
    except BaseException:
        stop(scheduler)
        raise
    return scheduler, gunicorn, base


def start_scheduler(database_url: str, log: Any) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-c", "from service.cli import main; main()", "scheduler"]
    return subprocess.Popen(command, env=service_env(database_url), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)


def children(pid: int) -> list[int]:
    """Child process ids (gunicorn's workers)."""
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def stop(*processes: subprocess.Popen[bytes]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


def wait_until(condition: Callable[[], bool], seconds: float, every: float = 0.2) -> bool:
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        if condition():
            return True
        time.sleep(every)
    return condition()


def scrape_metrics(base: str) -> str:
    """GET /metrics with the token service_env configures (/metrics refuses anyone else)."""
    connection = http.client.HTTPConnection(urllib.parse.urlsplit(base).netloc, timeout=30)
    connection.request("GET", "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    response = connection.getresponse()
    assert response.status == 200, response.status
    return response.read().decode()


def status(base: str, path: str) -> int:
    try:
        connection = http.client.HTTPConnection(urllib.parse.urlsplit(base).netloc, timeout=5)
        connection.request("GET", path)
        return connection.getresponse().status
    except OSError:
        return 0


# ---- simulated users -------------------------------------------------------------------------------------

@dataclass
class Outcome:
    action: str
    status: int  # 0: the connection failed (a killed worker)
    seconds: float
    task_row_id: int | None = None
    at: float = field(default_factory=time.monotonic)  # when the answer came


class Browser:
    """One user's keep-alive connection with its session cookie; redirects are not followed."""

    def __init__(self, base: str) -> None:
        self.netloc = urllib.parse.urlsplit(base).netloc
        self.cookies: dict[str, str] = {}
        self.connection: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, form: list[tuple[str, str]] | None = None) -> tuple[int, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.netloc, timeout=60)
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            text = response.read().decode()
        except (OSError, http.client.HTTPException):
            self.close()
            return 0, ""
        for header in response.headers.get_all("Set-Cookie") or []:
            self.cookies.update({k: m.value for k, m in SimpleCookie(header).items()})
        return response.status, text

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
        self.connection = None

    def log_in(self, username: str) -> bool:
        _, page = self.request("GET", "/logga-in")
        token = CSRF.search(page)
        if token is None:
            return False
        code, _ = self.request("POST", "/logga-in", [("username", username), ("password", PASSWORD),
                                                     ("csrf_token", token.group(1))])
        return code == 302


@dataclass
class Load:
    """Simulated users for a while: read the inbox, complete a task, now and then report a deviation."""

    base: str
    world: World
    seconds: float
    deviation_share: float = 0.05
    think_seconds: float = 0.05
    outcomes: list[Outcome] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self) -> list[Outcome]:
        until = time.monotonic() + self.seconds
        threads = [threading.Thread(target=self._user, args=(n, name, until), daemon=True)
                   for n, name in enumerate(self.world.usernames)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(self.seconds + 120)
        return self.outcomes

    def _user(self, number: int, username: str, until: float) -> None:
        rng, browser = random.Random(number), Browser(self.base)
        while not browser.log_in(username):
            if time.monotonic() > until:
                return
            time.sleep(0.5)  # a worker being restarted
        organisation_id = self.world.organisation_ids[number % len(self.world.organisation_ids)]
        while time.monotonic() < until:
            if rng.random() < self.deviation_share:
                self._report(browser, rng, organisation_id)
            else:
                self._work(browser, rng)
            time.sleep(rng.uniform(0, 2 * self.think_seconds))
        browser.close()

    def _timed(self, action: str, browser: Browser, method: str, path: str, form: list[tuple[str, str]] | None = None,
               task_row_id: int | None = None) -> tuple[int, str]:
        began = time.perf_counter()
        code, page = browser.request(method, path, form)
        with self.lock:
            self.outcomes.append(Outcome(action, code, time.perf_counter() - began, task_row_id))
        return code, page

    def _work(self, browser: Browser, rng: random.Random) -> None:
        _, page = self._timed("inbox", browser, "GET", "/uppgifter")
        ids = TASK_LINK.findall(page)
        if not ids:  # nothing named to or claimed by me: the group's unclaimed tasks
            _, page = self._timed("group inbox", browser, "GET", "/uppgifter?lista=grupp")
            ids = TASK_LINK.findall(page)
        if not ids:
            return
        task_row_id = int(rng.choice(ids[:10]))
        _, page = self._timed("task page", browser, "GET", f"/uppgifter/{task_row_id}")
        token = CSRF.search(page)
        if token is not None:
            form = [*PEER_FORM.items(), ("_action", "complete"), ("csrf_token", token.group(1))]
            self._timed("complete", browser, "POST", f"/uppgifter/{task_row_id}", form, task_row_id)

    def _report(self, browser: Browser, rng: random.Random, organisation_id: int) -> None:
        _, page = self._timed("deviation form", browser, "GET", "/avvikelser/ny")
        token = CSRF.search(page)
        others = [i for i in self.world.organisation_ids if i != organisation_id]
        if token is None or not others:
            return
        form = [("reporting_organisation_id", str(organisation_id)), ("reporting_unit", "Hemtjänsten"),
                ("receiving_organisation_ids", str(rng.choice(others))), ("event_date", "2026-11-20"),
                ("description", "Informationen kom inte fram vid utskrivningen."), ("category", "discharge"),
                ("consequence", "minor"), ("csrf_token", token.group(1))]
        self._timed("report deviation", browser, "POST", "/avvikelser/ny", form)


def completed(outcomes: list[Outcome]) -> list[int]:
    """Task rows whose completion was answered with the success redirect."""
    return [o.task_row_id for o in outcomes if o.action == "complete" and o.status == 302 and o.task_row_id]


def summary(outcomes: list[Outcome]) -> str:
    lines = []
    for action in sorted({o.action for o in outcomes}):
        mine = [o for o in outcomes if o.action == action]
        times = sorted(o.seconds * 1000 for o in mine)
        codes = Counter(o.status for o in mine)
        lines.append(f"  {action:<17} {len(mine):>6}  median {times[len(times) // 2]:7.1f} ms  "
                     f"p95 {times[int(len(times) * 0.95)]:7.1f} ms  status {dict(sorted(codes.items()))}")
    return "\n".join(lines)


# ---- the checks ------------------------------------------------------------------------------------------

def completion_problems(succeeded: list[int]) -> list[str]:
    """Every completed task row has exactly one task.completed event and vice versa; every success is a
    completed row; no task was completed twice."""
    db.session.remove()
    events = Counter((e.instance_id, e.data.get("task_id")) for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "task.completed")))
    rows = {(r.instance_id, r.task_id): r for r in db.session.scalars(
        select(HumanTask).where(HumanTask.status == TaskStatus.COMPLETED))}
    problems = [f"task {key} has {n} task.completed events" for key, n in events.items() if n != 1]
    problems += [f"completed task {key} has no task.completed event" for key in rows if key not in events]
    problems += [f"event for {key} but the task row is not completed" for key in events if key not in rows]
    done = {r.id for r in rows.values()}
    problems += [f"task row {i} answered 302 but is not completed" for i in succeeded if i not in done]
    if len(succeeded) != len(set(succeeded)):
        problems.append("a task was answered as completed twice")
    return problems


def state_problems() -> list[str]:
    """Every instance loads in the engine, and its READY rows are exactly the engine's READY user tasks."""
    db.session.remove()
    problems = []
    for instance in db.session.scalars(select(ProcessInstance)):
        try:
            definition = parsed(instance.definition)
            workflow = runner.load(definition, instance.state)
            engine_ready = {t.task_id for t in runner.ready_tasks(workflow, definition)}
        except Exception as exc:  # any failure to load is what this check exists to find
            problems.append(f"instance {instance.id} does not load: {exc!r}")
            continue
        rows = set(db.session.scalars(select(HumanTask.task_id).where(
            HumanTask.instance_id == instance.id, HumanTask.status == TaskStatus.READY)))
        if instance.status == InstanceStatus.RUNNING and rows != engine_ready:
            problems.append(f"instance {instance.id}: task list {sorted(rows)} but the engine has {sorted(engine_ready)}")
        if instance.status == InstanceStatus.COMPLETED and (rows or not runner.is_completed(workflow)):
            problems.append(f"instance {instance.id} is completed but has open tasks or an unfinished engine state")
    db.session.remove()
    return problems


def timer_problems(grace: timedelta = timedelta(seconds=0)) -> list[str]:
    """No timer due (before now - grace) still waits; every fired timer row has exactly one timer.fired event."""
    db.session.remove()
    overdue = db.session.scalars(select(ProcessTimer).where(
        ProcessTimer.status == TimerStatus.WAITING, ProcessTimer.due_at <= now() - grace)).all()
    problems = [f"timer {t.id} ({t.bpmn_id}) was due at {t.due_at} and still waits" for t in overdue]
    events = Counter((e.instance_id, e.data.get("timer"), e.data.get("due_at")) for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "timer.fired")))
    fired = {(t.instance_id, t.bpmn_id, t.due_at.isoformat()) for t in db.session.scalars(
        select(ProcessTimer).where(ProcessTimer.status == TimerStatus.FIRED))}
    problems += [f"timer {key} fired {n} times" for key, n in events.items() if n != 1]
    problems += [f"fired timer {key} has no timer.fired event" for key in fired if key not in events]
    problems += [f"timer.fired event {key} has no fired timer row" for key in events if key not in fired]
    db.session.remove()
    return problems


def audit_verify(database_url: str) -> tuple[int, str]:
    """``samverkan audit verify`` as an operator would run it: (exit code, output)."""
    result = subprocess.run([sys.executable, "-c", "from service.cli import main; main()", "audit", "verify"],
                            env=service_env(database_url), cwd=ROOT, capture_output=True, text=True, timeout=300)
    return result.returncode, (result.stdout + result.stderr).strip()
