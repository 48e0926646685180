"""What an audit action is called wherever events are shown (timelines, history, exports), in both languages.

Every action recorded anywhere in service/ has a label here (tests/audit/test_labels.py checks it); an
action without one is shown as "Händelse" and logged, never by its code.
"""

from __future__ import annotations

import logging

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

logger = logging.getLogger(__name__)
UNLABELLED = _l("Händelse")

ACTION_LABELS: dict[str, LazyString] = {
    "agreement.amendment_proposed": _l("En ändring föreslogs"),
    "agreement.appeal_judgment_recorded": _l("Förvaltningsrättens avgörande registrerades"),
    "agreement.consultation_answered": _l("Remissvar lämnades"),
    "agreement.decision_recorded": _l("Beslut registrerades"),
    "agreement.decision_deadline_warning": _l("Varning: justering eller anslag efter lagens sista dag"),
    "agreement.decision_extract_sent": _l("Beslutsdokumentet skickades till de andra parterna"),
    "agreement.proposal_received": _l("Förslaget registrerades som inkommet"),
    "agreement.proposal_prepared": _l("Förslaget bereddes i arbetsutskott"),
    "agreement.decision_decided": _l("Beslutet fattades"),
    "agreement.decision_posted": _l("Protokollet justerades och anslogs"),
    "agreement.decision_appealed": _l("Beslutet överklagades"),
    "agreement.decision_final": _l("Beslutet vann laga kraft"),
    "agreement.decision_annulled": _l("Beslutet upphävdes efter överklagande"),
    "agreement.drafter_added": _l("En skribent lades till i skrivgruppen"),
    "agreement.drafter_removed": _l("En skribent togs bort ur skrivgruppen"),
    "agreement.drafting_started": _l("Arbetet med avtalet påbörjades"),
    "agreement.expired": _l("Avtalet löpte ut"),
    "agreement.expiry_notice_sent": _l("Påminnelse om att avtalet löper ut skickades"),
    "agreement.followed_up": _l("Avtalet följdes upp"),
    "agreement.overdue_decision_followed_up": _l("Försenat beslut följdes upp"),
    "agreement.recommendation_recorded": _l("Rekommendation registrerades"),
    "agreement.renewal_decided": _l("Beslut om förlängning"),
    "agreement.returned_to_draft": _l("Förslaget gick tillbaka för bearbetning"),
    "agreement.terminated": _l("Avtalet upphörde (uppsagt)"),
    "agreement.party_leaving_registered": _l("En part sade upp avtalet"),
    "agreement.party_left": _l("En part lämnade avtalet efter uppsägningstiden"),
    "agreement.in_force": _l("Avtalet började gälla"),
    "agreement.checklist_item_offered": _l("En punkt i checklistan nådde sin tid"),
    "agreement.checklist_item_done": _l("En punkt i checklistan följdes upp"),
    "agreement.reviewed": _l("Avtalet reviderades"),
    "agreement.lifecycle_restarted": _l("Avtalets livscykel startades om på den nya processversionen"),
    "agreement.version_adopted": _l("Versionen antogs av alla parter"),
    "agreement.version_submitted": _l("Förslaget skickades till parterna"),
    "api_token.created": _l("API-nyckel skapades"),
    "api_token.revoked": _l("API-nyckel återkallades"),
    "attachment.uploaded": _l("Bilaga"),
    "auth.login": _l("Inloggning"),
    "auth.login_failed": _l("Misslyckad inloggning"),
    "auth.login_throttled": _l("Inloggning spärrad efter för många försök"),
    "auth.logout": _l("Utloggning"),
    "auth.sso_login": _l("Inloggning via identitetsleverantör"),
    "auth.sso_refused": _l("Nekad inloggning via identitetsleverantör"),
    "auth.sso_account_created": _l("Konto skapat vid första inloggningen via identitetsleverantör"),
    "auth.sso_roles_set": _l("Roller satta från identitetsleverantören"),
    "auth.break_glass_login": _l("Nödinloggning med lokalt konto"),
    "auth.local_login_refused": _l("Lösenordsinloggning nekad (avstängd)"),
    "auth.password_changed": _l("Lösenordet byttes"),
    "authorised_body.created": _l("Behörig instans skapades"),
    "case.commented": _l("Kommentar"),
    "definition.deployed": _l("Processversion driftsattes"),
    "definition.draft_saved": _l("Processutkast sparades"),
    "deviation.acknowledged": _l("Avvikelsen kvitterades"),
    "deviation.analysed": _l("Avvikelsen analyserades"),
    "deviation.analysis_started": _l("Analysen av avvikelsen påbörjades"),
    "deviation.answer_accepted": _l("Svaret godtogs"),
    "deviation.answer_contested": _l("Svaret ifrågasattes"),
    "deviation.answered": _l("Avvikelsen besvarades"),
    "deviation.closed": _l("Avvikelsen avslutades"),
    "deviation.deadline_set": _l("Svarstid sattes"),
    "deviation.disposed": _l("Innehåll gallrat"),
    "deviation.escalated": _l("Avvikelsen eskalerades"),
    "deviation.question_answered": _l("En fråga besvarades"),
    "deviation.question_asked": _l("En fråga ställdes"),
    "deviation.reminded": _l("Påminnelse om svar skickades"),
    "deviation.renumbered": _l("Avvikelsen fick ett nytt nummer"),  # by migration d4a7e2c92320 (issue #18)
    "deviation.reported": _l("Avvikelsen rapporterades"),
    "disposal.decision_set": _l("Gallringsbeslut registrerades"),
    "dispute.disposed": _l("Innehåll gallrat"),
    "body.adjusters_chosen": _l("Justerare utsågs"),
    "body.agenda_item_added": _l("En punkt sattes på dagordningen"),
    "body.attendance_recorded": _l("Närvaron vid mötet registrerades"),
    "body.created": _l("Ett gemensamt organ inrättades"),
    "body.decision_recorded": _l("Mötets beslut fördes in i protokollet"),
    "body.meeting_scheduled": _l("Ett möte planerades"),
    "body.member_added": _l("En ledamot utsågs"),
    "body.member_ended": _l("En ledamots mandat upphörde"),
    "body.protocol_justerat": _l("Protokollet justerades"),
    "body.updated": _l("Det gemensamma organet ändrades"),
    "dispute.escalated": _l("Tvisten eskalerades"),
    "dispute.instruction_written": _l("Gemensam instruktion skrevs"),
    "dispute.level_configured": _l("Tvistenivå ställdes in"),
    "dispute.opened": _l("Tvisten öppnades"),
    "dispute.position_recorded": _l("En parts besked registrerades"),
    "dispute.prepared": _l("Tvisten bereddes för länsnivån"),
    "dispute.renumbered": _l("Tvisten fick ett nytt nummer"),  # by migration d4a7e2c92320 (issue #18)
    "dispute.resolved": _l("Tvisten avgjordes"),
    "form.saved": _l("Formulär sparades"),
    "incident.opened": _l("Incident öppnades"),
    "incident.resolved": _l("Incident åtgärdades"),
    "incident.retry_failed": _l("Nytt försök misslyckades"),
    "instance.cancelled": _l("Processen avbröts"),
    "instance.migrated": _l("Processen flyttades till en ny version"),
    "instance.migration_refused": _l("Flytt till ny processversion nekades"),
    "instance.started": _l("Processen startade"),
    "instance.timers_run": _l("Tidsgräns passerades"),
    "membership.added": _l("Roll tilldelades"),
    "membership.removed": _l("Roll togs bort"),
    "organisation.created": _l("Organisation skapades"),
    "organisation.updated": _l("Organisation ändrades"),
    "organisation.membership_added": _l("Organisation blev medlem i ett förbund"),
    "organisation.membership_removed": _l("Organisations medlemskap i ett förbund upphörde"),
    "substitute.named": _l("Ersättare utsågs"),
    "substitute.removed": _l("Ersättare togs bort"),
    "task.cancelled_by_timer": _l("Uppgift avbruten av tidsgräns"),
    "task.claimed": _l("Uppgift tagen"),
    "task.completed": _l("Uppgift utförd"),
    "task.draft_saved": _l("Utkast sparat"),
    "task.escalated": _l("Uppgift eskalerad"),
    "task.handed_over": _l("Uppgift överlämnad"),
    "task.released": _l("Uppgift lämnad tillbaka"),
    "timer.fired": _l("Tidsfrist passerad"),
    "timer.recomputed": _l("Tidsfristen räknades om"),
    "user.created": _l("Användare skapades"),
    "user.disabled": _l("Användare spärrades"),
    "user.enabled": _l("Användare aktiverades"),
    "user.identity_linked": _l("Inloggningsidentitet kopplades"),
    "user.password_reset": _l("Lösenord återställdes"),
}


def action_label(action: str) -> str:
    """The label of ``action`` in the current language; an unknown action is a generic "Händelse" (and logged)."""
    label = ACTION_LABELS.get(action)
    if label is None:
        logger.warning("audit action %r has no label (service/audit/labels.py)", action)
        return str(UNLABELLED)
    return str(label)
