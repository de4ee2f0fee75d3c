"""Light work first, without reordering anything one conversation or one person sees."""

from __future__ import annotations

from vigie.events import AccountEvent, MessageEvent, UserReportEvent
from vigie.scheduling import in_order, light_first, touches


def _msg(conv: str, sender: str, *to: str) -> MessageEvent:
    return MessageEvent(
        type="message", id=f"{conv}-{sender}", conversation=conv, sender=sender,
        recipients=list(to), text="hi",
    )  # fmt: skip


def _keys(*batches: list) -> list[set]:
    return [touches("p", b) for b in batches]


def test_a_batch_touches_its_conversation_and_everyone_in_it() -> None:
    report = UserReportEvent(type="user_report", id="r", reporter="kid", subject="x")
    account = AccountEvent(type="account", id="a", account="new", age=12)
    assert touches("p", [_msg("c", "a", "b"), report, account]) == {
        ("p", "conversation", "c"),
        *(("p", "account", who) for who in ("a", "b", "kid", "x", "new")),
    }
    assert touches("p", [_msg("c", "a")]).isdisjoint(touches("q", [_msg("c", "a")]))


def test_light_batches_pass_a_heavy_one_that_touches_nothing_of_theirs() -> None:
    keys = _keys([_msg("c1", "adult", "kid")], [_msg("c2", "x", "y")], [_msg("c3", "z", "w")])
    assert light_first(keys, [True, False, False], [1, 1, 1], cap=16) == [1, 2]


def test_a_batch_sharing_a_conversation_or_a_person_with_a_held_one_waits_behind_it() -> None:
    keys = _keys(
        [_msg("c1", "adult", "kid")],  # heavy: held
        [_msg("c1", "kid", "adult")],  # same conversation
        [_msg("c9", "adult", "other")],  # same sender elsewhere (one profile)
        [_msg("c8", "other", "friend")],  # shares a person with the one held just above
        [_msg("c2", "x", "y")],  # unrelated: goes
    )
    assert light_first(keys, [True, False, False, False, False], [1] * 5, cap=16) == [4]


def test_when_nothing_light_can_go_everything_goes_in_arrival_order() -> None:
    keys = _keys([_msg("c1", "a", "b")], [_msg("c1", "b", "a")], [_msg("c2", "x", "y")])
    assert light_first(keys, [True, False, True], [1, 1, 1], cap=16) == [0, 1, 2]
    assert light_first(keys, [True, False, True], [1, 1, 1], cap=2) == [0, 1]


def test_a_group_keeps_to_its_cap_but_always_takes_one() -> None:
    keys = _keys(*([_msg(f"c{i}", f"s{i}")] for i in range(4)))
    assert light_first(keys, [False] * 4, [3, 3, 3, 3], cap=7) == [0, 1]
    assert light_first(keys, [True, False, False, False], [1, 20, 1, 1], cap=16) == [1]
    assert in_order([20, 1], cap=16) == [0]
    assert in_order([2, 3, 4], cap=5) == [0, 1]
