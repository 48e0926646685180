"""The sections of an agreement, after the checklist in the regional guidance (seed 000, Bilaga 1)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    group: str
    is_mandatory: bool


SECTIONS = (
    Section("responsibilities", "Ansvarsfördelning", "Avtal/överenskommelse", True),
    Section("steering_group", "Styrgrupp", "Avtal/överenskommelse", True),
    Section("mission", "Uppdrag (målgrupp och syfte)", "Avtal/överenskommelse", True),
    Section("goals", "Mätbara mål", "Avtal/överenskommelse", True),
    Section("staffing", "Personalresurser", "Avtal/överenskommelse", False),
    Section("user_influence", "Brukarinflytande", "Avtal/överenskommelse", False),
    Section("costs", "Fördelning av kostnader och medel", "Avtal/överenskommelse", True),
    Section("work_environment", "Arbetsmiljö", "Avtal/överenskommelse", False),
    Section("patient_safety", "Patientsäkerhet", "Avtal/överenskommelse", False),
    Section("deviations_and_disputes", "Rutin för avvikelser och tvister", "Avtal/överenskommelse", True),
    Section("amendments", "Hur avtalet ändras", "Avtal/överenskommelse", True),
    Section("organisation_form", "Form för arbetet (mottagning, mobilt, digitalt)", "Organisation", False),
    Section("daily_management", "Ledning av det dagliga arbetet", "Organisation", False),
    Section("boundaries", "Ansvarsgränser och rutiner", "Organisation", False),
    Section("sip_consent", "SIP – samtycke", "Organisation", False),
    Section("team_work", "Teambaserat arbete", "Organisation", False),
    # Verksamhetens innehåll: five items in Bilaga 1 (one field "content" before; see LEGACY_SECTIONS).
    Section("best_knowledge", "Bästa tillgängliga kunskap, val av insatser", "Verksamhetens innehåll", False),
    Section("shared_decisions", "Delat beslutsfattande – rutiner för arbetssätt", "Verksamhetens innehåll", False),
    Section("adapted_interventions", "Anpassning av insatser", "Verksamhetens innehåll", False),
    Section("knowledge_spreading", "Kunskapsspridning", "Verksamhetens innehåll", False),
    Section("joint_training", "Gemensam utbildning/metodstöd/handledning", "Verksamhetens innehåll", False),
    Section("follow_up", "Uppföljning och utvärdering (hur ofta, vem ansvarar)", "Uppföljning och utvärdering", True),
)
SECTION_KEYS = tuple(section.key for section in SECTIONS)
# Sections of versions written before the checklist was complete: shown when a version has them, never asked for.
# An amendment of such a version starts with the old text in the first item that replaced it.
LEGACY_SECTIONS = (
    Section("content", "Innehåll: kunskap, insatser och gemensam kompetensutveckling", "Verksamhetens innehåll", False),
)
REPLACED_BY = {"content": "best_knowledge"}


def sections_of(sections: dict[str, object]) -> tuple[Section, ...]:
    """The checklist to show for a version's stored sections: today's, plus any legacy section it holds."""
    return SECTIONS + tuple(section for section in LEGACY_SECTIONS if section.key in sections)


def title_of(key: str) -> str:
    return next((section.title for section in SECTIONS + LEGACY_SECTIONS if section.key == key), key)
