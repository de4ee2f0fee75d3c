"""A local DSA Transparency Database API for tests: ``POST /api/v1/statements`` only.

Bearer token; at most 100 statements per call; required fields and the PUID's uniqueness are
checked as the real API does, answering 422 with errors indexed ``statement_<n>``.
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

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.headers.get("Authorization") != f"Bearer {self.fake.token}":
            return self._send(401, {"message": "Unauthenticated."})
        if self.path != "/api/v1/statements":
            return self._send(404, {"message": "not found"})
        if self.fake.fail_next > 0:
            self.fake.fail_next -= 1
            return self._send(503, {"message": "busy"})
        statements = json.loads(body).get("statements", [])
        if not 1 <= len(statements) <= 100:
            return self._send(422, {"message": "between 1 and 100 statements"})
        errors = {}
        for i, s in enumerate(statements):
            bad = {k: [f"The {k} field is required."] for k in REQUIRED if not s.get(k)}
            if s.get("puid") in self.fake.statements:
                bad["puid"] = ["The identifier given is not unique within this platform."]
            if bad:
                errors[f"statement_{i}"] = bad
        if errors:
            return self._send(422, {"errors": errors})
        self.fake.batches.append(len(statements))
        created = []
        for s in statements:
            stored = dict(s, uuid=str(uuid.uuid4()))
            self.fake.statements[s["puid"]] = stored
            created.append(stored)
        self._send(201, {"statements": created})
