from vigie.conversations import ChatLine, ConversationRecord
from vigie.detect.scoring import score_conversation
from vigie.detect.text import build_detector
from vigie.domain import Participant
from vigie.settings import DetectionSettings

DET = build_detector(DetectionSettings(semantic=False))


def conv(
    sender_age: int | None, child_age: int | None, lines: list[tuple[str, str]]
) -> ConversationRecord:
    parts = {"a": Participant("a", sender_age), "b": Participant("b", child_age)}
    return ConversationRecord("c", "fr", None, parts, [ChatLine(s, t) for s, t in lines])


GROOMING = [
    ("a", "salut tu joues à quoi ?"), ("b", "fortnite"), ("a", "t'as quel âge ?"), ("b", "13"),
    ("a", "t'es trop mature pour ton âge"), ("a", "ajoute moi sur snap"),
    ("a", "et dis rien à tes parents"),
]  # fmt: skip


def test_build_detector_is_cached() -> None:
    assert build_detector(DetectionSettings(semantic=False)) is DET


def test_adult_to_minor_progression_is_flagged_with_explanations() -> None:
    res = score_conversation(conv(34, 13, GROOMING), [DET], 0.5)
    assert res.flagged and res.subject == "a"
    assert res.first_flag_index is not None and res.first_flag_index >= 5
    assert {"secrecy", "platform_migration"} <= set(res.categories)
    flat = [s for sigs in res.signals for s in sigs]
    assert all(s.model and s.span and s.explanation for s in flat)
    assert "adult (34)" in res.summary


def test_same_words_between_peers_are_weighed_down() -> None:
    adult = score_conversation(conv(34, 13, GROOMING), [DET], 0.5)
    peers = score_conversation(conv(13, 13, GROOMING), [DET], 0.5)
    assert peers.risk < adult.risk and not peers.flagged


def test_sextortion_flags_at_once() -> None:
    lines = [("a", "j'ai tes photos"), ("a", "envoie 200€ sinon je les envoie à tous tes amis")]
    res = score_conversation(conv(None, 15, lines), [DET], 0.5)
    assert res.flagged and res.first_flag_index == 1
    assert "sextortion_threat" in res.categories


def test_parent_logistics_are_not_flagged() -> None:
    lines = [("a", "tu as fini tes devoirs ?"), ("b", "oui"),
             ("a", "envoie moi une photo de ton exercice"),
             ("a", "je viens te chercher après l'entrainement"),
             ("a", "dis rien à papa, c'est une surprise pour son anniv")]  # fmt: skip
    res = score_conversation(conv(41, 12, lines), [DET], 0.5)
    assert not res.flagged


def test_state_is_json_serialisable() -> None:
    import json

    from vigie.detect.base import MessageContext

    ctx = MessageContext("c", "ajoute moi sur snap", Participant("a", 30), [Participant("b", 12)],
                         None, 0)  # fmt: skip
    DET.detect(ctx)
    json.dumps(dict(ctx.state))
    json.dumps(dict(ctx.profile_state))


def test_scan_output_fields() -> None:
    res = score_conversation(conv(34, 13, GROOMING), [DET], 0.5)
    assert set(res.to_dict()) == {
        "id",
        "flagged",
        "first_flag_index",
        "risk",
        "categories",
        "subject",
    }


def test_behaviour_across_conversations_adds_context() -> None:
    from vigie.detect.base import MessageContext

    profile: dict = {}
    texts = ["ajoute moi sur snap", "dis rien à tes parents"]
    for conv_id in ("c1", "c2", "c3"):
        state: dict = {}
        for i, text in enumerate(texts):
            ctx = MessageContext(conv_id, text, Participant("a", 30), [Participant("b", 12)],
                                 None, i, state=state, profile_state=profile)  # fmt: skip
            out = DET.detect(ctx)
    assert profile["offplat_convs"] == ["c1", "c2", "c3"]
    assert "2 other conversations" in out.summary


BENIGN_UNKNOWN_AGES = [
    "do you want pizza or sushi? let me know", "everyone will see the new map tomorrow",
    "I will post the results online tonight", "send me the money for the pizza",
    "keep it between us, it's a surprise party", "sinon on peut se voir demain",
    "tout le monde va voir le film ce soir", "je poste les photos du match sur insta",
    "or i will tell you later", "pay me back when you can", "t'es où ? je t'attends devant le ciné",
    "send me a pic of the receipt", "are your parents coming to the game?",
    "gg, add me as a friend",
]  # fmt: skip


def test_ordinary_chat_with_unknown_ages_is_not_flagged() -> None:
    parts = {"a": Participant("a"), "b": Participant("b")}
    lines = [ChatLine("a" if i % 2 == 0 else "b", t) for i, t in enumerate(BENIGN_UNKNOWN_AGES)]
    res = score_conversation(ConversationRecord("c", "en", None, parts, lines), [DET], 0.5)
    assert not res.flagged, res.summary


def test_unknown_ages_need_a_sign_of_a_child_before_counting_fully() -> None:
    dating = [("a", "t'as whatsapp ?"), ("a", "garde ça entre nous"), ("a", "t'es seule ce soir ?"),
              ("a", "on se voit ce soir ?")]  # fmt: skip
    child = [("a", "tes parents sont là ?"), *dating]
    assert not score_conversation(conv(None, None, dating), [DET], 0.5).flagged
    res = score_conversation(conv(None, None, child), [DET], 0.5)
    assert res.flagged and "may be a minor" in res.summary
