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
    Section("content", "Innehåll: kunskap, insatser och gemensam kompetensutveckling", "Innehåll", False),
    Section("follow_up", "Uppföljning och utvärdering (hur ofta, vem ansvarar)", "Uppföljning och utvärdering", True),
)
SECTION_KEYS = tuple(section.key for section in SECTIONS)
