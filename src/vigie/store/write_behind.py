"""Writes a PostgreSQL unit holds until its transaction ends, then sends in one go each.

An event's message takes a dozen statements, and on PostgreSQL each one is a round trip whose
client side alone (psycopg's execute, the socket, the wait) costs about as much CPU as the
detectors: a bus worker spent 4.8 ms of CPU per event, most of it there. The rows written
here (participant states, profiles, signals, decisions, processed events) are read back in
the same transaction only through this unit, which answers from what it holds, so they can
wait: at the end of the unit each kind goes in one ``executemany`` (one pipelined round trip),
a state or profile written several times in the batch only in its last version.

They are still written inside the transaction, before it commits: the decision, its outbox
rows and the processed-event record commit together or not at all, as before.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vigie.store.prepared import Runner
from vigie.store.statements import BulkStatements, Statements

Row = dict[str, Any]
ID_BLOCK = 32  # message ids taken from the sequence at once (a worker's batch, by default)


@dataclass(slots=True)
class PendingWrites:
    """This transaction's rows not yet sent, by kind, in the order they were written."""

    bulk: BulkStatements
    messages: list[Row] = field(default_factory=list)
    touches: dict[tuple[str, str], Row] = field(default_factory=dict)
    cases: dict[str, Row] = field(default_factory=dict)  # by id, the last version
    open_cases: dict[tuple[str, str], Row] = field(default_factory=dict)  # by subject
    absent: set[tuple[str, str]] = field(default_factory=set)  # accounts looked up, not found
    states: dict[tuple[str, str, str], Row] = field(default_factory=dict)
    profiles: dict[tuple[str, str], Row] = field(default_factory=dict)
    signals: list[Row] = field(default_factory=list)
    decisions: list[Row] = field(default_factory=list)
    processed: dict[tuple[str, str], Row] = field(default_factory=dict)
    looked_up: dict[tuple[str, str], dict[str, Any] | None] = field(default_factory=dict)
    free_ids: list[int] = field(default_factory=list)

    def look_up(self, raw: Runner, platform_id: str, event_ids: list[str]) -> None:
        """Read the earlier answers of these events in one statement (a batch's worth)."""
        params = {"platform_id": platform_id, "event_ids": event_ids}
        found = dict(raw.all_planned_anew(self.bulk.processed_any, params))
        for event_id in event_ids:
            self.looked_up[(platform_id, event_id)] = found.get(event_id)

    def processed_result(self, platform_id: str, event_id: str) -> tuple[bool, Any]:
        """(known, answer): the answer recorded in this transaction or looked up for this
        event; ``known`` False when the database has to be asked."""
        key = (platform_id, event_id)
        row = self.processed.get(key)
        if row is not None:
            return True, dict(row["result"])
        if key in self.looked_up:
            earlier = self.looked_up[key]
            return True, None if earlier is None else dict(earlier)
        return False, None

    def touch(self, platform_id: str, conversation_id: str, at: Any) -> int | None:
        """The conversation's count after one more message, when this transaction already
        touched it (its row is locked since); the increment waits for the flush."""
        held = self.touches.get((platform_id, conversation_id))
        if held is None:
            return None
        held["n"] += 1
        held["count"] += 1
        held["at"] = at
        return int(held["count"])

    def touched(self, platform_id: str, conversation_id: str, at: Any, count: int) -> None:
        self.touches[(platform_id, conversation_id)] = {
            "k_platform": platform_id, "k_id": conversation_id, "n": 0, "at": at, "count": count
        }  # fmt: skip

    def add_message(self, raw: Runner, row: Row) -> int:
        """Hold a message with an id taken from the sequence (a block at a time)."""
        if not self.free_ids:
            taken = raw.all(self.bulk.message_ids, {"n": ID_BLOCK})
            self.free_ids = [int(r[0]) for r in reversed(taken)]
        row["id"] = self.free_ids.pop()
        self.messages.append(row)
        return int(row["id"])

    def save_case(self, row: Row, active: bool) -> None:
        """Hold a case; while it is active it is the subject's open case for this transaction
        (it was looked up, under the subject's lock, before it was opened or updated)."""
        self.cases[row["id"]] = row
        key = (row["platform_id"], row["subject"])
        if active:
            self.open_cases[key] = row
        else:
            self.open_cases.pop(key, None)

    def has_messages(self, platform_id: str, conversation_id: str) -> bool:
        return any(
            m["conversation_id"] == conversation_id and m["platform_id"] == platform_id
            for m in self.messages
        )

    def flush_messages(self, raw: Runner) -> None:
        """Messages first, on their own when a history read needs them in the table."""
        if self.messages:
            raw.execute_many(self.bulk.add_message, self.messages)
            self.messages = []

    def flush(self, raw: Runner, sql: Statements) -> None:
        """Send everything held, parents first (signals name messages and cases, which are
        written at once), and forget it."""
        self.flush_messages(raw)
        counted = [t for t in self.touches.values() if t["n"]]
        for t in counted:
            t["n"] = 0
        for stmt, rows in (
            (sql.save_case, list(self.cases.values())),
            (self.bulk.count_messages, counted),
            (sql.save_state, list(self.states.values())),
            (sql.save_profile, list(self.profiles.values())),
            (sql.add_signal, self.signals),
            (sql.add_decision, self.decisions),
            (sql.add_processed, list(self.processed.values())),
        ):
            if rows:
                raw.execute_many(stmt, rows)
        self.cases, self.states, self.profiles, self.processed = {}, {}, {}, {}
        self.signals, self.decisions = [], []
