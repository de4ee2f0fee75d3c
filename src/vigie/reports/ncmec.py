"""NCMEC CyberTipline report XML, as the CyberTipline Reporting API documents it.

Element names and their order follow the API's XSD (``https://report.cybertip.org/ispws/xsd``):
``report`` = incidentSummary, internetDetails*, lawEnforcement?, reporter,
personOrUserReported?, intendedRecipient*, victim*, additionalInfo?; and ``fileDetails`` =
reportId, fileId, ..., fileRelevance, fileAnnotations, industryClassification,
originalFileHash*, details*, additionalInfo*. Only the parts Vigie can fill are modelled.
``validate_*`` catches what NCMEC would refuse (required fields, enumerations) before sending.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

XSI = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_LOCATION = "https://report.cybertip.org/ispws/xsd"

INCIDENT_TYPES = (
    "Child Pornography (possession, manufacture, and distribution)",
    "Child Sex Trafficking",
    "Child Sex Tourism",
    "Child Sexual Molestation",
    "Misleading Domain Name",
    "Misleading Words or Digital Images on the Internet",
    "Online Enticement of Children for Sexual Acts",
    "Unsolicited Obscene Material Sent to a Child",
)
ONLINE_ENTICEMENT = INCIDENT_TYPES[6]
CHILD_SEXUAL_ABUSE_MATERIAL = INCIDENT_TYPES[0]
# In the schema's order: the XML lists them so, whatever order the caller gave.
REPORT_ANNOTATIONS = (
    "sextortion",
    "csamSolicitation",
    "minorToMinorInteraction",
    "spam",
    "sadisticOnlineExploitation",
    "informational",
)
FILE_ANNOTATIONS = (
    "animeDrawingVirtualHentai",
    "potentialMeme",
    "viral",
    "possibleSelfProduction",
    "physicalHarm",
    "violenceGore",
    "bestiality",
    "liveStreaming",
    "infant",
    "generativeAi",
)
FILE_RELEVANCE = ("Reported", "Supplemental Reported")
INDUSTRY_CLASSIFICATIONS = ("A1", "A2", "B1", "B2")
# originalFileHash's hashType is free text (at most 64 characters); the usual ones are checked
# for their length. Perceptual hashes (PDQ...) are not hashes of the original bytes: they go in
# ``details`` as HASH name/value pairs.
HASH_LENGTHS = {"MD5": 32, "SHA1": 40, "SHA256": 64, "SHA512": 128}
HASH_TYPE_MAX = 64
# Documented maximum lengths, by element (the reference model enforces them).
MAX_LENGTHS = {
    "espIdentifier": 255,
    "espService": 100,
    "screenName": 256,
    "displayName": 256,
    "chatClient": 255,
    "chatRoomName": 255,
    "gameName": 255,
    "console": 255,
    "legalURL": 2083,
    "escalateToHighPriority": 3000,
    "incidentDateTimeDescription": 3000,
}
INCIDENT_KINDS = ("chatImIncident", "onlineGamingIncident")


class ReportValidationError(ValueError):
    """Every problem found, one per line, each naming the element."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(slots=True)
class InternetDetail:
    """A chat/IM incident (``chatImIncident``) or an online-gaming one."""

    kind: str
    client_or_game: str | None = None  # chatClient / gameName
    room_or_console: str | None = None  # chatRoomName / console
    content: str | None = None
    additional_info: str | None = None


@dataclass(slots=True)
class Reporter:
    email: str
    first_name: str | None = None
    last_name: str | None = None
    company_template: str | None = None
    terms_of_service: str | None = None
    legal_url: str | None = None


@dataclass(slots=True)
class Account:
    """A reported user or an intended recipient: pseudonymous ESP identifiers, age if known."""

    esp_identifier: str | None = None
    esp_service: str | None = None
    screen_name: str | None = None
    display_names: list[str] = field(default_factory=list)
    age: int | None = None
    additional_info: str | None = None


@dataclass(slots=True)
class CyberTipReport:
    incident_type: str
    incident_at: datetime
    reporter: Reporter
    reported: Account | None = None
    recipients: list[Account] = field(default_factory=list)
    internet_details: list[InternetDetail] = field(default_factory=list)
    annotations: list[str] = field(default_factory=list)
    escalate: str | None = None
    incident_description: str | None = None
    additional_info: str | None = None


@dataclass(slots=True)
class FileDetails:
    """What is said about one uploaded file (``POST /fileinfo``)."""

    original_file_name: str | None = None
    file_viewed_by_esp: bool | None = None
    publicly_available: bool | None = None
    relevance: str = "Reported"
    annotations: list[str] = field(default_factory=list)
    industry_classification: str | None = None
    original_hashes: dict[str, str] = field(default_factory=dict)  # MD5, SHA1, SHA256...
    other_hashes: dict[str, str] = field(default_factory=dict)  # PDQ, SHA256... in details
    additional_info: list[str] = field(default_factory=list)


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds").replace("+00:00", "Z")


def _sub(parent: ET.Element, tag: str, value: object | None) -> None:
    if value is None or value == "":
        return
    if isinstance(value, bool):
        value = "true" if value else "false"
    ET.SubElement(parent, tag).text = str(value)


def _root(tag: str) -> ET.Element:
    return ET.Element(tag, {"xmlns:xsi": XSI, "xsi:noNamespaceSchemaLocation": SCHEMA_LOCATION})


def _serialise(root: ET.Element) -> bytes:
    return cast(bytes, ET.tostring(root, encoding="UTF-8", xml_declaration=True))


def _flags(parent: ET.Element, tag: str, known: tuple[str, ...], chosen: list[str]) -> None:
    """Presence flags (``<sextortion/>``) in the schema's order; no container when none."""
    if chosen:
        node = ET.SubElement(parent, tag)
        for flag in sorted(set(chosen), key=known.index):
            ET.SubElement(node, flag)


def _account(parent: ET.Element, tag: str, person_tag: str, acc: Account) -> None:
    node = ET.SubElement(parent, tag)
    if acc.age is not None:
        _sub(ET.SubElement(node, person_tag), "age", acc.age)
    _sub(node, "espIdentifier", acc.esp_identifier)
    _sub(node, "espService", acc.esp_service)
    _sub(node, "screenName", acc.screen_name)
    for name in acc.display_names:
        _sub(node, "displayName", name)
    _sub(node, "additionalInfo", acc.additional_info)


def _internet_detail(parent: ET.Element, d: InternetDetail) -> None:
    node = ET.SubElement(ET.SubElement(parent, "internetDetails"), d.kind)
    chat = d.kind == "chatImIncident"
    _sub(node, "chatClient" if chat else "gameName", d.client_or_game)
    _sub(node, "chatRoomName" if chat else "console", d.room_or_console)
    _sub(node, "content", d.content)
    _sub(node, "additionalInfo", d.additional_info)


def build_report_xml(report: CyberTipReport) -> bytes:
    """The ``POST /submit`` body; raises ReportValidationError first if NCMEC would refuse it."""
    validate_report(report)
    root = _root("report")
    summary = ET.SubElement(root, "incidentSummary")
    _sub(summary, "incidentType", report.incident_type)
    _sub(summary, "escalateToHighPriority", report.escalate)
    _flags(summary, "reportAnnotations", REPORT_ANNOTATIONS, report.annotations)
    _sub(summary, "incidentDateTime", _iso(report.incident_at))
    _sub(summary, "incidentDateTimeDescription", report.incident_description)
    for detail in report.internet_details:
        _internet_detail(root, detail)
    reporter = ET.SubElement(root, "reporter")
    person = ET.SubElement(reporter, "reportingPerson")
    _sub(person, "firstName", report.reporter.first_name)
    _sub(person, "lastName", report.reporter.last_name)
    _sub(person, "email", report.reporter.email)
    _sub(reporter, "companyTemplate", report.reporter.company_template)
    _sub(reporter, "termsOfService", report.reporter.terms_of_service)
    _sub(reporter, "legalURL", report.reporter.legal_url)
    if report.reported is not None:
        _account(root, "personOrUserReported", "personOrUserReportedPerson", report.reported)
    for recipient in report.recipients:
        _account(root, "intendedRecipient", "intendedRecipientPerson", recipient)
    _sub(root, "additionalInfo", report.additional_info)
    return _serialise(root)


def build_file_details_xml(report_id: str, file_id: str, details: FileDetails) -> bytes:
    """The ``POST /fileinfo`` body for one uploaded file."""
    validate_file_details(details)
    root = _root("fileDetails")
    _sub(root, "reportId", report_id)
    _sub(root, "fileId", file_id)
    _sub(root, "originalFileName", details.original_file_name)
    _sub(root, "fileViewedByEsp", details.file_viewed_by_esp)
    _sub(root, "publiclyAvailable", details.publicly_available)
    _sub(root, "fileRelevance", details.relevance)
    _flags(root, "fileAnnotations", FILE_ANNOTATIONS, details.annotations)
    _sub(root, "industryClassification", details.industry_classification)
    for kind, value in details.original_hashes.items():
        ET.SubElement(root, "originalFileHash", {"hashType": kind}).text = value
    if details.other_hashes:
        node = ET.SubElement(root, "details")
        for name, value in details.other_hashes.items():
            pair = ET.SubElement(node, "nameValuePair", {"type": "HASH"})
            _sub(pair, "name", name)
            _sub(pair, "value", value)
    for info in details.additional_info:
        _sub(root, "additionalInfo", info)
    return _serialise(root)


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def validate_report(report: CyberTipReport) -> None:
    """Every problem NCMEC would refuse the report for, named by element, before sending."""
    problems: list[str] = []
    if report.incident_type not in INCIDENT_TYPES:
        problems.append(
            f"incidentSummary/incidentType: {report.incident_type!r} is not one of "
            "the documented incident types"
        )
    if report.incident_at.tzinfo is None:
        problems.append("incidentSummary/incidentDateTime: needs a time zone (ISO 8601)")
    problems += [
        f"incidentSummary/reportAnnotations: unknown annotation {a!r}"
        for a in report.annotations
        if a not in REPORT_ANNOTATIONS
    ]
    if not _EMAIL.match(report.reporter.email or ""):
        problems.append("reporter/reportingPerson/email: required, a valid address")
    problems += _too_long(
        {
            "legalURL": report.reporter.legal_url,
            "escalateToHighPriority": report.escalate,
            "incidentDateTimeDescription": report.incident_description,
        }
    )
    for detail in report.internet_details:
        problems += _detail_problems(detail)
    accounts = [("personOrUserReported", report.reported)] if report.reported else []
    accounts += [("intendedRecipient", r) for r in report.recipients]
    for tag, acc in accounts:
        problems += _account_problems(tag, acc)
    if problems:
        raise ReportValidationError(problems)


def _too_long(values: dict[str, str | None], prefix: str = "") -> list[str]:
    return [
        f"{prefix}{tag}: {len(value)} characters, at most {MAX_LENGTHS[tag]}"
        for tag, value in values.items()
        if value is not None and len(value) > MAX_LENGTHS[tag]
    ]


def _detail_problems(d: InternetDetail) -> list[str]:
    if d.kind not in INCIDENT_KINDS:
        return [f"internetDetails: unknown incident kind {d.kind!r}"]
    chat = d.kind == "chatImIncident"
    return _too_long(
        {
            "chatClient" if chat else "gameName": d.client_or_game,
            "chatRoomName" if chat else "console": d.room_or_console,
        },
        f"internetDetails/{d.kind}/",
    )


def _account_problems(tag: str, acc: Account) -> list[str]:
    problems = []
    if not (acc.esp_identifier or acc.screen_name):
        problems.append(f"{tag}: needs espIdentifier or screenName")
    if acc.age is not None and not 0 <= acc.age <= 120:
        problems.append(f"{tag}/age: {acc.age} is not an age")
    values = {
        "espIdentifier": acc.esp_identifier,
        "espService": acc.esp_service,
        "screenName": acc.screen_name,
    }
    problems += _too_long(values, f"{tag}/")
    for name in acc.display_names:
        problems += _too_long({"displayName": name}, f"{tag}/")
    return problems


def validate_file_details(details: FileDetails) -> None:
    """Every problem NCMEC would refuse the file details for, named by element."""
    problems: list[str] = []
    if details.relevance not in FILE_RELEVANCE:
        problems.append(f"fileRelevance: {details.relevance!r} is not one of {FILE_RELEVANCE}")
    problems += [
        f"fileAnnotations: unknown annotation {a!r}"
        for a in details.annotations
        if a not in FILE_ANNOTATIONS
    ]
    if details.industry_classification is not None:
        if details.industry_classification not in INDUSTRY_CLASSIFICATIONS:
            problems.append(
                f"industryClassification: {details.industry_classification!r} is not "
                f"one of {INDUSTRY_CLASSIFICATIONS}"
            )
        if details.relevance != "Reported":
            problems.append("industryClassification: only for files whose relevance is Reported")
    if "potentialMeme" in details.annotations and details.relevance != "Reported":
        problems.append("fileAnnotations/potentialMeme: only for files whose relevance is Reported")
    for kind, value in details.original_hashes.items():
        problems += _hash_problems(kind, value)
    problems += [
        f"details/nameValuePair/name: {name!r} is longer than 64 characters"
        for name in details.other_hashes
        if len(name) > 64
    ]
    if problems:
        raise ReportValidationError(problems)


def _hash_problems(kind: str, value: str) -> list[str]:
    if not kind or len(kind) > HASH_TYPE_MAX:
        return [f"originalFileHash: hashType {kind!r} must be 1 to {HASH_TYPE_MAX} characters"]
    length = HASH_LENGTHS.get(kind)
    if length is not None and not re.fullmatch(rf"[0-9a-fA-F]{{{length}}}", value):
        return [f"originalFileHash[{kind}]: expected {length} hex characters"]
    if not value.strip():
        return [f"originalFileHash[{kind}]: empty"]
    return []
