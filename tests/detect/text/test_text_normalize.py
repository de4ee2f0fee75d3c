import pytest

from vigie.detect.text.normalize import normalize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Ajoute-moi sur SN@P", "ajoute-moi sur snap"),
        ("s n a p", "snap"),
        ("S.N.A.P", "snap"),
        ("t3l3gram", "telegram"),
        ("wh4ts4pp", "whatsapp"),
        ("sn\u200bap", "snap"),
        ("tele\u202egram", "telegram"),  # a bidirectional control inside the word
        ("wh\u2066ats\u2069app", "whatsapp"),
        ("Ѕnapchat", "snapchat"),  # Cyrillic S
        ("sn🔥ap", "snap"),
        ("pleeeease", "please"),
        ("tes parents sont là ?", "tes parents sont la ?"),
        ("j'ai treize ans", "j'ai 13 ans"),
        ("I am thirteen", "i am 13"),
        ("13ans", "13ans"),
        ("ph0to", "photo"),
        ("t’as quel âge", "t'as quel age"),
    ],
)
def test_normalize_undoes_evasions(raw: str, expected: str) -> None:
    assert normalize(raw).text == expected


def test_spans_point_at_the_original_text() -> None:
    raw = "ok ajoute moi sur s n a p"
    norm = normalize(raw)
    start = norm.text.index("snap")
    a, b = norm.span(start, start + 4)
    assert raw[a:b] == "s n a p"
