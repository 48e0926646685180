"""An agreement's cases as one information package for archiving, in the shape of an E-ARK CSIP/SIP:
``METS.xml`` at the root, descriptive metadata, one representation with every case's history (JSON with
the hash chain, and CSV), and the schemas. METS.xml is validated against schemas/mets-subset.xsd, a subset
of METS written for this package (see docs/auditing.md)."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree
from sqlalchemy import select

from service.audit.cases import Case, get_case
from service.audit.export import export_csv, export_json_text
from service.columns import now
from service.deviations.models import Deviation
from service.disputes.models import Dispute
from service.errors import NotFound
from service.extensions import db

SCHEMAS = Path(__file__).resolve().parent / "schemas"
METS_NS = "http://www.loc.gov/METS/"
XLINK_NS = "http://www.w3.org/1999/xlink"
CSIP_PROFILE = "https://earkcsip.dilcis.eu/profile/E-ARK-CSIP.xml"


@dataclass(frozen=True)
class PackageFile:
    path: str  # inside the package folder
    content: bytes
    mimetype: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def agreement_cases(agreement_id: int) -> list[Case]:
    """The agreement and every deviation and dispute under it."""
    agreement = get_case("agreement", agreement_id)
    if agreement is None:
        raise NotFound("Avtalet finns inte.")
    cases = [agreement]
    for model, case_type in ((Deviation, "deviation"), (Dispute, "dispute")):
        for case_id in db.session.scalars(select(model.id).where(model.agreement_id == agreement_id).order_by(model.id)):
            case = get_case(case_type, case_id)
            if case is not None:
                cases.append(case)
    return cases


def package_case_keys(agreement_id: int) -> list[tuple[str, int]]:
    """(case type, id) of every case the agreement's package holds, the agreement first (for the access log)."""
    return [(case.case_type, case.id) for case in agreement_cases(agreement_id)]


def build_package(agreement_id: int) -> tuple[str, bytes]:
    """(file name, zip bytes) of the agreement's information package; METS.xml is validated first."""
    cases = agreement_cases(agreement_id)
    objid = f"samverkan-avtal-{agreement_id}-{now().strftime('%Y%m%dT%H%M%SZ')}"
    files = [PackageFile("metadata/descriptive/cases.json", _descriptive(cases), "application/json")]
    for case in cases:
        stem = f"representations/rep1/data/{case.case_type}-{case.id}"
        files.append(PackageFile(f"{stem}.json", export_json_text(case).encode(), "application/json"))
        files.append(PackageFile(f"{stem}.csv", export_csv(case).encode(), "text/csv"))
    files.extend(annual_report_files(agreement_id))
    for schema in sorted(SCHEMAS.glob("*.xsd")):
        files.append(PackageFile(f"schemas/{schema.name}", schema.read_bytes(), "application/xml"))
    mets = mets_document(objid, cases[0].title, files)
    validate_mets(mets)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{objid}/METS.xml", mets)
        for item in files:
            archive.writestr(f"{objid}/{item.path}", item.content)
    return f"{objid}.zip", buffer.getvalue()


def annual_report_files(agreement_id: int) -> list[PackageFile]:
    """The agreement's adopted annual reports, and the adopted collaboration reports (of joint bodies) that
    covered it, as the PDF/A stored at adoption (service/reports)."""
    from service.reports.models import AnnualReport, ReportStatus
    from service.reports.operations import collaboration_reports_covering

    reports = db.session.scalars(select(AnnualReport).where(
        AnnualReport.agreement_id == agreement_id, AnnualReport.status == ReportStatus.ADOPTED).order_by(AnnualReport.year))
    files = [PackageFile(f"representations/rep1/data/annual-report-{report.year}.pdf", report.pdf, "application/pdf")
             for report in reports if report.pdf]
    collaboration = sorted(collaboration_reports_covering(agreement_id, adopted_only=True), key=lambda r: (r.year, r.id))
    files.extend(PackageFile(f"representations/rep1/data/collaboration-report-{report.year}-body-{report.body_id}.pdf",
                             report.pdf, "application/pdf") for report in collaboration if report.pdf)
    return files


def _descriptive(cases: list[Case]) -> bytes:
    records = [{"type": case.case_type, "id": case.id, "title": case.title, "status": getattr(case.record, "status", ""),
                "case_number": getattr(case.record, "case_number", None), "instances": list(case.instance_ids)}
               for case in cases]
    return json.dumps({"cases": records}, ensure_ascii=False, indent=1).encode()


def mets_document(objid: str, label: str, files: list[PackageFile]) -> bytes:
    """METS.xml: header, the descriptive metadata, a file section for the data and a physical structure map."""
    created = now().strftime("%Y-%m-%dT%H:%M:%SZ")
    m = _maker()
    root = m("mets", OBJID=objid, LABEL=label, TYPE="Other", PROFILE=CSIP_PROFILE)
    header = etree.SubElement(root, _q("metsHdr"), CREATEDATE=created, RECORDSTATUS="NEW")
    agent = etree.SubElement(header, _q("agent"), ROLE="CREATOR", TYPE="OTHER", OTHERTYPE="SOFTWARE")
    etree.SubElement(agent, _q("name")).text = "Samverkan"
    descriptive = [f for f in files if f.path.startswith("metadata/")]
    data = [f for f in files if not f.path.startswith("metadata/")]
    for number, item in enumerate(descriptive, start=1):
        section = etree.SubElement(root, _q("dmdSec"), ID=f"dmd-{number}", CREATED=created)
        etree.SubElement(section, _q("mdRef"), {f"{{{XLINK_NS}}}type": "simple", f"{{{XLINK_NS}}}href": item.path},
                         LOCTYPE="URL", MDTYPE="OTHER", OTHERMDTYPE="Samverkan-JSON", MIMETYPE=item.mimetype,
                         SIZE=str(len(item.content)), CREATED=created, CHECKSUM=item.sha256, CHECKSUMTYPE="SHA-256")
    file_section = etree.SubElement(root, _q("fileSec"), ID="filesec-1")
    groups: dict[str, Any] = {}
    for number, item in enumerate(data, start=1):
        use = "Schemas" if item.path.startswith("schemas/") else "Representations/rep1/Data"
        if use not in groups:
            groups[use] = etree.SubElement(file_section, _q("fileGrp"), ID=f"grp-{len(groups) + 1}", USE=use)
        entry = etree.SubElement(groups[use], _q("file"), ID=f"file-{number}", MIMETYPE=item.mimetype,
                                 SIZE=str(len(item.content)), CREATED=created, CHECKSUM=item.sha256, CHECKSUMTYPE="SHA-256")
        etree.SubElement(entry, _q("FLocat"), {f"{{{XLINK_NS}}}type": "simple", f"{{{XLINK_NS}}}href": item.path},
                         LOCTYPE="URL")
    structure = etree.SubElement(root, _q("structMap"), ID="struct-1", TYPE="PHYSICAL", LABEL="CSIP")
    top = etree.SubElement(structure, _q("div"), ID="div-root", LABEL=objid,
                           DMDID=" ".join(f"dmd-{n}" for n in range(1, len(descriptive) + 1)))
    for number, item in enumerate(data, start=1):
        etree.SubElement(etree.SubElement(top, _q("div"), ID=f"div-{number}", LABEL=item.path), _q("fptr"),
                         FILEID=f"file-{number}")
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _q(name: str) -> str:
    return f"{{{METS_NS}}}{name}"


def _maker() -> Any:
    def make(name: str, **attributes: str) -> Any:
        return etree.Element(_q(name), nsmap={"mets": METS_NS, "xlink": XLINK_NS}, **attributes)
    return make


def validate_mets(document: bytes) -> None:
    """Raise ValueError naming the first schema error of METS.xml."""
    schema = etree.XMLSchema(etree.parse(str(SCHEMAS / "mets-subset.xsd")))
    parsed = etree.fromstring(document)
    if not schema.validate(parsed):
        error = schema.error_log.last_error
        raise ValueError(f"METS.xml följer inte schemat (rad {error.line}): {error.message}")
