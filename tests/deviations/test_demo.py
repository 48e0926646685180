"""The demo seed: a year of deviations through the real processes, two disputes on the ladder, the clock back
to real time, and a second run that changes nothing (a smaller year here, to keep the suite fast)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from service import clock
from service.columns import now
from service.deviations import demo
from service.deviations.models import Deviation
from service.disputes.models import Dispute, DisputeLevel, DisputeStatus, DisputeStep
from service.notifications.models import Notification
from service.parties.demo import seed_demo
from service.parties.models import Role, User
from service.processes.models import HumanTask, TaskStatus
from service.transactions import commit_with_retry
from tests.conftest import csrf_token, login


def test_demo_seed_fills_a_year_and_runs_once(app: Any, db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo, "REPORTS_PER_MONTH", 1)
    monkeypatch.setattr(User, "set_password", lambda self, pw: setattr(
        self, "password_hash", generate_password_hash(pw, method="pbkdf2:sha256:1000")))
    commit_with_retry(lambda: seed_demo(lambda: "demo-lösenord"))
    summary = commit_with_retry(demo.seed_demo_cases)
    assert summary.startswith("Avvikelser och tvister: 12 avvikelser under det senaste året och 2 tvister")
    assert abs(clock.now() - now()) < timedelta(seconds=5) and clock._frozen is None  # back to real time
    reported = sorted(db.session.scalars(select(Deviation.reported_at)))
    assert now() - timedelta(days=366) < reported[0] and reported[-1] < now()
    disputes = {d.opening_organisation.name: d for d in db.session.scalars(select(Dispute))}
    assert (disputes["Göteborgs Stad"].status, disputes["Göteborgs Stad"].instruction_title) == (
        DisputeStatus.RESOLVED, "Hjälpmedel vid utskrivning till eget boende")
    lerum = disputes["Lerums kommun"]
    assert (lerum.status, lerum.level) == (DisputeStatus.OPEN, DisputeLevel.COUNTY)
    assert [(s.kind, s.is_by_timer) for s in db.session.scalars(select(DisputeStep).where(
        DisputeStep.dispute_id == lerum.id, DisputeStep.kind == "escalated"))] == [("escalated", True), ("escalated", False)]
    # The joint steering group escalated it at a meeting with every party present (issue #20).
    [meeting] = lerum.steering_body.meetings
    assert [d.paragraph for d in meeting.decisions] == [1] and meeting.justerad_at is not None
    assert meeting.absent_organisation_ids() == set() and len(meeting.present_organisation_ids()) == 3
    assert db.session.scalar(select(func.count()).select_from(Notification).where(Notification.sent_at.is_(None))) == 0
    assert commit_with_retry(demo.seed_demo_cases) == "Avvikelser och tvister: demoärendena finns redan."
    client = app.test_client()
    login(client, "olof", "demo-lösenord")
    page = client.get(f"/statistik/avtal/{lerum.agreement_id}").get_data(as_text=True)
    assert 'id="open-disputes">1<' in page
    decide_at_the_county_level(app, db, lerum)


def decide_at_the_county_level(app: Any, db: Any, dispute: Dispute) -> None:
    """Issue #18, item 3: the demo's county member (no auditor) takes and decides the dispute waiting there,
    after preparing it (issue #20: level 3's preparation step)."""
    karin = db.session.scalar(select(User).where(User.username == "karin"))
    assert [m.role for m in karin.memberships] == [Role.COUNTY_BODY_MEMBER]
    client = app.test_client()
    assert login(client, "karin", "demo-lösenord").status_code == 302
    for values in ({"summary": "Oense om vem som kallar till SIP.", "proposal": "Regionen kallar."},
                   {"decision": "Regionen kallar till SIP."}):
        db.session.expire_all()
        task = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == dispute.instance_id,
                                                          HumanTask.status == TaskStatus.READY)).one()
        url = f"/uppgifter/{task.id}"
        for target, data in ((f"{url}/ta", {}), (url, {**values, "_action": "complete"})):
            token = csrf_token(client.get(url).get_data(as_text=True))
            assert client.post(target, data={**data, "csrf_token": token}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Dispute, dispute.id).status == DisputeStatus.RESOLVED
