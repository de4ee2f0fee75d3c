"""Structured logs: one JSON object per line on standard error, ready for any log shipper.

Extra fields passed with ``log.info("...", extra={...})`` become keys. Keys that could carry
message texts or secrets are dropped whatever the caller passes: logs are kept longer and
read by more people than the database, so they must never hold what children wrote.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from datetime import UTC, datetime
from typing import Any

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}
FORBIDDEN = frozenset(
    {
        "text",
        "texts",
        "body",
        "payload",
        "reason",
        "password",
        "secret",
        "api_key",
        "key",
        "token",
        "authorization",
        "webhook_secret",
        "pseudonym_secret",
        "external_ref",
    }
)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key in _STANDARD or key.startswith("_") or key.lower() in FORBIDDEN:
                continue
            entry[key] = value if isinstance(value, int | float | bool | None) else str(value)
        if record.exc_info and record.exc_info[0] is not None:
            entry["error"] = record.exc_info[0].__name__
            # Frames only: an exception's message can quote the input (a message text).
            entry["trace"] = "".join(traceback.format_tb(record.exc_info[2]))
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str = "info") -> None:
    """JSON lines on stderr for the whole process (idempotent)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Libraries loaded later (machine-learning runtimes) may reconfigure the root logger;
    # Vigie's own loggers keep their handler and level whatever happens there.
    own = logging.getLogger("vigie")
    own.handlers[:] = [handler]
    own.setLevel(level.upper())
    own.propagate = False
