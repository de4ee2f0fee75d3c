"""Safety messages: short, in French and English, with the right help per country."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigie.actions.safety import TOPICS, load_catalogue, safety_message

ACCUSING = ("predator", "prédateur", "pédo", "criminal", "criminel", "your fault!", "ta faute !")


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("topic", TOPICS)
def test_every_topic_has_a_short_non_accusing_message(topic: str, lang: str) -> None:
    msg = safety_message([topic], lang)
    assert msg["lang"] == lang and msg["topics"] == [topic]
    assert 40 < len(msg["text"]) < 400
    assert not any(word in msg["text"].lower() for word in ACCUSING)
    assert msg["help"], "every message offers help"


def test_france_offers_3018_and_119_and_reporting_for_threats() -> None:
    msg = safety_message(["threat"], "fr", "FR")
    names = [h["name"] for h in msg["help"]]
    assert names[0] == "3018" and any(n.startswith("119") for n in names)
    assert "PHAROS" in names and "Point de Contact" in names
    assert "ne paie pas" in msg["text"]


def test_uk_and_us_helplines() -> None:
    uk = safety_message(["image_request"], "en", "UK")
    assert uk["country"] == "GB" and uk["help"][0]["phone"] == "0800 1111"
    assert any(h["name"] == "CEOP" for h in uk["help"])
    us = [h["name"] for h in safety_message(["threat"], "en", "US")["help"]]
    assert "NCMEC CyberTipline" in us and "Take It Down" in us


def test_unknown_country_and_language_fall_back() -> None:
    msg = safety_message(["secrecy"], "de-DE", "ZZ")
    assert msg["lang"] == "en" and msg["country"] == "INT"
    assert msg["help"][0]["name"] == "Child Helpline International"


def test_at_most_two_topics_most_urgent_first() -> None:
    msg = safety_message(["secrecy", "off_platform", "threat"], "en")
    assert msg["topics"] == ["threat", "off_platform"]
    assert safety_message([], "fr")["topics"] == ["general"]


def test_deployment_can_add_a_country(tmp_path: Path) -> None:
    extra = tmp_path / "be.toml"
    extra.write_text(
        '[[countries.BE.help]]\nname = "Child Focus"\nphone = "116 000"\n'
        'url = "https://childfocus.be"\nkind = "talk"\ntopics = ["*"]\n'
        'fr = "Aide gratuite."\nen = "Free help."\n'
    )
    msg = safety_message(["meeting"], "fr", "BE", catalogue=load_catalogue(str(extra)))
    assert msg["country"] == "BE" and msg["help"][0]["phone"] == "116 000"
