"""GET /help: public, French by default, English on request, helplines per country."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from vigie.api import help as help_page


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()
    app.include_router(help_page.router)
    return TestClient(app)


def test_french_by_default_with_3018_and_119(client: TestClient) -> None:
    r = client.get("/help")
    assert r.status_code == 200 and r.headers["content-language"] == "fr"
    assert '<html lang="fr">' in r.text
    assert 'href="tel:3018"' in r.text and 'href="tel:119"' in r.text
    assert "internet-signalement.gouv.fr" in r.text and "pointdecontact.net" in r.text


def test_english_by_query_or_header(client: TestClient) -> None:
    assert '<html lang="en">' in client.get("/help?lang=en").text
    r = client.get("/help", headers={"Accept-Language": "de;q=1, en-US;q=0.8, fr;q=0.5"})
    assert r.headers["content-language"] == "en"
    assert "takeitdown.ncmec.org" in r.text, "region of the accepted language picks the country"


def test_country_parameter(client: TestClient) -> None:
    text = client.get("/help?lang=en&country=GB").text
    assert "0800 1111" in text and "ceop.police.uk" in text and "3018" not in text


def test_no_script_and_escaped(client: TestClient) -> None:
    text = client.get("/help?lang=<script>").text
    assert "<script" not in text
