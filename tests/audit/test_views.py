"""Auditors' pages: history with diffs and replay steps, access log rows, exports verified outside the
system, the archive package, chain verification, and auditors refused on every write."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from typing import Any

from lxml import etree
from sqlalchemy import func, select

from service.audit.models import AccessLogEntry
from service.audit.package import SCHEMAS
from service.parties.models import Role
from tests.audit import scenarios
from tests.conftest import ROOT, csrf_token
from tests.deviations.world import World, _user

VERIFIER = ROOT / "bin" / "verify-audit-export"


def auditor(world: World) -> Any:
    if "granskare" not in world.users:
        world.users["granskare"] = _user(world.db, "granskare", world.county, [Role.AUDITOR])
    return world.browser("granskare")


def access_rows(db: Any, case_type: str, case_id: int) -> int:
    db.session.expire_all()
    return int(db.session.scalar(select(func.count()).select_from(AccessLogEntry).where(
        AccessLogEntry.case_type == case_type, AccessLogEntry.case_id == case_id)) or 0)


def test_history_shows_timeline_diffs_and_replay_steps(world: World) -> None:
    dispute = scenarios.dispute_to_county(world)
    page = auditor(world).get(f"/granskning/dispute/{dispute.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Tvisten eskalerades" in html and scenarios.DECISION in html and "Tidsfrist passerad" in html
    viewer = json.loads(html.split('id="replay-json">', 1)[1].split("</script>", 1)[0])
    steps = viewer[0]["steps"]
    assert [s["action"] for s in steps] == ["instance.started", "task.completed", "instance.timers_run",
                                            "instance.timers_run", "task.completed", "task.completed"]
    assert "line_position" in steps[0]["active"] and "steering_decision" in steps[2]["active"]
    assert "county_preparation" in steps[3]["active"] and steps[3]["escalated"] == ["level_1_deadline", "level_2_deadline"]
    assert "county_decision" in steps[4]["active"]  # after the officials' preparation (issue #20)
    assert steps[-1]["active"] == [] and any(c["key"] == "decision" for c in steps[-1]["changes"])


def test_each_history_view_and_case_page_is_logged(world: World) -> None:
    dispute = scenarios.dispute_to_county(world)
    db, reader = world.db, auditor(world)
    before = access_rows(db, "dispute", dispute.id)
    for suffix in ("", "/rapport", "/omkorning", "/historik.json", "/historik.csv", "/atkomst"):
        assert reader.get(f"/granskning/dispute/{dispute.id}{suffix}").status_code == 200, suffix
        assert access_rows(db, "dispute", dispute.id) == before + 1, suffix
        before += 1
    assert world.browser("chef_vgr").get(f"/tvister/{dispute.id}").status_code == 200  # another package's page
    assert access_rows(db, "dispute", dispute.id) == before + 1
    listing = reader.get(f"/granskning/dispute/{dispute.id}/atkomst").get_data(as_text=True)
    assert "Chef Vgr" in listing and "disputes.dispute_page" in listing
    assert world.browser("chef_vgr").get(f"/granskning/dispute/{dispute.id}/atkomst").status_code == 403
    assert world.browser("rapportor").get(f"/granskning/dispute/{dispute.id}").status_code == 404


def test_replay_button_reports_identical(world: World) -> None:
    dispute = scenarios.dispute_to_county(world)
    page = auditor(world).get(f"/granskning/dispute/{dispute.id}/omkorning").get_data(as_text=True)
    assert "Identisk" in page and "skiljer sig" not in page


def test_exported_json_verifies_outside_and_a_tampered_export_fails(world: World, tmp_path: Any) -> None:
    scenarios.deviation_escalated(world)  # other cases' events come before and between the dispute's
    dispute = scenarios.dispute_to_county(world)
    export = auditor(world).get(f"/granskning/dispute/{dispute.id}/historik.json").get_json()
    assert export["links"] and export["events"] and export["head"]["seq"] >= export["events"][-1]["seq"]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export), encoding="utf-8")
    ok = subprocess.run([sys.executable, str(VERIFIER), str(path)], capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout.startswith("OK"), ok.stderr
    changed = json.loads(json.dumps(export))
    target = next(e for e in changed["events"] if e["action"] == "task.completed")
    target["data"]["data"] = {"decision": "Kommunen betalar."}
    deleted = json.loads(json.dumps(export))
    del deleted["events"][1]
    for tampered, expected in ((changed, f"händelse {target['seq']}"), (deleted, "saknas")):
        path.write_text(json.dumps(tampered), encoding="utf-8")
        broken = subprocess.run([sys.executable, str(VERIFIER), str(path)], capture_output=True, text=True)
        assert broken.returncode == 1 and expected in broken.stderr, broken.stderr


def test_csv_export_has_one_row_per_event(world: World) -> None:
    dispute = scenarios.dispute_to_county(world)
    reader = auditor(world)
    rows = reader.get(f"/granskning/dispute/{dispute.id}/historik.csv").get_data(as_text=True).lstrip("\ufeff").splitlines()
    events = reader.get(f"/granskning/dispute/{dispute.id}/historik.json").get_json()["events"]
    assert rows[0].startswith("seq;") and len(rows) == len(events) + 1


def test_agreement_package_has_valid_mets_and_every_case(world: World) -> None:
    scenarios.deviation_escalated(world)
    scenarios.dispute_to_county(world)
    response = auditor(world).get(f"/granskning/agreement/{world.agreement.id}/paket.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = archive.namelist()
    root = names[0].split("/", 1)[0]
    mets = etree.fromstring(archive.read(f"{root}/METS.xml"))
    schema = etree.XMLSchema(etree.parse(str(SCHEMAS / "mets-subset.xsd")))
    assert schema.validate(mets), schema.error_log
    data = [n for n in names if "/representations/rep1/data/" in n]
    assert {n.rsplit("/", 1)[1].split("-")[0] for n in data} == {"agreement", "deviation", "dispute"}
    hrefs = mets.xpath("//mets:FLocat/@xlink:href", namespaces={"mets": "http://www.loc.gov/METS/",
                                                                "xlink": "http://www.w3.org/1999/xlink"})
    assert {f"{root}/{h}" for h in hrefs} <= set(names) and len(hrefs) == len(data) + len(list(SCHEMAS.glob("*.xsd")))
    assert world.browser("chef_vgr").get(f"/granskning/agreement/{world.agreement.id}/paket.zip").status_code == 403


def test_verify_page(world: World) -> None:
    scenarios.dispute_to_county(world)
    page = auditor(world).get("/granskning/verifiera").get_data(as_text=True)
    assert "Hashkedjan är obruten" in page
    assert world.browser("chef_vgr").get("/granskning/verifiera").status_code == 403


def test_auditor_reads_everything_and_changes_nothing(world: World) -> None:
    dispute = scenarios.dispute_to_county(world)
    reader = auditor(world)
    for url in (f"/avtal/{world.agreement.id}", "/granskning", f"/granskning/dispute/{dispute.id}", f"/tvister/{dispute.id}",
                f"/granskning/agreement/{world.agreement.id}"):
        assert reader.get(url).status_code == 200, url
    for url in ("/tvister/ny", "/avvikelser/ny", "/avtal/nytt", "/avvikelser/svarstider", "/tvister/nivaer",
                f"/avtal/{world.agreement.id}/andring", "/uppgifter/1"):
        token = csrf_token(reader.get("/granskning").get_data(as_text=True))
        assert reader.post(url, data={"question": "x", "csrf_token": token}).status_code == 403, url
