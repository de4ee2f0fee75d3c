"""Small, non-explicit event batches shared by the API tests: an adult and a child."""

from __future__ import annotations

from typing import Any


def accounts(prefix: str) -> list[dict[str, Any]]:
    return [
        {"type": "account", "id": f"{prefix}-a1", "account": "adult", "age": 34,
         "age_source": "declared"},
        {"type": "account", "id": f"{prefix}-a2", "account": "child", "age": 13,
         "age_source": "declared"},
    ]  # fmt: skip


def message(prefix: str, n: int, text: str) -> dict[str, Any]:
    """Message ``n`` from the adult to the child in the conversation ``<prefix>-c``."""
    return {
        "type": "message",
        "id": f"{prefix}-m{n}",
        "conversation": f"{prefix}-c",
        "sender": "adult",
        "recipients": ["child"],
        "text": text,
        "sent_at": f"2026-11-28T17:{n:02d}:00Z",
    }
