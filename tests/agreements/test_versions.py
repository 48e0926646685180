"""An adopted version's text cannot be changed by any code path; a draft's can."""

from __future__ import annotations

from typing import Any

import pytest

from service.agreements.models import Agreement, AgreementVersion, VersionStatus
from service.parties.models import Role


@pytest.mark.parametrize("status", list(VersionStatus))
def test_only_adopted_and_superseded_text_is_frozen(db: Any, make_organisation: Any, make_user: Any,
                                                    status: VersionStatus) -> None:
    organisation = make_organisation()
    user = make_user([(organisation, Role.CASE_OFFICER)])
    agreement = Agreement(title="Avtal", coordinator_organisation_id=organisation.id, created_by_id=user.id)
    version = AgreementVersion(number=1, title="Avtal", status=status, created_by_id=user.id,
                               sections={"goals": {"text": "Mål", "responsible": "", "due": ""}})
    agreement.versions.append(version)
    db.session.add(agreement)
    db.session.commit()
    version.sections = {"goals": {"text": "Andra mål", "responsible": "", "due": ""}}
    if status in (VersionStatus.ADOPTED, VersionStatus.SUPERSEDED):
        with pytest.raises(ValueError, match="frozen"):
            db.session.flush()
        db.session.rollback()
        assert db.session.get(AgreementVersion, version.id).text_of("goals") == "Mål"
    else:
        db.session.commit()
        assert db.session.get(AgreementVersion, version.id).text_of("goals") == "Andra mål"
