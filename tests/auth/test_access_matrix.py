"""Who may do what: every role in two unrelated organisations (and anonymous) × every page and action.

Each row names a page or action and the principals allowed to use it; everybody else must be refused
(403, or 404 where the existence of the thing must not leak; anonymous visitors are sent to the login
page) and a refused request must change nothing. Adding a page = adding a row. Rows whose rule is not yet
kept by the view carry ``gap=`` (an expected failure, strict: when the view is fixed the row must be
updated). ``test_every_page_is_in_the_matrix`` fails when a blueprint gains a route without a row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask, g

from tests.auth.matrix_world import ANONYMOUS, PRINCIPALS, ROLES, MatrixWorld, state
from tests.deviations.world import deployed, frozen  # noqa: F401 (fixtures)

EVERYONE = frozenset(PRINCIPALS)
SIGNED_IN = EVERYONE - {ANONYMOUS}
NOBODY: frozenset[str] = frozenset()
AUDITORS = frozenset({"auditor@a", "auditor@b"})
ADMINS = frozenset({"admin@a", "admin@b"})
MANAGERS = frozenset({"manager@a", "manager@b"})
CASE_OFFICERS = frozenset({"case_officer@a", "case_officer@b"})
PARTY_A = frozenset(f"{role}@a" for role in ROLES)
TASK_GROUP = frozenset({"deviation_contact@a"})  # the deviation's answer task is offered to Alingsås' contacts
# Who in Alingsås sees the deviation sent to it and the dispute it opened (service/deviations, service/disputes).
DEVIATION_READERS = frozenset({"deviation_contact@a", "manager@a"})
DISPUTE_READERS = frozenset({"manager@a", "steering_group_member@a"})
COORDINATORS_A = frozenset({"case_officer@a", "manager@a"})  # of the agreement Alingsås coordinates
BODY_MANAGERS = ADMINS | {"case_officer@a"}  # set joint bodies up: admins, case officers of the coordinator
MINUTE_KEEPERS = frozenset({"body_secretary@a"})  # the steering group's secretary keeps the minutes
PROCESS_OWNERS = frozenset({"process_owner@a", "process_owner@b"})  # may deploy (access.can_manage_definitions)


@dataclass(frozen=True)
class Row:
    method: str
    path: str  # {agreement}, {deviation}, … filled from MatrixWorld.ids()
    allowed: frozenset[str]
    # A change to one's own account or session (language, password, substitutes): auditors may do these too.
    personal: bool = False
    gap: str = ""
    endpoint: str = ""
    # The action removes its object: only the first allowed principal finds it (the others get 404).
    removes: bool = False
    data: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


ROWS = [
    # The inbox
    Row("GET", "/logga-in", EVERYONE, endpoint="inbox.login"),
    Row("GET", "/", EVERYONE, endpoint="inbox.index"),
    Row("GET", "/uppgifter", SIGNED_IN, endpoint="inbox.my_tasks"),
    Row("GET", "/uppgifter/{task}", TASK_GROUP | AUDITORS, endpoint="inbox.task_page"),
    Row("POST", "/uppgifter/{task}", TASK_GROUP, endpoint="inbox.task_page", data={"_action": "save"}),
    Row("POST", "/uppgifter/{task}/ta", TASK_GROUP, endpoint="inbox.claim"),
    Row("POST", "/uppgifter/{task}/slapp", TASK_GROUP, endpoint="inbox.release"),
    Row("POST", "/uppgifter/{task}/overlamna", TASK_GROUP, endpoint="inbox.hand_over"),
    Row("POST", "/arenden/deviation/{deviation}/kommentarer", DEVIATION_READERS, endpoint="inbox.add_comment",
        data={"body": "En kommentar."}),
    Row("GET", "/franvaro", SIGNED_IN, endpoint="inbox.substitutes"),
    Row("POST", "/franvaro", SIGNED_IN - AUDITORS, endpoint="inbox.substitutes"),
    Row("POST", "/uppgifter/filter", SIGNED_IN - AUDITORS, endpoint="inbox.save_filter"),
    # Agreements
    Row("GET", "/avtal", SIGNED_IN, endpoint="inbox.agreements"),
    Row("GET", "/avtal/{agreement}", PARTY_A | AUDITORS, endpoint="inbox.agreement_page"),
    Row("GET", "/avtal/{agreement}/jamfor", NOBODY, endpoint="inbox.compare_versions"),  # one version: nothing to compare
    Row("GET", "/avtal/nytt", CASE_OFFICERS, endpoint="inbox.new_agreement"),
    Row("POST", "/avtal/nytt", CASE_OFFICERS, endpoint="inbox.new_agreement"),
    Row("GET", "/avtal/{agreement}/andring", frozenset({"case_officer@a"}), endpoint="inbox.propose_amendment"),
    Row("POST", "/avtal/{agreement}/andring", frozenset({"case_officer@a"}), endpoint="inbox.propose_amendment",
        data={"motivation": "Nya lokaler."}),
    Row("GET", "/avtal/{agreement}/uppsagning", frozenset({"body_secretary@a"}), endpoint="agreements.terminate"),
    Row("POST", "/avtal/{agreement}/uppsagning", frozenset({"body_secretary@a"}), endpoint="agreements.terminate"),
    Row("GET", "/avtal/{agreement}/skrivgrupp", PARTY_A | AUDITORS, endpoint="agreements.drafting_group"),
    # An appeal of Alingsås' decision: only Alingsås' secretary registers it (the form empty: 422, nothing changes).
    Row("GET", "/avtal/{agreement}/beslut/{decision}/overklagande", frozenset({"body_secretary@a"}),
        endpoint="appeals.register_appeal"),
    Row("POST", "/avtal/{agreement}/beslut/{decision}/overklagande", frozenset({"body_secretary@a"}),
        endpoint="appeals.register_appeal"),
    Row("POST", "/avtal/{agreement}/skrivgrupp", frozenset({"case_officer@a"}), endpoint="agreements.drafting_group",
        data={"action": "add", "user_id": "{drafter}"}),
    # Deviations and statistics
    Row("GET", "/avvikelser", SIGNED_IN, endpoint="deviations.deviations"),
    Row("GET", "/avvikelser/{deviation}", DEVIATION_READERS | AUDITORS, endpoint="deviations.deviation_page"),
    Row("GET", "/avvikelser/ny", SIGNED_IN - AUDITORS, endpoint="deviations.new_deviation"),
    Row("POST", "/avvikelser/ny", SIGNED_IN - AUDITORS, endpoint="deviations.new_deviation"),
    Row("GET", "/avvikelser/svarstider", MANAGERS, endpoint="deviations.answer_deadlines"),
    Row("POST", "/avvikelser/svarstider", MANAGERS, endpoint="deviations.answer_deadlines"),
    Row("GET", "/statistik", SIGNED_IN, endpoint="deviations.statistics_index"),
    Row("GET", "/statistik/avtal/{agreement}", PARTY_A | AUDITORS, endpoint="deviations.agreement_statistics"),
    Row("GET", "/statistik/avtal/{agreement}.csv", PARTY_A | AUDITORS, endpoint="deviations.agreement_statistics_csv"),
    Row("GET", "/statistik/part/{org_a}", PARTY_A | AUDITORS, endpoint="deviations.party_statistics"),
    Row("GET", "/statistik/part/{org_a}.csv", PARTY_A | AUDITORS, endpoint="deviations.party_statistics_csv"),
    # Disputes
    Row("GET", "/tvister", SIGNED_IN, endpoint="disputes.disputes"),
    Row("GET", "/tvister/{dispute}", DISPUTE_READERS | AUDITORS, endpoint="disputes.dispute_page"),
    Row("GET", "/tvister/ny", MANAGERS, endpoint="disputes.new_dispute"),
    Row("POST", "/tvister/ny", MANAGERS, endpoint="disputes.new_dispute"),
    Row("GET", "/tvister/nivaer", BODY_MANAGERS, endpoint="disputes.level_settings"),  # admins, the coordinator
    Row("POST", "/tvister/nivaer", BODY_MANAGERS, endpoint="disputes.level_settings"),  # admins, the coordinator
    # Joint bodies (issue #20): Alingsås coordinates the agreement its steering group serves; manager@a is a member,
    # body_secretary@a its secretary; the meeting's adjuster is manager@a
    Row("GET", "/organ", SIGNED_IN, endpoint="bodies.bodies"),
    Row("GET", "/organ/nytt", BODY_MANAGERS, endpoint="bodies.new_body"),
    Row("POST", "/organ/nytt", BODY_MANAGERS, endpoint="bodies.new_body"),
    Row("GET", "/organ/{body}", PARTY_A | AUDITORS | ADMINS, endpoint="bodies.body_page"),
    Row("POST", "/organ/{body}", BODY_MANAGERS, endpoint="bodies.update_body"),
    Row("POST", "/organ/{body}/ledamoter", BODY_MANAGERS, endpoint="bodies.add_member"),
    Row("POST", "/organ/{body}/ledamoter/{member}/avsluta", BODY_MANAGERS, endpoint="bodies.end_member"),
    Row("POST", "/organ/{body}/moten", BODY_MANAGERS | MINUTE_KEEPERS, endpoint="bodies.schedule_meeting"),
    Row("GET", "/organ/moten/{meeting}", PARTY_A | AUDITORS | ADMINS, endpoint="bodies.meeting_page"),
    Row("POST", "/organ/moten/{meeting}/dagordning", MINUTE_KEEPERS, endpoint="bodies.add_agenda_item"),
    Row("POST", "/organ/moten/{meeting}/narvaro", MINUTE_KEEPERS, endpoint="bodies.record_attendance"),
    Row("POST", "/organ/moten/{meeting}/beslut", MINUTE_KEEPERS, endpoint="bodies.record_decision"),
    Row("POST", "/organ/moten/{meeting}/justerare", MINUTE_KEEPERS, endpoint="bodies.choose_adjusters"),
    Row("POST", "/organ/moten/{meeting}/justera", frozenset({"manager@a"}), endpoint="bodies.justera"),
    # Annual reports, improvement actions, routine health (issue #20): Alingsås coordinates the agreement
    Row("GET", "/avtal/{agreement}/arsrapporter", PARTY_A | AUDITORS, endpoint="reports.agreement_reports"),
    Row("POST", "/avtal/{agreement}/arsrapporter", COORDINATORS_A, endpoint="reports.agreement_reports",
        data={"year": "2025"}),
    Row("GET", "/arsrapporter/{report}", PARTY_A | AUDITORS, endpoint="reports.report_page"),
    Row("POST", "/arsrapporter/{report}", COORDINATORS_A, endpoint="reports.report_page",
        data={"summary": "Året i korthet.", "economy_rows": "0"}),
    Row("GET", "/arsrapporter/{report}.pdf", PARTY_A | AUDITORS, endpoint="reports.report_pdf"),
    # A collaboration's reports (the steering group's, over every agreement it serves): whoever sees one of them,
    # its members and auditors (not an admin by that alone); started by a coordinator of one of the agreements.
    Row("GET", "/organ/{body}/arsrapporter", PARTY_A | AUDITORS, endpoint="reports.body_reports"),
    Row("POST", "/organ/{body}/arsrapporter", COORDINATORS_A, endpoint="reports.body_reports", data={"year": "2025"}),
    Row("GET", "/forbattringsatgarder", SIGNED_IN, endpoint="improvements.improvement_list"),
    Row("POST", "/forbattringsatgarder/{improvement}", frozenset({"manager@a"}), endpoint="improvements.update",
        data={"status": "in_progress", "result": ""}),
    Row("GET", "/rutiner", SIGNED_IN, endpoint="routines.routine_health"),
    # Notifications
    Row("GET", "/aviseringar", SIGNED_IN, endpoint="notifications.my_notifications"),
    Row("POST", "/aviseringar/{notification}/last", frozenset({"deviation_contact@a"}), endpoint="notifications.read"),
    # Account and language
    Row("GET", "/konto", SIGNED_IN, endpoint="auth.account"),
    Row("POST", "/konto/losenord", SIGNED_IN, personal=True, endpoint="auth.password"),
    Row("POST", "/sprak", EVERYONE, personal=True, endpoint="auth.language", data={"language": "en"}),
    Row("POST", "/logga-ut", SIGNED_IN, personal=True, endpoint="inbox.logout"),
    Row("GET", "/tillganglighet", EVERYONE, endpoint="inbox.accessibility_statement"),
    # Administration
    Row("GET", "/admin/", ADMINS, endpoint="admin.index"),
    Row("GET", "/admin/organisationer", ADMINS, endpoint="admin.organisations"),
    Row("POST", "/admin/organisationer", ADMINS, endpoint="admin.organisations"),
    Row("GET", "/admin/organisationer/{org_b}", ADMINS, endpoint="admin.organisation"),
    Row("POST", "/admin/organisationer/{org_b}", ADMINS, endpoint="admin.organisation"),
    Row("POST", "/admin/organisationer/{org_b}/instanser", ADMINS, endpoint="admin.add_body"),
    Row("GET", "/admin/anvandare", ADMINS, endpoint="admin.users"),
    Row("POST", "/admin/anvandare", ADMINS, endpoint="admin.users"),
    Row("GET", "/admin/anvandare/{user}", ADMINS, endpoint="admin.user"),
    Row("POST", "/admin/anvandare/{user}/aktiv", ADMINS, endpoint="admin.set_enabled", data={"is_enabled": "0"}),
    Row("POST", "/admin/anvandare/{user}/losenord", ADMINS, endpoint="admin.reset_password"),
    Row("POST", "/admin/anvandare/{user}/roller", ADMINS, endpoint="admin.add_membership"),
    Row("POST", "/admin/anvandare/{user}/roller/{membership}/ta-bort", ADMINS, endpoint="admin.remove_membership",
        removes=True),
    Row("POST", "/admin/anvandare/{user}/identitet", ADMINS, endpoint="admin.link_identity"),
    Row("GET", "/admin/schemalaggning", ADMINS, endpoint="scheduler_admin.schedule"),
    # Importing another tool's model deploys it: process owners only (the form empty: 422, nothing changes).
    # The modeller's other pages are covered by tests/modeller.
    Row("GET", "/processer/importera", PROCESS_OWNERS, endpoint="modeller.import_upload"),
    Row("POST", "/processer/importera", PROCESS_OWNERS, endpoint="modeller.import_preview"),
    Row("POST", "/processer/importera/driftsatt", PROCESS_OWNERS, endpoint="modeller.import_deploy"),
    # Process tests gate deploys: process owners only (an empty case: 422; deleting a missing case: 409).
    Row("GET", "/processer/deviation/tester", PROCESS_OWNERS, endpoint="modeller.tests"),
    Row("POST", "/processer/deviation/tester", PROCESS_OWNERS, endpoint="modeller.save_test"),
    Row("POST", "/processer/deviation/tester/kor", PROCESS_OWNERS, endpoint="modeller.run_tests"),
    Row("POST", "/processer/deviation/tester/ta-bort", PROCESS_OWNERS, endpoint="modeller.delete_test",
        data={"name": "Saknas"}),
]
# Endpoints of the matrix's blueprints that need objects the world does not make; their own tests cover them.
NOT_IN_MATRIX = {"inbox.attachment", "inbox.use_filter", "inbox.delete_filter", "inbox.remove_substitute",
                 "auth.single_sign_on", "inbox.static", "inbox.favicon"}  # favicon: a public static file
BLUEPRINTS = {"inbox", "agreements", "appeals", "deviations", "disputes", "notifications", "admin", "scheduler_admin", "auth",
              "reports", "improvements", "routines", "bodies"}
REFUSED = {403, 404}


def _params(method: str) -> list[Any]:
    return [pytest.param(row, id=row.id, marks=[pytest.mark.xfail(strict=True, reason=row.gap)] if row.gap else [])
            for row in ROWS if row.method == method]


@pytest.fixture
def world(app: Flask, db: Any, deployed: None, frozen: None) -> MatrixWorld:  # noqa: F811
    return MatrixWorld(app, db)


@pytest.mark.parametrize("row", _params("POST"))
def test_who_may_use_the_page(world: MatrixWorld, row: Row) -> None:
    check_row(world, row)


def check_row(world: MatrixWorld, row: Row) -> None:
    """Every principal tries ``row``: the allowed get through, everybody else is refused and changes nothing."""
    path = row.path.format(**world.ids())
    for principal in PRINCIPALS:  # sign everybody in first
        world.client(principal)
    tokens = {principal: world.token(principal) for principal in PRINCIPALS} if row.method == "POST" else {}
    problems = []
    already_removed = False
    # A refused POST must change nothing: the state after each refusal equals the state before the first.
    unchanged = state() if row.method == "POST" else None
    # The refused first, so that an allowed action (which may change things) cannot hide a refusal's effect.
    for principal in sorted(PRINCIPALS, key=lambda p: p in row.allowed):
        before = unchanged if principal not in row.allowed else None
        response = _request(world, principal, row, path, tokens.get(principal, ""))
        outcome = _outcome(response, principal, row)
        expected = "allowed" if principal in row.allowed else "refused"
        if row.removes and principal in row.allowed and response.status_code == 404:
            outcome = "allowed" if already_removed else outcome
        already_removed = already_removed or (principal in row.allowed and outcome == "allowed")
        if outcome != expected:
            problems.append(f"{principal}: {response.status_code} {response.headers.get('Location', '')} ({expected} expected)")
        if before is not None and state() != before:
            problems.append(f"{principal}: refused, but something changed")
    assert not problems, f"{row.id}:\n" + "\n".join(problems)


def _request(world: MatrixWorld, principal: str, row: Row, path: str, token: str) -> Any:
    # Test requests share the fixture's app context, so ``g`` (where Flask-Login keeps the current user)
    # would carry the previous principal into request hooks that run before conftest's reset.
    for name in list(g):
        g.pop(name)
    client = world.client(principal)
    if row.method == "GET":
        return client.get(path)
    data = {name: value.format(**world.ids()) for name, value in row.data.items()}
    return client.post(path, data={"csrf_token": token, **data})


def _outcome(response: Any, principal: str, row: Row) -> str:
    to_login = response.status_code == 302 and "/logga-in" in response.headers.get("Location", "")
    if principal == ANONYMOUS and to_login:
        return "refused"
    if to_login and row.endpoint == "inbox.logout":
        return "allowed"
    if response.status_code in REFUSED:
        return "refused"
    if response.status_code in (200, 302, 409, 422) and not to_login:
        return "allowed"  # 409/422: past the permission check, refused on content (empty form, wrong state)
    return f"unexpected {response.status_code}"


def test_auditors_may_change_nothing() -> None:
    writes = [row for row in ROWS if row.method == "POST" and not row.personal]
    assert writes and all(not (row.allowed & AUDITORS) for row in writes)


def test_every_page_is_in_the_matrix(app: Flask) -> None:
    covered = {row.endpoint for row in ROWS} | NOT_IN_MATRIX
    missing = sorted(rule.endpoint for rule in app.url_map.iter_rules()
                     if rule.endpoint.split(".")[0] in BLUEPRINTS and rule.endpoint not in covered)
    assert not missing, f"add rows to ROWS for: {missing}"
