from typing import Any

import pytest

from service.processes.definitions import deploy_definition
from service.transactions import commit_with_retry
from tests.conftest import ROOT
from tests.deviations.world import frozen, world  # noqa: F401 (fixtures)


@pytest.fixture
def deployed(db: Any) -> None:
    """bpmn/deviation.bpmn only: the report reads deviations; disputes are made as rows where needed."""
    xml = (ROOT / "bpmn" / "deviation.bpmn").read_bytes()
    commit_with_retry(lambda: deploy_definition(xml, "deviation.bpmn", ROOT / "forms", by=None))
