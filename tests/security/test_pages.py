"""Public pages, cookies and secrets (issue 21, finding 7): the default secret is refused in
production, cookies are Secure by configuration, HSTS when configured, the API docs load
nothing from another origin, and the public pages carry security headers."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from vigie.settings import DEFAULT_SECRET_KEY, load_settings

MakeClient = Callable[..., TestClient]


def test_the_default_secret_key_is_refused_in_production() -> None:
    with pytest.raises(ValueError, match="VIGIE_SECRET_KEY"):
        load_settings({"VIGIE_ENV": "production"})
    chosen = load_settings({"VIGIE_ENV": "production", "VIGIE_SECRET_KEY": "x" * 40})
    assert chosen.secret_key != DEFAULT_SECRET_KEY
    assert load_settings({}).secret_key == DEFAULT_SECRET_KEY  # development: a warning only


def test_the_default_secret_key_is_warned_of(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    make_client()
    assert any("secret_key is the default" in r.getMessage() for r in caplog.records)


def _login_cookie(client: TestClient) -> str:
    return client.get("/console/login").headers["set-cookie"]


def test_cookies_are_secure_when_configured_behind_a_tls_proxy(make_client: MakeClient) -> None:
    plain = make_client()
    assert "secure" not in _login_cookie(plain).lower()
    proxied = make_client()
    proxied.app.state.settings = proxied.app.state.settings.model_copy(  # type: ignore[attr-defined]
        update={"cookie_secure": True}
    )
    assert "; secure" in _login_cookie(proxied).lower()


def test_hsts_only_when_configured(make_client: MakeClient) -> None:
    plain = make_client()
    assert "strict-transport-security" not in plain.get("/help").headers
    from vigie.api.app import create_app

    settings = plain.app.state.settings.model_copy(update={"hsts_max_age_s": 31536000})  # type: ignore[attr-defined]
    app = create_app(settings)
    try:
        hsts = TestClient(app)
        for path in ("/help", "/console/login", "/healthz"):
            assert hsts.get(path).headers["strict-transport-security"] == (
                "max-age=31536000; includeSubDomains"
            )
    finally:
        app.state.store.dispose()


@pytest.mark.parametrize(
    "path", ["/help", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"]
)
def test_public_pages_carry_security_headers(make_client: MakeClient, path: str) -> None:
    answer = make_client().get(path)
    assert answer.status_code == 200
    headers = answer.headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    csp = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "unsafe-eval" not in csp
    assert "'unsafe-inline'" not in csp.split("script-src", 1)[-1].split(";")[0]


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_api_docs_load_nothing_from_another_origin(make_client: MakeClient, path: str) -> None:
    client = make_client()
    html = client.get(path).text
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/docs/static/") for s in sources), sources
    for source in sources:
        served = client.get(source)
        assert served.status_code == 200 and len(served.content) > 1000
    inline = re.findall(r"<script>(.*?)</script>", html, re.DOTALL)
    csp = client.get(path).headers["content-security-policy"]
    assert csp.count("'sha256-") == len(inline)  # each inline script allowed by its hash
