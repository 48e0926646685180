"""Checks of what an admin types for organisations, bodies and users; each returns field errors."""

from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy import func, select

from service.extensions import db
from service.parties.models import Organisation, OrganisationKind, User

ORG_NUMBER = re.compile(r"^(\d{6})-?(\d{4})$")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_org_number(value: str) -> str | None:
    """NNNNNN-NNNN with a valid check digit (Luhn, as Skatteverket), or None."""
    match = ORG_NUMBER.match(value.strip())
    if match is None:
        return None
    digits = match.group(1) + match.group(2)
    total = 0
    for index, digit in enumerate(int(d) for d in digits):
        product = digit * (2 if index % 2 == 0 else 1)
        total += product - 9 if product > 9 else product
    return f"{match.group(1)}-{match.group(2)}" if total % 10 == 0 else None


def organisation_errors(name: str, kind: str, org_number: str, *, current: Organisation | None = None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not 2 <= len(name) <= 200:
        errors["name"] = [_("Ange ett namn (2–200 tecken).")]
    elif db.session.scalar(select(Organisation).where(func.lower(Organisation.name) == name.lower())) not in (None, current):
        errors["name"] = [_("Det finns redan en organisation med det namnet.")]
    if kind not in {k.value for k in OrganisationKind}:
        errors["kind"] = [_("Välj en typ av organisation.")]
    if org_number and normalise_org_number(org_number) is None:
        errors["org_number"] = [_("Ange organisationsnumret som NNNNNN-NNNN med rätt kontrollsiffra.")]
    return errors


def user_errors(username: str, display_name: str, email: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not USERNAME.match(username):
        errors["username"] = [_("Användarnamnet ska ha 2–80 tecken: små bokstäver a–z, siffror, punkt, bindestreck.")]
    elif db.session.scalar(select(User).where(func.lower(User.username) == username.lower())) is not None:
        errors["username"] = [_("Användarnamnet är upptaget.")]
    if not 2 <= len(display_name) <= 200:
        errors["display_name"] = [_("Ange personens namn (2–200 tecken).")]
    if email and not EMAIL.match(email):
        errors["email"] = [_("Ange en giltig e-postadress.")]
    return errors
