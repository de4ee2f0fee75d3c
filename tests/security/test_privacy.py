"""Privacy: no message text or secret in logs, pseudonymous ids at rest, evidence encryption."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect, text

from security.helpers import bearer, new_key
from vigie import crypto

MakeClient = Callable[..., TestClient]

# Distinctive, non-explicit risky texts and ids, so any leak is found by a plain search.
RISKY = "zq-marker: n'en parle à personne, c'est notre secret, ajoute moi sur snap"
ACCOUNT = "acct-raw-7f3e9b"
CONVERSATION = "conv-raw-51d2aa"


def _risky_run(client: TestClient, key: str) -> None:
    """Everything that could log: a good batch, a 422 echoing input, a 401, an upload."""
    headers = bearer(key)
    events = [
        {"type": "account", "id": "a1", "account": ACCOUNT, "age": 35, "age_source": "declared"},
        {
            "type": "message",
            "id": "m1",
            "conversation": CONVERSATION,
            "sender": ACCOUNT,
            "recipients": ["child-raw-1"],
            "text": RISKY,
        },
        {
            "type": "user_report",
            "id": "r1",
            "reporter": "child-raw-1",
            "subject": ACCOUNT,
            "reason": RISKY,
        },
    ]
    assert client.post("/v1/events", json={"events": events}, headers=headers).status_code == 200
    bad = {
        "events": [
            {
                "type": "message",
                "id": "m2",
                "conversation": CONVERSATION,
                "sender": ACCOUNT,
                "text": RISKY * 400,
            }
        ]
    }
    assert client.post("/v1/events", json=bad, headers=headers).status_code == 422
    assert client.get("/v1/cases", headers=bearer(key + "x")).status_code == 401
    client.post(
        "/v1/media",
        headers=headers,
        files={"file": ("a.png", RISKY.encode())},
        data={"event": json.dumps({"type": "media", "id": "md1", "sender": ACCOUNT})},
    )


def _formatted(record: logging.LogRecord) -> str:
    """What a log shipper would get: the project's JSON formatter when present, else a
    plain formatter with the traceback and every extra attribute."""
    try:
        from vigie.logging import JsonFormatter

        return JsonFormatter().format(record)
    except ImportError:
        plain = logging.Formatter("%(message)s").format(record)
        return plain + " " + " ".join(f"{k}={v!r}" for k, v in vars(record).items())


def test_texts_and_keys_never_reach_the_logs(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    client = make_client()
    key = new_key(client, "privacy")
    with caplog.at_level(logging.DEBUG):
        _risky_run(client, key)
        logging.getLogger("vigie.canary").warning("canary-4711")  # proves capture works
    out, err = capfd.readouterr()
    everything = "\n".join([*(_formatted(r) for r in caplog.records), out, err])
    assert "canary-4711" in everything
    for secret in (RISKY[:30], "zq-marker", key, key[3:20]):
        assert secret not in everything, f"{secret[:12]}... leaked into the logs"


def test_log_formatter_drops_texts_secrets_and_exception_messages() -> None:
    from importlib.util import find_spec

    if find_spec("vigie.logging") is None:
        pytest.skip("vigie.logging (structured logs) not built yet")
    from vigie.logging import JsonFormatter

    logger = logging.getLogger("vigie.test.privacy")
    try:
        raise ValueError(f"could not score {RISKY}")
    except ValueError:
        record = logger.makeRecord(
            logger.name,
            logging.ERROR,
            __file__,
            1,
            "scoring failed",
            (),
            exc_info=__import__("sys").exc_info(),
            extra={"text": RISKY, "api_key": "vg_secret", "event_id": "m1"},
        )
    line = JsonFormatter().format(record)
    assert "zq-marker" not in line and "vg_secret" not in line
    assert json.loads(line)["event_id"] == "m1"


def test_account_and_conversation_ids_are_pseudonymous_at_rest(make_client: MakeClient) -> None:
    """Scan every column of every table: raw ids and the API key appear nowhere."""
    client = make_client()
    key = new_key(client, "at-rest")
    _risky_run(client, key)
    url = str(client.app.state.settings.database_url)  # type: ignore[attr-defined]
    engine = create_engine(url)
    found: list[str] = []
    with engine.connect() as conn:
        for table in inspect(engine).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                cells = " ".join(str(v) for v in row)
                for raw in (ACCOUNT, CONVERSATION, "child-raw-1", key):
                    if raw in cells:
                        found.append(f"{table}: {raw}")
    engine.dispose()
    assert not found, f"raw identifiers or keys stored in clear: {found}"


# -- evidence encryption ----------------------------------------------------------------------


def test_evidence_round_trip_and_tampering() -> None:
    key = crypto.generate_key()
    blob = crypto.encrypt(key, b"%PDF-1.7 case facts", "case-1/case.pdf")
    assert crypto.is_encrypted(blob) and b"case facts" not in blob
    assert crypto.decrypt(key, blob, "case-1/case.pdf") == b"%PDF-1.7 case facts"
    with pytest.raises(crypto.EvidenceCryptoError, match=r"case-2/case\.pdf"):
        crypto.decrypt(key, blob, "case-2/case.pdf")  # swapped into another case
    with pytest.raises(crypto.EvidenceCryptoError):
        crypto.decrypt(crypto.generate_key(), blob, "case-1/case.pdf")  # wrong key
    flipped = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(crypto.EvidenceCryptoError):
        crypto.decrypt(key, flipped, "case-1/case.pdf")
    with pytest.raises(crypto.EvidenceCryptoError, match="not a Vigie"):
        crypto.decrypt(key, b"plain", "case-1/case.pdf")


def test_passphrase_keys_and_rotation() -> None:
    phrase = "correct horse battery staple"
    blob = crypto.encrypt(phrase, b"facts", "c/f")
    assert crypto.decrypt(phrase, blob, "c/f") == b"facts"
    with pytest.raises(crypto.EvidenceCryptoError, match="16"):
        crypto.encrypt("short", b"x", "c/f")
    new = crypto.generate_key()
    assert crypto.decrypt(new, crypto.reencrypt(blob, phrase, new, "c/f"), "c/f") == b"facts"


def test_files_are_encrypted_only_when_a_key_is_configured(tmp_path: Path) -> None:
    key = crypto.generate_key()
    written = crypto.write_encrypted(tmp_path / "case.json", b'{"text": "x"}', key, "c/case.json")
    assert written.name == "case.json.enc" and not (tmp_path / "case.json").exists()
    assert b'"text"' not in written.read_bytes()
    assert (
        crypto.read_maybe_encrypted(tmp_path / "case.json", key, "c/case.json") == b'{"text": "x"}'
    )
    with pytest.raises(crypto.EvidenceCryptoError, match="no evidence_key"):
        crypto.read_maybe_encrypted(tmp_path / "case.json", None, "c/case.json")
    plain = crypto.write_encrypted(tmp_path / "other.json", b"{}", None, "c/other.json")
    assert plain.read_bytes() == b"{}"


def test_database_errors_do_not_quote_message_texts(make_client: MakeClient) -> None:
    """A failing statement's parameters (message texts) must not end up in the error text,
    which servers log with the traceback."""
    from sqlalchemy.exc import DBAPIError

    client = make_client()
    engine = client.app.state.store.engine  # type: ignore[attr-defined]
    with pytest.raises(DBAPIError) as failure, engine.connect() as conn:
        conn.execute(text("INSERT INTO no_such_table (text) VALUES (:t)"), {"t": RISKY})
    assert "zq-marker" not in str(failure.value)
