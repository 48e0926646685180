"""The adoption tracker: where each party stands with one version of an agreement.

Route (decision with justering and anslag, delegation, signed agreement), stage (recommended, proposal received,
on the agenda, decided, justerat/anslaget, överklagat, laga kraft or gäller för parten), the last appeal day and the
laga-kraft date, for the agreement page and the API alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import gettext as _

from service.agreements import appeals
from service.agreements.appeals import Appeal
from service.agreements.models import AgreementParty, AgreementVersion, Decision, DecisionStage
from service.agreements.recommendations import recommendation_for


class Stage:
    """The tracker's stages, in the order a party passes them."""

    WAITING = "waiting"
    RECOMMENDED = "recommended"
    PROPOSAL_RECEIVED = "proposal_received"
    ON_AGENDA = "on_agenda"
    TABLED = "tabled"
    DECIDED = "decided"
    NOT_ADOPTED = "not_adopted"
    POSTED = "posted"
    APPEALED = "appealed"
    FINAL = "final"
    APPLIES = "applies"
    ANNULLED = "annulled"


STAGE_LABELS = {
    Stage.WAITING: "Väntar på förslaget",
    Stage.RECOMMENDED: "Rekommenderat",
    Stage.PROPOSAL_RECEIVED: "Förslaget mottaget",
    Stage.ON_AGENDA: "På dagordningen",
    Stage.TABLED: "Bordlagt",
    Stage.DECIDED: "Beslutat",
    Stage.NOT_ADOPTED: "Inte antaget",
    Stage.POSTED: "Justerat; justeringen anslagen",
    Stage.APPEALED: "Överklagat",
    Stage.FINAL: "Laga kraft",
    Stage.APPLIES: "Gäller för parten",
    Stage.ANNULLED: "Upphävt efter överklagande",
}
DEFAULT_ROUTE = "decision_with_posting"
_BY_DECISION_STAGE = {DecisionStage.DECIDED: Stage.DECIDED, DecisionStage.POSTED: Stage.POSTED,
                      DecisionStage.APPEALED: Stage.APPEALED, DecisionStage.ANNULLED: Stage.ANNULLED}


@dataclass(frozen=True)
class PartyProgress:
    party: AgreementParty
    route: str
    route_label: str
    stage: str
    stage_label: str
    decision: Decision | None
    last_appeal_day: date | None
    laga_kraft_on: date | None
    appeals: list[Appeal] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"organisation_id": self.party.organisation_id, "name": self.party.organisation.name,
                "route": self.route, "route_label": self.route_label, "stage": self.stage,
                "stage_label": self.stage_label, "decided_on": self.decision.decided_on if self.decision else None,
                "posted_on": self.decision.posted_on if self.decision else None,
                "last_appeal_day": self.last_appeal_day, "laga_kraft_on": self.laga_kraft_on,
                "appeals": [_appeal_dict(a) for a in self.appeals]}


def adoption_progress(version: AgreementVersion) -> list[PartyProgress]:
    """Each party's progress with ``version`` in its current round, in the agreement's party order."""
    decisions = {d.organisation_id: d for d in version.current_decisions()}
    tablings = {d.organisation_id: d for d in version.current_tablings()}  # each party's latest bordläggning
    return [_progress(version, party, decisions.get(party.organisation_id), tablings.get(party.organisation_id))
            for party in version.agreement.parties]


def _progress(version: AgreementVersion, party: AgreementParty, decision: Decision | None,
              tabling: Decision | None = None) -> PartyProgress:
    """A bordlagt matter is still undecided: its stage shows the day it was tabled, and no appeal clock runs."""
    route = str(getattr(decision, "route", "") or _default_route(party))
    if decision is None and tabling is not None:
        return PartyProgress(party=party, route=route, route_label=_route_label(route), stage=Stage.TABLED,
                             stage_label=_("Bordlagt %(date)s", date=tabling.decided_on.isoformat()), decision=None,
                             last_appeal_day=None, laga_kraft_on=None)
    if decision is None:
        stage = _before_decision(version, party)
    elif not decision.is_adopting:
        stage = Stage.NOT_ADOPTED
    elif decision.stage == DecisionStage.FINAL:
        stage = Stage.FINAL if route == DEFAULT_ROUTE else Stage.APPLIES
    else:
        stage = _BY_DECISION_STAGE[DecisionStage(decision.stage)]
    return PartyProgress(
        party=party, route=route, route_label=_route_label(route), stage=stage, stage_label=_stage_label(stage, decision),
        decision=decision, last_appeal_day=decision.last_appeal_day if decision else None,
        laga_kraft_on=appeals.laga_kraft_on(decision) if decision else None,
        appeals=list(getattr(decision, "appeals", [])) if decision else [])


def _before_decision(version: AgreementVersion, party: AgreementParty) -> str:
    receipts = getattr(version, "current_receipts", None)  # registration on arrival (issue #19, item 9)
    receipt = next((r for r in (receipts() if receipts else []) if r.organisation_id == party.organisation_id), None)
    if receipt is not None:
        return Stage.ON_AGENDA if getattr(receipt, "prepared_on", None) else Stage.PROPOSAL_RECEIVED
    if _recommended(version, party.organisation_id):
        return Stage.RECOMMENDED
    return Stage.WAITING


def _recommended(version: AgreementVersion, organisation_id: int) -> bool:
    """A förbund the party is a member of recommends the text (issue #19, item 6: recommendations by membership)."""
    return bool(recommendation_for(version, organisation_id) == "recommended")


def _stage_label(stage: str, decision: Decision | None) -> str:
    if stage == Stage.NOT_ADOPTED and decision is not None:
        return decision.outcome_label
    if stage == Stage.POSTED and decision is not None and decision.posted_on:
        return _("Justerat; justeringen anslagen %(date)s", date=decision.posted_on.isoformat())
    return _(STAGE_LABELS[stage])


def _default_route(party: AgreementParty) -> str:
    from service.agreements import models

    routes_for = getattr(models, "routes_for", None)  # the routes by kind of party (issue #19, item 3)
    return str(routes_for(party.organisation.kind)[0]) if routes_for else DEFAULT_ROUTE


def _route_label(route: str) -> str:
    from service.agreements import models

    labels = getattr(models, "ROUTE_LABELS", {})
    return _(labels[route]) if route in labels else _("Beslut med justering och anslag")


def _appeal_dict(appeal: Appeal) -> dict[str, Any]:
    return {"court": appeal.court, "case_number": appeal.case_number, "lodged_on": appeal.lodged_on,
            "judgment": appeal.judgment, "judgment_final_on": appeal.judgment_final_on}
