"""Who is talking to whom: the context that turns warning signs into risk, or not.

An adult asking a child to keep a secret is the core risk; two 13-year-olds saying the same
is not. This module turns ages, account age and the sender's behaviour across conversations
into a multiplier and sentences a moderator can read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from vigie.detect.base import MessageContext
from vigie.domain import Participant

NEW_ACCOUNT = timedelta(days=30)
PEER_GAP = 3


@dataclass(slots=True)
class Context:
    """How much the warning signs of this sender weigh, and why, in words."""

    factor: float
    threat_factor: float
    bonus: float = 0.0
    reasons: list[str] = field(default_factory=list)
    kind: str = "unknown"
    # Whether the embedding stage is worth running for this sender (not for peers, adults
    # among themselves, or a child writing to an adult).
    semantic: bool = True


def _age(p: Participant) -> str:
    return "unknown age" if p.age is None else f"{p.age}"


MINOR_CUE = "the sender asks about parents, age or school: the other person may be a minor"


def _pair(
    sender: Participant, recipients: list[Participant], declared_minor: bool, minor_cue: bool
) -> Context:
    minors = [r for r in recipients if r.is_minor]
    known = [r for r in recipients if r.age is not None]
    youngest = min(minors, key=lambda r: r.age or 0) if minors else None
    if sender.is_adult and youngest is not None:
        gap = sender.age - (youngest.age or 0)  # type: ignore[operator]
        return Context(1.0, 1.0, 0.08 if gap >= 8 else 0.04 if gap >= 5 else 0.0,
                       [f"adult ({sender.age}) writing to a minor ({youngest.age}), "
                        f"age gap {gap} years"], "adult_to_minor")  # fmt: skip
    if sender.is_minor and youngest is not None:
        gap = (sender.age or 0) - (youngest.age or 0)
        if gap <= PEER_GAP:
            why = f"peers of similar age ({sender.age} and {youngest.age}): weighed down"
            return Context(0.45, 0.9, 0.0, [why], "peers", semantic=False)
        why = f"older minor ({sender.age}) writing to a younger one ({youngest.age}), gap {gap}"
        return Context(0.8, 1.0, 0.0, [why], "older_minor")
    if sender.is_minor and youngest is None:
        return Context(0.3, 0.3, 0.0, ["a minor writing to an adult or someone of unknown age"],
                       "minor_to_adult", semantic=False)  # fmt: skip
    if known and len(known) == len(recipients) and not minors:
        if declared_minor:
            return Context(0.9, 1.0, 0.0, ["the other person said they are a minor"], "declared")
        return Context(0.35, 0.35, 0.0, ["adults among themselves: weighed down"], "adults",
                       semantic=False)  # fmt: skip
    if declared_minor:
        return Context(0.95, 1.0, 0.0, ["the other person said they are a minor"], "declared")
    if sender.is_adult:
        why = f"adult ({sender.age}) writing to someone of unknown age"
        if minor_cue:
            return Context(0.8, 1.0, 0.0, [why, MINOR_CUE], "adult_to_unknown")
        return Context(0.5, 0.9, 0.0, [why + ": weighed down until a sign says it is a minor"],
                       "adult_to_unknown")  # fmt: skip
    if youngest is not None:
        return Context(0.85, 1.0, 0.0, [f"{_age(sender)} sender writing to a minor "
                                         f"({youngest.age})"], "unknown_to_minor")  # fmt: skip
    if minor_cue:
        return Context(0.7, 0.9, 0.0, ["ages unknown", MINOR_CUE], "unknown")
    return Context(0.45, 0.9, 0.0, ["ages unknown: weighed down until a sign says it is a minor"],
                   "unknown")  # fmt: skip


def _new_account(sender: Participant, now: datetime | None) -> bool:
    if sender.account_created is None or now is None:
        return False
    created = sender.account_created
    if (created.tzinfo is None) != (now.tzinfo is None):
        created = created.replace(tzinfo=now.tzinfo)
    return now - created < NEW_ACCOUNT


def assess(ctx: MessageContext, declared_minor: bool = False, minor_cue: bool = False) -> Context:
    """Context multiplier and reasons for the sender of this message."""
    out = _pair(ctx.sender, ctx.recipients, declared_minor, minor_cue)
    if out.factor < 0.5:
        return out
    if _new_account(ctx.sender, ctx.sent_at):
        out.bonus += 0.05
        out.reasons.append("the sender's account is less than 30 days old")
    prof = ctx.profile
    if prof.distinct_minor_contacts >= 3:
        out.bonus += min(0.15, 0.03 * prof.distinct_minor_contacts)
        out.reasons.append(f"the sender contacts {prof.distinct_minor_contacts} different minors")
    if prof.off_platform_requests >= 2:
        out.bonus += 0.05
        out.reasons.append(f"{prof.off_platform_requests} earlier off-platform requests")
    others = [c for c in ctx.profile_state.get("offplat_convs", []) if c != ctx.conversation_id]
    if len(others) >= 2:
        out.bonus += 0.05
        out.reasons.append(
            f"asked people in {len(others)} other conversations to move off-platform"
        )
    risky = [c for c in ctx.profile_state.get("risky_convs", []) if c != ctx.conversation_id]
    if len(risky) >= 2:
        out.bonus += min(0.1, 0.03 * len(risky))
        out.reasons.append(f"warning signs in {len(risky)} other conversations")
    if prof.prior_flags:
        out.bonus += 0.05
        out.reasons.append(f"{prof.prior_flags} earlier flags on this sender")
    return out
