"""The world of the access matrix: two unrelated municipalities with one person per role in each.

Alingsås kommun (``@a``) is party with Västra Götalandsregionen to an agreement; a deviation reported by the
region waits for Alingsås' deviation contacts (a task, claimed by one of them, and a notification), and
Alingsås' manager has opened a dispute with the region. Borås stad (``@b``) has the same roles and no part in any of it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from service.agreements.models import Agreement, AgreementVersion, Decision, DecisionStage, VersionStatus
from service.audit.models import AuditEvent
from service.deviations.operations import report_deviation
from service.disputes.models import DisputeLevel
from service.disputes.operations import NewDispute, open_dispute, set_level_setting
from service.extensions import db as _db
from service.notifications.models import Notification
from service.parties.models import AuthorisedBody, Membership, Organisation, OrganisationKind, Role, User
from service.processes.claims import claim_task
from service.processes.models import HumanTask, TaskStatus
from service.transactions import commit_with_retry
from tests.conftest import csrf_token, login
from tests.deviations.world import _FAST_HASH, make_agreement

ROLES = {
    "case_officer": Role.CASE_OFFICER, "manager": Role.MANAGER, "deviation_contact": Role.DEVIATION_CONTACT,
    "body_secretary": Role.BODY_SECRETARY, "steering_group_member": Role.STEERING_GROUP_MEMBER,
    "process_owner": Role.PROCESS_OWNER, "auditor": Role.AUDITOR, "admin": Role.ADMIN,
}
ANONYMOUS = "anonymous"
PRINCIPALS = [f"{role}@{org}" for role in ROLES for org in ("a", "b")] + [ANONYMOUS]
# Tables whose rows change on reading or signing in, not on the actions the matrix tries.
NOT_STATE = {"access_log", "login_attempts", "audit_chain_head", "audit_events", "scheduler_jobs", "scheduler_heartbeat"}


class MatrixWorld:
    def __init__(self, app: Flask, db: Any) -> None:
        self.app = app
        self.a = _organisation(db, "Alingsås kommun", OrganisationKind.KOMMUN)
        self.b = _organisation(db, "Borås stad", OrganisationKind.KOMMUN)
        self.region = _organisation(db, "Västra Götalandsregionen", OrganisationKind.REGION)
        county = _organisation(db, "Vårdsamverkan Västra Götaland", OrganisationKind.OTHER)
        self.users = {f"{name}@{key}": _user(db, f"{name}.{key}", org, role)
                      for name, role in ROLES.items() for key, org in (("a", self.a), ("b", self.b))}
        reporter = _user(db, "rapportor.vgr", self.region, Role.CASE_OFFICER)
        self.agreement = make_agreement(db, "Samverkan kring psykisk hälsa", self.a, [self.a, self.region],
                                        self.users["case_officer@a"])
        self.decision = _decision(db, self.agreement, self.a, self.users["body_secretary@a"])
        commit_with_retry(lambda: set_level_setting(None, DisputeLevel.COUNTY, county.id, None))
        self.deviation = commit_with_retry(lambda: report_deviation(_report(self), by=reporter))
        self.dispute = commit_with_retry(lambda: open_dispute(NewDispute(
            agreement_id=self.agreement.id, opening_organisation_id=self.a.id, other_organisation_ids=[self.region.id],
            question="Vem beställer hjälpmedlet?"), by=self.users["manager@a"]))
        self.task = db.session.scalars(select(HumanTask).where(
            HumanTask.organisation_id == self.a.id, HumanTask.role == Role.DEVIATION_CONTACT,
            HumanTask.status == TaskStatus.READY)).first()
        self.notification = db.session.scalars(select(Notification).where(
            Notification.user_id == self.users["deviation_contact@a"].id)).first()
        self.membership = self.users["case_officer@b"].memberships[0]
        assert self.task is not None and self.notification is not None
        # Claimed, so that its holder may save and complete it (a group task is claimed before it is worked on).
        commit_with_retry(lambda: claim_task(self.task.id, by=self.users["deviation_contact@a"]))
        self.report, self.improvement = commit_with_retry(lambda: _report_and_improvement(self))
        self.body, self.meeting = commit_with_retry(lambda: _steering_group(self, reporter))
        self._clients: dict[str, FlaskClient] = {}

    def ids(self) -> dict[str, int]:
        return {"agreement": self.agreement.id, "deviation": self.deviation.id, "dispute": self.dispute.id,
                "task": self.task.id, "notification": self.notification.id, "org_a": self.a.id, "org_b": self.b.id,
                "user": self.users["case_officer@b"].id, "membership": self.membership.id,
                "drafter": self.users["manager@a"].id, "report": self.report.id, "improvement": self.improvement.id,
                "decision": self.decision.id, "body": self.body.id, "meeting": self.meeting.id,
                "member": self.body.members[0].id}

    def client(self, principal: str) -> FlaskClient:
        if principal not in self._clients:
            client = self.app.test_client()
            if principal != ANONYMOUS:
                assert login(client, self.users[principal].username).status_code == 302
            self._clients[principal] = client
        return self._clients[principal]

    def token(self, principal: str) -> str:
        return csrf_token(self.client(principal).get("/logga-in" if principal == ANONYMOUS else "/konto")
                          .get_data(as_text=True))


def state() -> tuple[Any, ...]:
    """What an action could change: row counts, every audited action, and the mutable columns of tasks,
    notifications and accounts (a refused request must leave all of it as it was)."""
    _db.session.expire_all()
    counts = tuple(_db.session.scalar(select(func.count()).select_from(table))
                   for table in _db.metadata.sorted_tables if table.name not in NOT_STATE)
    actions = tuple(_db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.not_like("auth.%"))
                                        .order_by(AuditEvent.seq)))
    tasks = tuple(_db.session.execute(select(HumanTask.id, HumanTask.status, HumanTask.user_id, HumanTask.draft_data)
                                      .order_by(HumanTask.id)).all())
    notes = tuple(_db.session.execute(select(Notification.id, Notification.read_at).order_by(Notification.id)).all())
    users = tuple(_db.session.execute(select(User.id, User.is_enabled, User.password_hash).order_by(User.id)).all())
    return counts, actions, tasks, notes, users


def _report(world: MatrixWorld) -> dict[str, Any]:
    return {"reporting_organisation_id": world.region.id, "reporting_unit": "Avdelning 12",
            "receiving_organisation_ids": [world.a.id], "receiving_unit": "Hemtjänst Centrum",
            "agreement_id": world.agreement.id, "event_date": "2026-02-26",
            "description": "Vid utskrivningen saknades läkemedelslista.", "immediate_action": "",
            "category": "discharge", "consequence": "moderate", "consequence_description": ""}


def _report_and_improvement(world: MatrixWorld) -> tuple[Any, Any]:
    """Alingsås coordinates the agreement: its annual report for 2026 (a draft), and an improvement action of
    Alingsås' on the deviation (issue #20)."""
    from datetime import date

    from service.deviations.models import ImprovementAction
    from service.reports.operations import create_report

    report = create_report(world.agreement, 2026, by=world.users["case_officer@a"])
    action = ImprovementAction(deviation_id=world.deviation.id, organisation_id=world.a.id, owner="MAS",
                               description="Revidera checklistan.", due_on=date(2026, 6, 30),
                               created_by_id=world.users["manager@a"].id)
    _db.session.add(action)
    _db.session.flush()
    return report, action


def _decision(db: Any, agreement: Agreement, organisation: Organisation, by: User) -> Decision:
    """Alingsås' adoption of the agreement's first version, justerat and anslaget (appeals are registered on it)."""
    body = AuthorisedBody(organisation_id=organisation.id, name="Kommunstyrelsen")
    db.session.add(body)
    version = AgreementVersion(number=1, title=agreement.title, created_by_id=by.id, adoption_round=1,
                               status=VersionStatus.AWAITING_DECISIONS)
    agreement.versions.append(version)
    db.session.flush()
    decision = Decision(adoption_round=1, organisation_id=organisation.id, body_id=body.id, outcome="adopted",
                        stage=DecisionStage.POSTED, decided_on=date(2026, 2, 2), paragraph="§ 4",
                        diarienummer="KS 2026/12", minutes_approved_on=date(2026, 2, 3), posted_on=date(2026, 2, 4),
                        recorded_by_id=by.id)
    version.decisions.append(decision)
    db.session.commit()
    return decision


def _organisation(db: Any, name: str, kind: OrganisationKind) -> Organisation:
    organisation = Organisation(name=name, kind=kind)
    db.session.add(organisation)
    db.session.commit()
    return organisation


def _user(db: Any, username: str, organisation: Organisation, role: Role) -> User:
    user = User(username=username, display_name=username.title(), password_hash=_FAST_HASH, email=f"{username}@example.se")
    user.memberships = [Membership(organisation_id=organisation.id, role=role)]
    db.session.add(user)
    db.session.commit()
    return user


def _steering_group(world: MatrixWorld, region_member: User) -> tuple[Any, Any]:
    """The agreement's joint steering group (issue #20): Alingsås' manager and the region's officer as members,
    Alingsås' body secretary as its secretary; a meeting with both present and the manager named to justera."""
    from datetime import date

    from service.bodies.models import BodyKind
    from service.bodies.operations import (
        NewMember,
        add_agenda_item,
        add_member,
        choose_adjusters,
        create_body,
        record_attendance,
        schedule_meeting,
    )

    body = create_body("Styrgruppen", BodyKind.STYRGRUPP, [world.agreement], by=None)
    term = date(2026, 1, 1)
    manager = add_member(body, NewMember(world.a.id, world.users["manager@a"].id, term), by=None)
    add_member(body, NewMember(world.region.id, region_member.id, term), by=None)
    secretary = world.users["body_secretary@a"]
    add_member(body, NewMember(world.a.id, secretary.id, term, is_secretary=True), by=None)
    meeting = schedule_meeting(body, date(2026, 3, 2), by=secretary)
    add_agenda_item(meeting, by=secretary, title="Information")
    record_attendance(meeting, [m.id for m in body.members], by=secretary)
    choose_adjusters(meeting, [manager.id], by=secretary)
    return body, meeting
