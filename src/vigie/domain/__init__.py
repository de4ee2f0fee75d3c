"""Plain data types shared by every room of the house; they know nothing else."""

from vigie.domain.categories import CATEGORIES, Category
from vigie.domain.models import (
    Account,
    AgeSource,
    AuditEvent,
    Case,
    CaseStatus,
    Decision,
    DecisionKind,
    MediaRef,
    Message,
    Participant,
    Platform,
    PriorMessage,
    Signal,
)

__all__ = [
    "CATEGORIES",
    "Account",
    "AgeSource",
    "AuditEvent",
    "Case",
    "CaseStatus",
    "Category",
    "Decision",
    "DecisionKind",
    "MediaRef",
    "Message",
    "Participant",
    "Platform",
    "PriorMessage",
    "Signal",
]
