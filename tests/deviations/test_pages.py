"""The deviation and dispute pages render for the people who may see them, and refuse the others."""

from __future__ import annotations

from sqlalchemy import select

from service.deviations.models import AnswerDeadline
from service.disputes.operations import ladder_for
from tests.deviations.world import World, post_form


def test_pages_render_and_refuse(world: World) -> None:
    reporter = world.browser("rapportor")
    form = reporter.get("/avvikelser/ny").get_data(as_text=True)
    assert "Rapportera avvikelse i samverkan" in form and "Psykisk hälsa och missbruk i Alingsås och Lerum" in form
    assert "Läkemedelsöverlämning" in form and "SIP har inte upprättats eller följts" in form
    assert reporter.get("/avvikelser").status_code == 200
    assert "Psykisk hälsa och missbruk" in reporter.get("/statistik").get_data(as_text=True)
    assert reporter.get("/avvikelser/svarstider").status_code == 403  # not a manager or coordinator
    assert reporter.get("/tvister").status_code == 200 and reporter.get("/tvister/ny").status_code == 403
    manager = world.browser("chef_lerum")
    assert "Öppna tvist om ansvarsfördelning" in manager.get("/tvister/ny").get_data(as_text=True)
    refused = post_form(manager, "/avvikelser/svarstider", {"organisation_id": world.lerum.id, "count": 0, "unit": "D"})
    assert refused.status_code == 422 and "Ange 1–999 dagar, arbetsdagar, veckor eller månader." in refused.get_data(as_text=True)
    saved = post_form(manager, "/avvikelser/svarstider", {"organisation_id": world.lerum.id, "count": 45, "unit": "D",
                                                          "reminder_days": 5})
    assert saved.status_code == 302 and "45 dagar" in manager.get("/avvikelser/svarstider").get_data(as_text=True)
    [row] = world.db.session.scalars(select(AnswerDeadline)).all()
    assert (row.organisation_id, row.agreement_id, row.answer_period, row.reminder_days) == (world.lerum.id, None, "P45D", 5)
    assert world.app.test_client().get("/avvikelser").status_code == 302  # to the login page


def test_an_administrator_names_the_steering_group_and_the_levels_times(world: World) -> None:
    assert world.browser("chef_lerum").get("/tvister/nivaer").status_code == 403
    admin = world.browser("admin")
    response = post_form(admin, "/tvister/nivaer", {"agreement_id": world.agreement.id, "level": "steering_group",
                                                    "organisation_id": world.region.id, "count": 3, "unit": "W"})
    assert response.status_code == 302
    page = admin.get("/tvister/nivaer").get_data(as_text=True)
    assert "Vårdsamverkan Västra Götaland" in page and "3 veckor" in page
    ladder = ladder_for(world.agreement)
    assert (ladder.steering_organisation_id, ladder.county_organisation_id) == (world.region.id, world.county.id)
    assert ladder.periods == {"line": "P14D", "steering_group": "P3W", "county": "P60D"}
    refused = post_form(admin, "/tvister/nivaer", {"level": "line", "organisation_id": world.region.id})
    assert refused.status_code == 422
