"""One path for every event: detectors, then per-conversation state, then policy, then storage.

The API, the bus worker and the batch tools all call :class:`Pipeline`; a batch of events is
processed in one transaction, so an error leaves nothing half-written.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from vigie.actions.safety import safety_message
from vigie.detect.base import (
    DetectorOutput,
    MediaDetector,
    MessageContext,
    SubjectProfile,
    TextDetector,
)
from vigie.detect.history import LazyHistory
from vigie.domain import (
    Account,
    Case,
    Decision,
    DecisionKind,
    MediaRef,
    Message,
    Participant,
    Platform,
    Signal,
)
from vigie.events import AccountEvent, Event, MediaEvent, MessageEvent, UserReportEvent
from vigie.policy.base import Action, PolicyInput, PolicyOutcome
from vigie.policy.engine import Policy
from vigie.pseudonym import pseudonymise, seal
from vigie.scheduling import light_first, touches
from vigie.store.base import Store, Unit

HISTORY = 20  # prior messages given to detectors as context
MAX_TRACKED_CONTACTS = 500


class OverBudget(Exception):
    """A request's events took more CPU than its budget (``api.cpu_budget_s``).

    Nothing of the request is kept (its transaction rolls back) and the API answers 422: one
    platform's costly batch cannot hold the pipeline, which every platform shares, for longer
    than the budget plus one event (an event's cost is bounded by ``api.max_text_chars``).
    """

    @classmethod
    def after(cls, budget_s: float, done: int, total: int) -> OverBudget:
        return cls(
            f"over the CPU budget of {budget_s:g} s per request after {done} of {total} events; "
            "send fewer or shorter messages per request"
        )


@dataclass(slots=True)
class Turn:
    """A group's turn on a pipeline that several platforms share (the decider process).

    ``stop(events)``, asked before each event of the batch ``events``, says that the group
    has held the pipeline long enough while another platform waits: that batch is cut there
    (its answers so far are committed with the group and returned as a prefix of its
    events), and so are the batches after it (an empty prefix). The group's first event
    always runs, so every turn makes progress.

    A cut request is decided over several turns, and its CPU budget spans them: ``spent_s``
    keeps each batch's CPU so far, keyed by the identity of the events sequence the caller
    passes (the caller carries it from one turn to the next).
    """

    stop: Callable[[Sequence[Event]], bool]
    spent_s: dict[int, float] = field(default_factory=dict)
    started: bool = False  # an event of this group has been decided


@dataclass(slots=True)
class Outcome:
    """What one event led to, before it is turned into the API's answer."""

    decision: DecisionKind
    signals: list[Signal]
    case_id: str | None
    policy: PolicyOutcome
    subject_ref: str | None


IMAGE_REQUESTS = frozenset({"image_request", "camera_request"})
MEDIA_AFTER_REQUEST = (
    "a child sent media to an adult whose open case holds a request for photos or a camera"
)


def _media_after_request(adult: str) -> Signal:
    """The context signal a policy rule holds such media on (see docs/policy.md)."""
    return Signal(
        "context.media_after_request",
        "image_request",
        1.0,
        MEDIA_AFTER_REQUEST,
        details={"adult": adult},
    )


def _now() -> datetime:
    return datetime.now(UTC)


def _at(value: datetime | None) -> datetime:
    """An event's time in UTC (no offset means UTC). SQLite keeps datetimes without their
    offset, so a time left at +02:00 would read back two hours off."""
    if value is None:
        return _now()
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


class Pipeline:
    """Event → detectors → state → policy → stored decision (and case when risk is high)."""

    def __init__(
        self,
        store: Store,
        text_detectors: Sequence[TextDetector],
        policy: Policy,
        media_detector: MediaDetector | None = None,
        country: str = "FR",
    ) -> None:
        self.store = store
        self.text_detectors = list(text_detectors)
        self.media_detector = media_detector
        self.country = country  # whose helplines children are shown
        self.policy = policy
        self.cpu_budget_s = 0.0  # per request (``OverBudget``); 0: none

    # Entry points --------------------------------------------------------------------------
    def process_batch(
        self,
        platform: Platform,
        events: Sequence[Event],
        uploaded: dict[str, dict[str, str]] | None = None,
    ) -> list[dict[str, Any]]:
        """Process events in order, in one transaction; repeated ids return the first answer."""
        with self.store.unit() as unit:
            unit.look_up_processed(platform.id, [ev.id for ev in events])
            self._prefetch(unit, [(platform, events)])
            return self._within_budget(unit, platform, events, uploaded or {})

    def process_many(
        self, batches: Sequence[tuple[Platform, Sequence[Event]]], turn: Turn | None = None
    ) -> list[list[dict[str, Any]]]:
        """Several requests' batches in one transaction and one commit (group commit).

        All or nothing: the caller runs them again one by one if this raises, so one bad batch
        never takes the others' answers with it. With a ``turn``, a batch's answers may be a
        prefix of its events (:class:`Turn`).
        """
        with self.store.unit() as unit:
            self._prefetch(unit, batches)
            return [
                self._within_budget(unit, platform, events, turn=turn)
                for platform, events in batches
            ]

    def process_light_first(
        self,
        batches: Sequence[tuple[Platform, Sequence[Event]]],
        cap: int,
        turn: Turn | None = None,
    ) -> list[list[dict[str, Any]] | None]:
        """Like :meth:`process_many`, but batches the sentence encoder would make heavy wait
        (``None``) while light ones that touch none of their conversations or accounts go
        first, at most ``cap`` events (:mod:`vigie.scheduling`). When nothing light can
        go, the batches go in arrival order. The caller offers the held ones again."""
        if len(batches) < 2:
            return list(self.process_many(batches, turn))
        with self.store.unit() as unit:
            chosen = self._choose_light(unit, batches, cap)
            answers: list[list[dict[str, Any]] | None] = [None] * len(batches)
            for at in chosen:
                platform, events = batches[at]
                answers[at] = self._within_budget(unit, platform, events, turn=turn)
            return answers

    def _choose_light(
        self, unit: Unit, batches: Sequence[tuple[Platform, Sequence[Event]]], cap: int
    ) -> list[int]:
        """The batches :meth:`process_light_first` decides now; their messages prefetched."""
        items = self._message_items(unit, batches)
        heavy = [False] * len(batches)
        for hook in self._hooks("costly"):
            for (at, _), costly in zip(items, hook([m for _, m in items]), strict=True):
                heavy[at] = heavy[at] or costly
        chosen = light_first(
            [touches(p.id, events) for p, events in batches],
            heavy,
            [len(events) for _, events in batches],
            cap,
        )
        going = set(chosen)
        warm = [m for at, m in items if at in going]
        for hook in self._hooks("prefetch") if len(warm) > 1 else ():
            hook(warm)
        return chosen

    def _within_budget(
        self,
        unit: Unit,
        platform: Platform,
        events: Sequence[Event],
        uploaded: dict[str, dict[str, str]] | None = None,
        turn: Turn | None = None,
    ) -> list[dict[str, Any]]:
        """One request's events in order; ``OverBudget`` once they have used more CPU than
        the budget (checked between events, so the first always runs). CPU time of this
        thread, not wall time: a busy machine does not push a request over. With a ``turn``,
        the answers stop early when it says so (a prefix; :class:`Turn`)."""
        spent = turn.spent_s.get(id(events), 0.0) if turn else 0.0
        started = time.thread_time() - spent
        answers: list[dict[str, Any]] = []
        try:
            for ev in events:
                if turn is not None and turn.started and turn.stop(events):
                    break
                if (answers or spent) and self._over(started):
                    raise OverBudget.after(self.cpu_budget_s, len(answers), len(events))
                answers.append(self._process_once(unit, platform, ev, (uploaded or {}).get(ev.id)))
                if turn is not None:
                    turn.started = True
        finally:
            if turn is not None:
                turn.spent_s[id(events)] = time.thread_time() - started
        return answers

    def _over(self, started: float) -> bool:
        return bool(self.cpu_budget_s) and time.thread_time() - started > self.cpu_budget_s

    def _prefetch(self, unit: Unit, batches: Sequence[tuple[Platform, Sequence[Event]]]) -> None:
        """Let detectors prepare a group's messages together (the semantic stage embeds them
        in one batch: 1.1 ms a text in sixteens, against 3.4 ms one by one). A group is large
        when the server is busy, so this is what keeps it from falling behind.

        Only a warm-up: a message it misjudges is still handled exactly, one by one.
        """
        hooks = self._hooks("prefetch")
        if not hooks or sum(isinstance(e, MessageEvent) for _, ev in batches for e in ev) < 2:
            return
        items = [m for _, m in self._message_items(unit, batches)]
        for hook in hooks:
            hook(items)

    def _hooks(self, name: str) -> list[Any]:
        return [h for h in (getattr(d, name, None) for d in self.text_detectors) if h]

    def _message_items(
        self, unit: Unit, batches: Sequence[tuple[Platform, Sequence[Event]]]
    ) -> list[tuple[int, tuple[str, Participant, list[Participant]]]]:
        """Each message of a known sender, as the detectors' batch hooks take it (text,
        sender, recipients), with the index of its batch."""
        items = []
        for at, (platform, events) in enumerate(batches):
            secret = platform.pseudonym_secret
            for ev in events:
                if not isinstance(ev, MessageEvent):
                    continue
                ids = [pseudonymise(secret, "account", e) for e in (ev.sender, *ev.recipients)]
                found = unit.get_accounts(platform.id, ids)
                if ids[0] in found:
                    people = [found[i].as_participant() for i in ids if i in found]
                    items.append((at, (ev.text, people[0], people[1:])))
        return items

    def _process_once(
        self, unit: Unit, platform: Platform, event: Event, media: dict[str, str] | None
    ) -> dict[str, Any]:
        earlier = unit.processed_result(platform.id, event.id)
        if earlier is not None:
            return earlier
        outcome = self._dispatch(unit, platform, event, media)
        result = self._answer(event.id, outcome, getattr(event, "lang", None), self.country)
        self._notify(unit, platform, event.id, outcome, result.get("safety_message"))
        unit.save_processed(platform.id, event.id, result)
        return result

    def _dispatch(
        self, unit: Unit, platform: Platform, event: Event, media: dict[str, str] | None
    ) -> Outcome:
        if isinstance(event, AccountEvent):
            return self._account_event(unit, platform, event)
        if isinstance(event, MessageEvent):
            return self._message_event(unit, platform, event)
        if isinstance(event, MediaEvent):
            return self._media_event(unit, platform, event, media)
        return self._report_event(unit, platform, event)

    def _notify(
        self,
        unit: Unit,
        platform: Platform,
        event_id: str,
        outcome: Outcome,
        message: dict[str, Any] | None,
    ) -> None:
        """Every action goes to the platform's webhook, from the outbox of this transaction,
        with its reason (the rules that asked for it and why), so a block is never a mystery."""
        actions = [a.value for a in outcome.policy.actions]
        if not actions:
            return
        extra: dict[str, dict[str, Any]] = {
            a: {"reason": self._reason(outcome.policy.because.get(a, outcome.policy.rules))}
            for a in actions
        }
        if message and "warn_child" in extra:
            extra["warn_child"]["safety_message"] = message
        unit.enqueue_webhooks(
            platform, event_id, outcome.subject_ref, outcome.case_id, actions, extra
        )

    def _reason(self, rules: list[str]) -> dict[str, Any]:
        """``{"rules": [...], "text": "..."}``: the policy's own words for these rules."""
        whys = {r.name: r.why for r in self.policy.document.rules}
        return {"rules": list(rules), "text": " ".join(whys[r] for r in rules if r in whys)}

    @staticmethod
    def _answer(event_id: str, outcome: Outcome, lang: str | None, country: str) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "id": event_id,
            "decision": outcome.decision.value,
            "signals": [s.public() for s in outcome.signals],
            "case": outcome.case_id,
            "actions": [a.value for a in outcome.policy.actions],
        }
        if outcome.policy.safety_topics:
            answer["safety_topics"] = list(outcome.policy.safety_topics)
            answer["safety_message"] = safety_message(
                list(outcome.policy.safety_topics), lang or "fr", country
            )
        return answer

    # Accounts ------------------------------------------------------------------------------
    def _accounts(
        self, unit: Unit, platform: Platform, external_ids: list[str], seen_at: datetime
    ) -> list[Account]:
        """The accounts behind these platform ids (created unknown-aged when first seen)."""
        secret = platform.pseudonym_secret
        pseudos = [pseudonymise(secret, "account", e) for e in external_ids]
        refs = {p: seal(secret, e) for p, e in zip(pseudos, external_ids, strict=True)}
        found = unit.ensure_accounts(platform.id, refs, seen_at)
        return [found[p] for p in pseudos]

    def _account_event(self, unit: Unit, platform: Platform, ev: AccountEvent) -> Outcome:
        (account,) = self._accounts(unit, platform, [ev.account], _now())
        account.age, account.age_source = ev.age, ev.age_source
        account.created_at = _at(ev.created_at) if ev.created_at else account.created_at
        unit.save_account(account)
        return Outcome(DecisionKind.ALLOW, [], None, PolicyOutcome(), ev.account)

    # Messages ------------------------------------------------------------------------------
    def _message_event(self, unit: Unit, platform: Platform, ev: MessageEvent) -> Outcome:
        at = _at(ev.sent_at)
        sender, *recipients = self._accounts(unit, platform, [ev.sender, *ev.recipients], at)
        conv = pseudonymise(platform.pseudonym_secret, "conversation", ev.conversation)
        count = unit.touch_conversation(
            platform.id, conv, at, seal(platform.pseudonym_secret, ev.conversation)
        )
        history = LazyHistory(lambda n: unit.history(platform.id, conv, n), min(HISTORY, count - 1))
        if not recipients:
            recipients = self._others_in(unit, platform, history, sender.pseudo_id)
        state, _, known_categories = unit.participant_state(platform.id, conv, sender.pseudo_id)
        profile_state = unit.profile_state(platform.id, sender.pseudo_id)
        profile_before = _fingerprint(profile_state)
        profile = _update_profile(profile_state, sender, recipients, conv)
        ctx = MessageContext(
            conversation_id=conv,
            text=ev.text,
            sender=sender.as_participant(),
            recipients=[r.as_participant() for r in recipients],
            sent_at=at,
            index=count - 1,
            history=history,
            profile=profile,
            lang=ev.lang,
        )
        outputs = self._run_text(ctx, state, profile_state)
        signals = [s for out in outputs for s in out.signals]
        if ev.lang:  # kept with each signal for per-language figures in the console
            for signal in signals:
                signal.details.setdefault("lang", ev.lang)
        risk = max((o.risk for o in outputs if o.risk is not None), default=0.0)
        categories = _merge_categories(known_categories, outputs)
        decision = self.policy.decide(
            PolicyInput(
                event_type="message",
                signals=signals,
                risk=risk,
                categories=categories,
                sender=ctx.sender,
                recipients=ctx.recipients,
                profile=profile,
                at=at,
                sender_restricted=sender.restricted,
                first_message=count == 1,
            )
        )
        case_id = self._case(unit, platform, sender.pseudo_id, conv, decision, risk, categories)
        if case_id:
            profile_state["flags"] = int(profile_state.get("flags", 0)) + 1
        self._restrict_if_asked(unit, sender, decision)
        unit.save_participant_state(platform.id, conv, sender.pseudo_id, state, risk, categories)
        if _fingerprint(profile_state) != profile_before:
            unit.save_profile_state(platform.id, sender.pseudo_id, profile_state)
        message_id = unit.add_message(
            Message(
                platform.id,
                conv,
                sender.pseudo_id,
                ev.text,
                at,
                [r.pseudo_id for r in recipients],
                ev.id,
            ),
            risk,
        )
        unit.add_signals(
            platform.id,
            ev.id,
            signals,
            conversation_id=conv,
            subject=sender.pseudo_id,
            case_id=case_id,
            message_id=message_id,
            at=at,
        )
        self._record(unit, platform, ev.id, decision, case_id, sender.pseudo_id)
        return Outcome(decision.decision, signals, case_id, decision, ev.sender)

    @staticmethod
    def _restrict_if_asked(unit: Unit, account: Account, decision: PolicyOutcome) -> None:
        """``restrict_contact`` holds until a moderator lifts it from the console."""
        if Action.RESTRICT_CONTACT in decision.actions and not account.restricted:
            account.restricted = True
            unit.save_account(account)

    def _run_text(
        self, ctx: MessageContext, state: dict[str, Any], profile_state: dict[str, Any]
    ) -> list[DetectorOutput]:
        """Each detector keeps its own memory under its name, so detectors never collide."""
        outputs = []
        detector_profiles = profile_state.setdefault("detectors", {})
        for detector in self.text_detectors:
            ctx.state = state.setdefault(detector.name, {})
            ctx.profile_state = detector_profiles.setdefault(detector.name, {})
            outputs.append(detector.detect(ctx))
        return outputs

    def _others_in(
        self, unit: Unit, platform: Platform, history: Sequence[Any], sender: str
    ) -> list[Account]:
        """Without explicit recipients, the other people who spoke in the conversation."""
        others = dict.fromkeys(m.sender for m in history if m.sender != sender)
        found = unit.get_accounts(platform.id, list(others))
        return [found[p] for p in others if p in found]

    # Media and reports ---------------------------------------------------------------------
    def _media_event(
        self, unit: Unit, platform: Platform, ev: MediaEvent, uploaded: dict[str, str] | None
    ) -> Outcome:
        at = _at(ev.sent_at)
        sender, *recipients = self._accounts(unit, platform, [ev.sender, *ev.recipients], at)
        conv = (
            pseudonymise(platform.pseudonym_secret, "conversation", ev.conversation)
            if ev.conversation
            else None
        )
        hashes = dict(uploaded) if uploaded else ev.hashes.as_dict()
        ref = MediaRef(
            platform.id,
            conv,
            sender.pseudo_id,
            hashes,
            at,
            [r.pseudo_id for r in recipients],
            ev.id,
        )
        out = self.media_detector.detect_media(ref) if self.media_detector else DetectorOutput()
        asker = self._adult_who_asked_for_images(unit, platform, sender, recipients)
        if asker is not None:
            out = DetectorOutput([*out.signals, _media_after_request(asker.pseudo_id)], out.risk)
        subject = asker or sender  # the case is about the adult who asked, not the child
        labels = [str(s.details.get("label")) for s in out.signals if s.details.get("label")]
        decision = self.policy.decide(
            PolicyInput(
                event_type="media",
                signals=out.signals,
                risk=out.risk or 0.0,
                categories=sorted({s.category for s in out.signals}),
                sender=sender.as_participant(),
                recipients=[r.as_participant() for r in recipients],
                hash_labels=labels,
            )
        )
        case_id = self._case(
            unit,
            platform,
            subject.pseudo_id,
            conv,
            decision,
            out.risk or 0.0,
            sorted({s.category for s in out.signals}),
        )
        media_id = unit.add_media(ref)
        unit.add_signals(
            platform.id,
            ev.id,
            out.signals,
            conversation_id=conv,
            subject=subject.pseudo_id,
            case_id=case_id,
            media_id=media_id,
            at=at,
        )
        self._record(unit, platform, ev.id, decision, case_id, subject.pseudo_id)
        return Outcome(decision.decision, out.signals, case_id, decision, ev.sender)

    @staticmethod
    def _adult_who_asked_for_images(
        unit: Unit, platform: Platform, sender: Account, recipients: list[Account]
    ) -> Account | None:
        """When a child sends media to an adult whose open case already holds a request for
        photos or a camera, that adult: the media is probably what was asked for."""
        if sender.age is None or sender.age >= 18:
            return None
        for recipient in recipients:
            if recipient.age is not None and recipient.age < 18:
                continue
            case = unit.open_case_for(platform.id, recipient.pseudo_id)
            if case is not None and IMAGE_REQUESTS & set(case.categories):
                return recipient
        return None

    def _report_event(self, unit: Unit, platform: Platform, ev: UserReportEvent) -> Outcome:
        at = _at(ev.sent_at)
        subject, reporter = self._accounts(unit, platform, [ev.subject, ev.reporter], at)
        conv = (
            pseudonymise(platform.pseudonym_secret, "conversation", ev.conversation)
            if ev.conversation
            else None
        )
        unit.add_user_report(
            platform.id, ev.id, reporter.pseudo_id, subject.pseudo_id, conv, ev.reason, at
        )
        signal = Signal(
            "user_report",
            "user_report",
            0.5,
            "A user reported this account: " + (ev.reason[:200] or "no reason given"),
        )
        _, risk, categories = (
            unit.participant_state(platform.id, conv, subject.pseudo_id) if conv else ({}, 0.0, [])
        )
        decision = self.policy.decide(
            PolicyInput(
                event_type="user_report",
                signals=[signal],
                risk=risk,
                categories=[*categories, "user_report"],
                sender=subject.as_participant(),
                recipients=[reporter.as_participant()],
            )
        )
        case_id = self._case(
            unit, platform, subject.pseudo_id, conv, decision, risk, [*categories, "user_report"]
        )
        unit.add_signals(
            platform.id,
            ev.id,
            [signal],
            conversation_id=conv,
            subject=subject.pseudo_id,
            case_id=case_id,
            at=at,
        )
        self._record(unit, platform, ev.id, decision, case_id, subject.pseudo_id)
        return Outcome(decision.decision, [signal], case_id, decision, ev.subject)

    # Cases and decisions -------------------------------------------------------------------
    def _case(
        self,
        unit: Unit,
        platform: Platform,
        subject: str,
        conv: str | None,
        decision: PolicyOutcome,
        risk: float,
        categories: list[str],
    ) -> str | None:
        """Open a case for the subject, or fold this event into the one already open."""
        if not decision.opens_case:
            return None
        case = unit.open_case_for(platform.id, subject)
        is_new = case is None
        if case is None:
            case = Case(
                platform.id,
                subject,
                "case_" + secrets.token_hex(8),
                conversation_id=conv,
                opened_at=_now(),
            )
        case.priority = min(case.priority, decision.case_priority or case.priority)
        case.risk = max(case.risk, risk)
        case.categories = sorted(set(case.categories) | set(categories))
        case.requires_report = case.requires_report or decision.require_report
        case.conversation_id = case.conversation_id or conv
        case.updated_at = _now()
        unit.save_case(case)
        if is_new:
            unit.audit(
                "pipeline",
                "case.open",
                case.id,
                {"priority": case.priority, "rules": decision.rules},
                platform.id,
            )
        return case.id

    def _record(
        self,
        unit: Unit,
        platform: Platform,
        event_id: str,
        outcome: PolicyOutcome,
        case_id: str | None,
        subject: str,
    ) -> None:
        unit.record_decision(
            Decision(
                platform.id,
                event_id,
                outcome.decision,
                [a.value for a in outcome.actions],
                case_id,
                at=_now(),
            ),
            subject,
            outcome.rules,
        )


def _update_profile(
    profile_state: dict[str, Any], sender: Account, recipients: list[Account], conversation: str
) -> SubjectProfile:
    """Track whom the sender talks to across conversations (bounded lists of pseudonyms)."""
    minors = list(profile_state.get("minor_contacts", []))
    convs = list(profile_state.get("conversations", []))
    for r in recipients:
        if r.age is not None and r.age < 18 and r.pseudo_id not in minors:
            minors.append(r.pseudo_id)
    if conversation not in convs:
        convs.append(conversation)
    profile_state["minor_contacts"] = minors[-MAX_TRACKED_CONTACTS:]
    profile_state["conversations"] = convs[-MAX_TRACKED_CONTACTS:]
    return SubjectProfile(
        distinct_minor_contacts=len(minors),
        conversations=len(convs),
        prior_flags=int(profile_state.get("flags", 0)),
        off_platform_requests=int(profile_state.get("off_platform_requests", 0)),
    )


def _fingerprint(state: dict[str, Any]) -> bytes:
    """A canonical form of a JSON-like state, to tell whether it changed (and needs writing)."""
    return orjson.dumps(state, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)


def _merge_categories(known: list[str], outputs: list[DetectorOutput]) -> list[str]:
    found = set(known)
    for out in outputs:
        found.update(out.categories)
        found.update(s.category for s in out.signals)
    return sorted(found)
