"""The client's signature check agrees with the server's signing, byte for byte."""

from __future__ import annotations

import time

from vigie.domain import webhooks as server
from vigie_client import verify_signature
from vigie_client.webhooks import sign

BODY = b'{"id":"wh_1","action":"hold_message","event":"ev-2","subject":"u-1","case":null}'


def test_a_server_signature_verifies_in_its_window_only() -> None:
    now = time.time()
    header = server.sign("whsec_a", BODY, int(now))
    assert verify_signature("whsec_a", header, BODY, now=now + 299)
    assert not verify_signature("whsec_a", header, BODY, now=now + 301)
    assert not verify_signature("whsec_a", header, BODY, now=now - 301)
    assert not verify_signature("whsec_b", header, BODY, now=now)
    assert not verify_signature("whsec_a", header, BODY + b" ", now=now)


def test_during_a_rotation_either_secret_verifies() -> None:
    t = int(time.time())
    old, new = sign("whsec_old", BODY, t), sign("whsec_new", BODY, t)
    both = f"{old},{new.split(',')[1]}"
    assert verify_signature("whsec_old", both, BODY)
    assert verify_signature("whsec_new", both, BODY)
    assert server.verify_signature("whsec_new", both, BODY)


def test_malformed_headers_are_refused() -> None:
    for header in (None, "", "t=abc,v1=00", "v1=00", f"t={int(time.time())}"):
        assert not verify_signature("whsec_a", header, BODY)
