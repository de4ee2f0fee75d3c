"""A client for the CyberTipline Reporting API: submit → upload → fileinfo → finish (or retract).

Base URLs: ``https://exttest.cybertip.org/ispws`` (test) and
``https://report.cybertip.org/ispws`` (production), HTTP Basic authentication, XML bodies and
answers (``reportResponse`` / ``reportDoneResponse`` with ``responseCode`` 0 on success).
Transient failures are retried with exponential back-off; ``/submit`` is retried only when
the request surely never arrived (connection errors), so a retry never files a report twice.
``send`` refuses anything without four-eyes approval.
"""

from __future__ import annotations

import contextlib
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from vigie.reports.approvals import Approval, require_four_eyes
from vigie.reports.ncmec import (
    CyberTipReport,
    FileDetails,
    build_file_details_xml,
    build_report_xml,
)

TEST_URL = "https://exttest.cybertip.org/ispws"
PRODUCTION_URL = "https://report.cybertip.org/ispws"
ALREADY_RETRACTED, ALREADY_FINISHED = 5101, 5102
RETRY_STATUSES = {429, 500, 502, 503, 504}


class NcmecError(Exception):
    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


@dataclass(slots=True)
class ReportFile:
    """A file to attach: its bytes come from the platform at sending time, never from Vigie."""

    name: str
    content: bytes
    details: FileDetails


@dataclass(slots=True)
class PreparedReport:
    report: CyberTipReport
    author: str
    approvals: list[Approval]
    files: list[ReportFile] = field(default_factory=list)


@dataclass(slots=True)
class SendResult:
    report_id: str
    file_ids: list[str]
    approved_by: str


class NcmecClient:
    def __init__(
        self,
        username: str,
        password: str,
        *,
        production: bool = False,
        base_url: str | None = None,
        timeout: float = 30.0,
        retries: int = 4,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = (base_url or (PRODUCTION_URL if production else TEST_URL)).rstrip("/")
        self.http = httpx.Client(auth=(username, password), timeout=timeout, transport=transport)
        self.retries, self.backoff, self.sleep = retries, backoff, sleep

    def close(self) -> None:
        self.http.close()

    def _post(
        self, path: str, *, safe_to_repeat: bool = True, method: str = "POST", **kwargs: object
    ) -> ET.Element:
        url = f"{self.base_url}{path}"
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                response = self.http.request(method, url, **kwargs)  # type: ignore[arg-type]
            except (httpx.ConnectError, httpx.ConnectTimeout):
                if last:
                    raise
            except httpx.TransportError:
                if last or not safe_to_repeat:
                    raise
            else:
                if response.status_code not in RETRY_STATUSES or last:
                    return self._parse(path, response)
            self.sleep(self.backoff * 2**attempt)
        raise AssertionError("unreachable")

    @staticmethod
    def _parse(path: str, response: httpx.Response) -> ET.Element:
        try:
            root = ET.fromstring(response.content)
        except ET.ParseError as exc:
            raise NcmecError(f"{path}: HTTP {response.status_code}, not XML") from exc
        code_text = root.findtext("responseCode")
        code = int(code_text) if code_text and code_text.strip().lstrip("-").isdigit() else None
        if code is None:
            raise NcmecError(f"{path}: HTTP {response.status_code}, no responseCode")
        if code not in (0, ALREADY_FINISHED, ALREADY_RETRACTED):
            text = root.findtext("responseDescription") or "error"
            raise NcmecError(f"{path}: {code} {text}", code)
        return root

    def status(self) -> ET.Element:
        return self._post("/status", method="GET")

    def submit(self, report: CyberTipReport) -> str:
        body = build_report_xml(report)
        root = self._post(
            "/submit",
            safe_to_repeat=False,
            content=body,
            headers={"Content-Type": "text/xml; charset=utf-8"},
        )
        report_id = (root.findtext("reportId") or "").strip()
        if not report_id:
            raise NcmecError("/submit: no reportId in the answer")
        return report_id

    def upload(self, report_id: str, name: str, content: bytes) -> str:
        root = self._post("/upload", data={"id": report_id}, files={"file": (name, content)})
        file_id = (root.findtext("fileId") or "").strip()
        if not file_id:
            raise NcmecError("/upload: no fileId in the answer")
        return file_id

    def file_info(self, report_id: str, file_id: str, details: FileDetails) -> None:
        self._post(
            "/fileinfo",
            content=build_file_details_xml(report_id, file_id, details),
            headers={"Content-Type": "text/xml; charset=utf-8"},
        )

    def finish(self, report_id: str) -> list[str]:
        root = self._post("/finish", data={"id": report_id})
        return [(e.text or "").strip() for e in root.iter("fileId")]

    def retract(self, report_id: str) -> None:
        self._post("/retract", data={"id": report_id})

    def send(self, prepared: PreparedReport) -> SendResult:
        """The whole flow; a failure after ``/submit`` retracts the half-made report."""
        approval = require_four_eyes(prepared.author, prepared.approvals)
        for item in prepared.files:  # validate everything before anything leaves
            build_file_details_xml("0", "0", item.details)
        report_id = self.submit(prepared.report)
        try:
            for item in prepared.files:
                file_id = self.upload(report_id, item.name, item.content)
                self.file_info(report_id, file_id, item.details)
            file_ids = self.finish(report_id)
        except Exception:
            with contextlib.suppress(Exception):
                self.retract(report_id)
            raise
        return SendResult(report_id, file_ids, approval.approver)
