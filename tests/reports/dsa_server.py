"""A local DSA Transparency Database API for tests: ``POST /api/v1/statements`` and
``GET /api/v1/statement/existing-puid/{puid}``.

Bearer token; at most 100 statements per call; required fields are checked, answering 422 with
errors indexed ``statement_<n>``; PUIDs already stored are refused as the reference
(``PuidNotUniqueMultipleException``) does: 422 with ``errors.puid`` and
``errors.existing_puids``, nothing of the batch created. ``existing-puid`` answers 302 or 404.
``fail_next`` answers 503 (with ``Retry-After: retry_after`` when set); ``store_then_fail``
stores the next batch, then answers 502 (the answer lost after the work was done);
``throttle_lookups`` answers the next ``existing-puid`` lookups 429 (with ``Retry-After``), as
the reference's rate limiter does.
"""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REQUIRED = (
    "decision_ground",
    "content_type",
    "category",
    "application_date",
    "decision_facts",
    "source_type",
    "automated_detection",
    "automated_decision",
    "puid",
    "territorial_scope",
    "content_date",
)


class FakeTransparencyDb:
    def __init__(self, token: str = "tok") -> None:
        self.token = token
        self.statements: dict[str, dict] = {}
        self.batches: list[int] = []
        self.fail_next = 0
        self.retry_after: str | None = None
        self.store_then_fail = 0
        self.lookups: list[str] = []
        self.throttle_lookups = 0
        handler = type("Handler", (_Handler,), {"fake": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FakeTransparencyDb:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _Handler(BaseHTTPRequestHandler):
    fake: FakeTransparencyDb

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, body: object) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _send_busy(self, status: int = 503) -> None:
        raw = b'{"message": "busy"}'
        self.send_response(status)
        if self.fake.retry_after is not None:
            self.send_header("Retry-After", self.fake.retry_after)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self) -> None:
        prefix = "/api/v1/statement/existing-puid/"
        if self.headers.get("Authorization") != f"Bearer {self.fake.token}":
            return self._send(401, {"message": "Unauthenticated."})
        if not self.path.startswith(prefix):
            return self._send(404, {"message": "not found"})
        puid = self.path.removeprefix(prefix)
        if self.fake.throttle_lookups > 0:
            self.fake.throttle_lookups -= 1
            return self._send_busy(429)
        self.fake.lookups.append(puid)
        if puid in self.fake.statements:
            return self._send(302, {"message": "statement of reason found", "puid": puid})
        self._send(404, {"message": "statement of reason not found", "puid": puid})

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.headers.get("Authorization") != f"Bearer {self.fake.token}":
            return self._send(401, {"message": "Unauthenticated."})
        if self.path != "/api/v1/statements":
            return self._send(404, {"message": "not found"})
        if self.fake.fail_next > 0:
            self.fake.fail_next -= 1
            return self._send_busy()
        statements = json.loads(body).get("statements", [])
        if not 1 <= len(statements) <= 100:
            return self._send(422, {"message": "between 1 and 100 statements"})
        errors = {}
        for i, s in enumerate(statements):
            bad = {k: [f"The {k} field is required."] for k in REQUIRED if not s.get(k)}
            if bad:
                errors[f"statement_{i}"] = bad
        if errors:
            return self._send(422, {"errors": errors})
        existing = [s["puid"] for s in statements if s["puid"] in self.fake.statements]
        if existing:
            message = "The platform identifier(s) are not all unique within this call."
            return self._send(
                422, {"message": message, "errors": {"puid": [message], "existing_puids": existing}}
            )
        self.fake.batches.append(len(statements))
        created = []
        for s in statements:
            stored = dict(s, uuid=str(uuid.uuid4()))
            self.fake.statements[s["puid"]] = stored
            created.append(stored)
        if self.fake.store_then_fail > 0:
            self.fake.store_then_fail -= 1
            return self._send(502, {"message": "Bad Gateway"})
        self._send(201, {"statements": created})
