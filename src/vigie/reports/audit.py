"""The audit chain's old address: it lives in :mod:`vigie.store.audit` now.

The chain is storage (an append under a lock, a walk over the table), and the store's own
writer on the decision path needs it, so it sits below ``reports/``; these names stay here
so that code written against ``vigie.reports.audit`` keeps working. New code imports
``vigie.store.audit``.
"""

from __future__ import annotations

from vigie.store.audit import (
    CHAIN_LOCK,
    GENESIS,
    BrokenEntry,
    append_audit,
    canonical_json,
    case_target,
    case_targets,
    entry_hash,
    utc_iso,
    verify_chain,
)

__all__ = [
    "CHAIN_LOCK",
    "GENESIS",
    "BrokenEntry",
    "append_audit",
    "canonical_json",
    "case_target",
    "case_targets",
    "entry_hash",
    "utc_iso",
    "verify_chain",
]
