"""The demo's adopted annual report (issue #20): seeded once, adopted at a meeting with every party present."""

from __future__ import annotations

import io
from typing import Any

import pikepdf
import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from service.bodies.models import MeetingDecision
from service.deviations import demo as cases_demo
from service.parties.demo import seed_demo
from service.parties.models import Membership, Organisation, OrganisationKind, Role, User
from service.reports.demo import MEMBERS, TITLE, YEAR, seed_demo_report
from service.reports.models import AnnualReport
from service.transactions import commit_with_retry
from tests.deviations.world import _FAST_HASH, make_agreement


def _demo_parties(db: Any) -> dict[str, User]:
    users = {}
    for name, (username, _) in MEMBERS.items():
        organisation = Organisation(name=name, kind=OrganisationKind.REGION if "region" in name else OrganisationKind.KOMMUN)
        db.session.add(organisation)
        db.session.flush()
        user = User(username=username, display_name=username.title(), password_hash=_FAST_HASH)
        user.memberships = [Membership(organisation_id=organisation.id, role=Role.CASE_OFFICER)]
        db.session.add(user)
        db.session.flush()
        users[name] = user
    db.session.commit()
    return users


def test_the_demo_has_one_adopted_annual_report(db: Any) -> None:
    users = _demo_parties(db)
    organisations = {o.name: o for o in db.session.scalars(select(Organisation))}
    make_agreement(db, TITLE, organisations["Alingsås kommun"], list(organisations.values()), users["Alingsås kommun"])
    assert "fastställd" in commit_with_retry(seed_demo_report)
    assert commit_with_retry(seed_demo_report) == ""  # once
    [report] = db.session.scalars(select(AnnualReport)).all()
    assert (report.year, report.is_adopted) == (YEAR, True)
    assert report.figures["economy"]["totals"]["outcome_tkr"]["grants"] == 470
    [decision] = db.session.scalars(select(MeetingDecision)).all()
    assert decision.meeting.present_organisation_ids() == set(o.id for o in organisations.values())
    with pikepdf.open(io.BytesIO(report.pdf)) as pdf:
        assert pdf.open_metadata().pdfa_status == "3B"


def test_with_the_demo_cases_the_report_is_adopted_by_their_steering_group(app: Any, db: Any,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cases_demo, "REPORTS_PER_MONTH", 1)
    monkeypatch.setattr(User, "set_password", lambda self, pw: setattr(
        self, "password_hash", generate_password_hash(pw, method="pbkdf2:sha256:1000")))
    commit_with_retry(lambda: seed_demo(lambda: "demo-lösenord"))
    commit_with_retry(cases_demo.seed_demo_cases)
    assert "fastställd" in commit_with_retry(seed_demo_report)
    [report] = db.session.scalars(select(AnnualReport)).all()
    [decision] = db.session.scalars(select(MeetingDecision).where(MeetingDecision.case_type == "annual_report")).all()
    assert decision.meeting.absent_organisation_ids() == set() and len(decision.meeting.present_organisation_ids()) == 3
    figures = report.figures["deviations"]
    assert figures["total"] == sum(row["count"] for row in figures["by_category"]) > 0
