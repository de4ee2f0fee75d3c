import pytest

from vigie.detect.text.indicators import IndicatorMatcher

MATCHER = IndicatorMatcher()


def cats(text: str) -> set[str]:
    return {h.category for h in MATCHER.match(text)}


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("t as quel age ?", "age_probing"),
        ("how old r u", "age_probing"),
        ("tu vas dans quel college ?", "personal_info"),
        ("where do u live", "personal_info"),
        ("tes parents sont là ?", "supervision_probing"),
        ("are ur parents home rn", "supervision_probing"),
        ("dis rien à tes parents", "secrecy"),
        ("faut pas le dire à ta mère hein", "secrecy"),
        ("its ok no one will know", "secrecy"),
        ("personne saura rien", "secrecy"),
        ("donne moi ton numéro et je t'explique sur whatsapp", "platform_migration"),
        ("i'll explain on telegram", "platform_migration"),
        ("envoie 100 euros sur paypal sinon je les publie", "sextortion_threat"),
        ("send me a video of you dancing", "image_request"),
        ("i'll give you 1000 robux", "gift_offer"),
        ("viens me rejoindre au centre commercial", "meeting_request"),
        ("moi je te juge pas comme eux", "isolation"),
        ("si ta mère voit nos messages elle va mal comprendre", "secrecy"),
        ("id rather we talk on snap", "platform_migration"),
        ("on parlera par sms", "platform_migration"),
        ("keep this between us ok", "secrecy"),
        ("y'a que moi qui te comprends", "isolation"),
        ("your friends are so immature", "isolation"),
        ("t'es trop mature pour ton âge", "flattery"),
        ("you're so pretty", "flattery"),
        ("je peux t'acheter des v-bucks", "gift_offer"),
        ("i can get u free robux", "gift_offer"),
        ("ajoute moi sur s n a p", "platform_migration"),
        ("add me on t3l3gram", "platform_migration"),
        ("envoie moi une ph0to de toi", "image_request"),
        ("send me a pic", "image_request"),
        ("allume ta cam", "camera_request"),
        ("can we video call tonight", "camera_request"),
        ("on pourrait se voir en vrai", "meeting_request"),
        ("i can pick you up", "meeting_request"),
        ("je vais envoyer tes photos à tous tes amis", "sextortion_threat"),
        ("i will send ur pics to all your followers", "sextortion_threat"),
        ("envoie moi 200€ sinon", "payment_demand"),
        ("pay me 100 dollars", "payment_demand"),
        ("why are you ignoring me", "pressure"),
        ("si tu m'aimais tu le ferais", "pressure"),
    ],
)
def test_categories_fr_en(text: str, category: str) -> None:
    assert category in cats(text)


@pytest.mark.parametrize(
    "text",
    [
        "envoie moi une photo de tes devoirs",
        "send me a pic of the dog",
        "je viens te chercher après l'entrainement",
        "ne dis rien à papa, c'est une surprise pour son anniv",
        "gg bien joué",
        "on joue à fortnite ce soir ?",
    ],
)
def test_benign_readings_do_not_match(text: str) -> None:
    assert cats(text) == set()


def test_span_is_in_original_text() -> None:
    text = "Salut !! ajoute moi sur sn@p stp"
    [hit] = MATCHER.match(text)
    assert text[hit.span[0] : hit.span[1]] == hit.evidence
    assert "sn@p" in hit.evidence


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("do u have a bf?", "personal_info"),
        ("t'as un copain ?", "personal_info"),
        ("age is just a number", "flattery"),
        ("tu me manques", "flattery"),
        ("tu sais garder un secret ?", "secrecy"),
        ("what are you wearing", "image_request"),
        ("where can we meet", "meeting_request"),
        ("mp moi", "platform_migration"),
        ("je vais tout dire à tes parents", "sextortion_threat"),
    ],
)
def test_more_warning_signs(text: str, category: str) -> None:
    assert category in cats(text)
