"""The features the text model reads: claimed ages, who writes to whom, the capped text."""

from __future__ import annotations

import json

import pytest

from vigie.detect.base import MessageContext
from vigie.detect.text import features as ft
from vigie.domain import Participant, PriorMessage


@pytest.mark.parametrize(
    ("text", "age"),
    [("j'ai 12 ans", 12), ("jai 13 ans et toi", 13), ("im 16", 16), ("I'm 15 years old", 15),
     ("tengo 14 años", 14), ("ich bin 13", 13), ("ho 12 anni", 12), ("tenho 11 anos", 11),
     ("il est 17 h", None), ("bien joué", None), ("j'ai 3 skins", None)],
)  # fmt: skip
def test_claimed_age(text: str, age: int | None) -> None:
    assert ft.claimed_age(text) == age


def test_relation_from_known_ages() -> None:
    adult, child, teen = Participant("a", 34), Participant("b", 12), Participant("c", 14)
    unknown = Participant("d")
    assert ft.relation(adult, [child]) == "adult_to_minor"
    assert ft.relation(teen, [child]) == "peers"
    assert ft.relation(Participant("e", 17), [child]) == "older_minor"
    assert ft.relation(child, [adult]) == "minor_to_adult"
    assert ft.relation(unknown, [child]) == "unknown_to_minor"
    assert ft.relation(adult, [Participant("f", 40)]) == "adults"
    assert ft.relation(adult, [child, teen]) == "group"


def test_long_messages_are_scored_on_a_capped_text() -> None:
    text = "a" * (ft.MAX_SCORED_CHARS * 3)
    assert len(ft.scored_text(text)) == ft.MAX_SCORED_CHARS


def test_ages_claimed_in_the_chat_are_remembered_once_each() -> None:
    history = [PriorMessage("b", "moi j'ai 12 ans"), PriorMessage("a", "moi 16")]
    ctx = MessageContext("c", "cool", Participant("a"), [Participant("b")], None, 2, history)
    ft.note_history(ctx.state, ctx)
    assert ctx.state["other_age"] == 12 and ctx.state["self_age"] == 16
    vec = ft.context_vector(ctx, ctx.state)
    assert vec.shape == (ft.CONTEXT_SIZE,)
    ft.fold(ctx.state, {"secrecy": 0.9}, 0.9, None)
    assert ft.state_vector(ctx.state).shape == (ft.STATE_SIZE,)
    json.dumps(dict(ctx.state))  # the caller persists it as JSON
