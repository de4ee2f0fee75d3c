"""The storage interface the pipeline, the API and the console talk to.

One ``Unit`` is one transaction: everything an event changes is written together or not at all.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager, AbstractContextManager
from datetime import datetime
from typing import Any, Protocol

from vigie.domain import Account, Case, Decision, MediaRef, Message, Platform, PriorMessage, Signal


class Unit(Protocol):
    # Platforms and keys
    def add_platform(self, platform: Platform) -> None: ...
    def add_api_key(self, platform_id: str, prefix: str, key_hash: str) -> None: ...
    def revoke_api_keys(self, platform_id: str) -> int:
        """Revoke every live key of the platform; returns how many were live."""
        ...

    def platform_by_key_hash(self, key_hash: str) -> Platform | None: ...
    def get_platform(self, platform_id: str) -> Platform | None: ...
    def platform_by_name(self, name: str) -> Platform | None: ...

    # Accounts and conversations
    def get_account(self, platform_id: str, pseudo_id: str) -> Account | None: ...
    def get_accounts(self, platform_id: str, pseudo_ids: list[str]) -> dict[str, Account]: ...
    def ensure_accounts(
        self, platform_id: str, refs: dict[str, str], seen_at: datetime
    ) -> dict[str, Account]: ...
    def save_account(self, account: Account, external_ref: str | None = None) -> None: ...
    def external_ref(self, platform_id: str, pseudo_id: str) -> str | None: ...
    def profile_state(self, platform_id: str, pseudo_id: str) -> dict[str, Any]: ...
    def save_profile_state(
        self, platform_id: str, pseudo_id: str, state: dict[str, Any]
    ) -> None: ...
    def touch_conversation(
        self, platform_id: str, conversation_id: str, at: datetime, external_ref: str | None
    ) -> int: ...
    def history(self, platform_id: str, conversation_id: str, limit: int) -> list[PriorMessage]: ...
    def participant_state(
        self, platform_id: str, conversation_id: str, pseudo_id: str
    ) -> tuple[dict[str, Any], float, list[str]]: ...
    def save_participant_state(
        self,
        platform_id: str,
        conversation_id: str,
        pseudo_id: str,
        state: dict[str, Any],
        risk: float,
        categories: list[str],
    ) -> None: ...

    # Content, signals, cases, decisions
    def add_message(self, message: Message, risk: float) -> int: ...
    def add_media(self, media: MediaRef) -> int: ...
    def add_user_report(
        self,
        platform_id: str,
        event_id: str,
        reporter: str,
        subject: str,
        conversation_id: str | None,
        reason: str,
        at: datetime,
    ) -> None: ...
    def add_signals(
        self,
        platform_id: str,
        event_id: str,
        signals: list[Signal],
        *,
        conversation_id: str | None,
        subject: str | None,
        case_id: str | None,
        message_id: int | None = None,
        media_id: int | None = None,
        at: datetime,
    ) -> None: ...
    def open_case_for(self, platform_id: str, subject: str) -> Case | None: ...
    def save_case(self, case: Case) -> None: ...
    def get_case(self, platform_id: str, case_id: str) -> Case | None: ...
    def list_cases(self, platform_id: str, limit: int = 100) -> list[Case]: ...
    def record_decision(
        self, decision: Decision, subject: str | None, rules: list[str]
    ) -> None: ...

    def enqueue_webhooks(
        self,
        platform: Platform,
        event_id: str,
        subject: str | None,
        case_id: str | None,
        actions: list[str],
        extra: dict[str, dict[str, Any]] | None = None,
    ) -> int: ...

    # Idempotency and audit
    def processed_result(self, platform_id: str, event_id: str) -> dict[str, Any] | None: ...
    def look_up_processed(self, platform_id: str, event_ids: list[str]) -> None: ...
    def save_processed(self, platform_id: str, event_id: str, result: dict[str, Any]) -> None: ...
    def audit(
        self,
        actor: str,
        action: str,
        target: str,
        details: dict[str, Any] | None = None,
        platform_id: str | None = None,
    ) -> None: ...


class Store(Protocol):
    def unit(self) -> AbstractContextManager[Unit]: ...
    def write_turn(self) -> AbstractAsyncContextManager[None]:
        """For an event loop: wait, without blocking the loop, until this process may write;
        units opened inside then start at once (SQLite: one writer across processes)."""
        ...

    def read(self) -> AbstractContextManager[Unit]: ...
    def dispose(self) -> None: ...
