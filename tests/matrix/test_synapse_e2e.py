"""A real Synapse homeserver protected by a live Vigie, end to end (issue 18, part 3).

Synapse (SQLite, loopback) runs synapse-http-antispam pointed at ``vigie serve``; members
are matrix-nio clients. Checked: a grooming sequence is refused before the child receives
it, and the child gets the safety notice; a known-hash image is refused; two children chat
untouched; an adult with an open case cannot invite a child; a console decision
shadow-bans the adult on the homeserver; and with Vigie down, messages fail open while
invitations fail closed (the module's defaults, docs/integrations/matrix.md).

The tests run in file order on one homeserver: later ones build on earlier ones (the case
opened by the grooming sequence), and the last one stops Vigie.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from nio import (
    AsyncClient,
    RoomCreateResponse,
    RoomInviteError,
    RoomSendError,
    RoomSendResponse,
    SyncResponse,
    UploadResponse,
)
from PIL import Image

from matrix.homeserver import SERVER_NAME, Homeserver, homeserver, synapse_python
from served import Served, add_platform, free_port, serve_env, serving, stop, vigie
from vigie.detect.media.hashing import hash_media
from vigie_client import AccountEvent, VigieClient

PLATFORM = "matrix-test"
NOTICES = f"@vigie-safety:{SERVER_NAME}"
HOLD = "held for review by the test server's safety team"
BLOCK = "not delivered: against the test server's safety rules"
# Age question to a 12-year-old, secrecy, a move to Snapchat, a photo request, a meeting:
# nothing explicit, and unmistakable.
GROOMING = [
    "hey, how old are you?",
    "12? you seem really mature for your age",
    "this is our little secret ok, don't tell your parents we talk",
    "add me on snapchat, it's safer there, and delete these messages",
    "send me a photo of you, just for me, nobody else will see it",
    "we could meet after school on friday, just us two, don't tell anyone",
]
BENIGN = [
    ("sam", "are you doing the maths homework tonight?"),
    ("lea", "yes, the fractions one is so hard"),
    ("sam", "want to play minecraft after? my mum says ok until 6"),
    ("lea", "yes! I'll build the farm, you do the house"),
]


@dataclass
class World:
    hs: Homeserver
    vigie: Served
    users: dict[str, tuple[str, str]]  # name -> (user id, access token)
    rooms: dict[str, str]

    def client(self, name: str) -> AsyncClient:
        user_id, token = self.users[name]
        client = AsyncClient(self.hs.url, user_id)
        client.restore_login(user_id, "TEST" + name.upper(), token)
        return client


def _noise(seed: int) -> bytes:
    """A textured image (PDQ needs detail to give a confident hash)."""
    pixels = np.random.default_rng(seed).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    image = Image.fromarray(pixels).resize((256, 256), Image.Resampling.BILINEAR)
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


KNOWN, UNKNOWN = _noise(1), _noise(2)


def _hash_list(folder: Path) -> Path:
    """A hash list holding KNOWN's PDQ (test data made here, nothing downloaded)."""
    path = folder / "known.csv"
    pdq = hash_media(KNOWN, "known.png")["pdq"]
    path.write_text(f"hash_type,hash_value,list,label\npdq,{pdq},test-known,test\n")
    return path


def _vigie_toml(path: Path, hs_url: str, admin_token: str) -> None:
    path.write_text(
        f"[matrix.{PLATFORM}]\n"
        f"homeserver_url = {json.dumps(hs_url)}\n"
        f"admin_token = {json.dumps(admin_token)}\n"
        f"notices_user = {json.dumps(NOTICES)}\n"
        f"hold_reason = {json.dumps(HOLD)}\n"
        f"block_reason = {json.dumps(BLOCK)}\n"
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    synapse_python()  # skip (or fail in CI) before building anything
    tmp = tmp_path_factory.mktemp("matrix")
    vigie_port, hs_port = free_port(), free_port()
    env = serve_env(
        tmp,
        VIGIE_CONFIG=str(tmp / "vigie.toml"),
        VIGIE_API__DECIDER="loop",
        # Held from the flag threshold on, whatever the text model's exact scores.
        VIGIE_DETECTION__HOLD_THRESHOLD="0.5",
    )
    vigie("db", "upgrade", env=env)
    hook = f"http://127.0.0.1:{vigie_port}/v1/matrix/actions/{PLATFORM}"
    key, secret = add_platform(env, PLATFORM, "--webhook", hook)
    vigie("lists", "import", str(_hash_list(tmp)), env=env)
    antispam = {
        "base_url": f"http://127.0.0.1:{vigie_port}/v1/matrix",
        "authorization": key,
        "do_ping": True,
        # Required: without it the module also registers callbacks this Synapse lacks.
        "enabled_callbacks": ["check_event_for_spam", "user_may_invite", "user_may_join_room"],
    }
    with homeserver(tmp / "synapse", hs_port, antispam) as hs:
        users = {n: hs.register(n) for n in ("coach", "lea", "sam")}
        users["admin"] = hs.register("vigie-admin", admin=True)
        _vigie_toml(tmp / "vigie.toml", hs.url, users["admin"][1])
        with serving(env, key, port=vigie_port, webhook_secret=secret, wait_s=180) as served:
            _tell_ages(served, users)
            yield World(hs, served, users, {})


def _tell_ages(served: Served, users: dict[str, tuple[str, str]]) -> None:
    """What the operator's registration flow does: each account's age, to Vigie."""
    ages = {"coach": 35, "lea": 12, "sam": 12, "admin": 40}
    with VigieClient(served.url, served.key) as client:
        client.send_events(
            AccountEvent(users[n][0], age=age, age_source="declared") for n, age in ages.items()
        )


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _room(world: World, owner: str, guest: str) -> str:
    """A direct chat ``owner`` opens with ``guest``, joined by both."""
    host, visitor = world.client(owner), world.client(guest)
    try:
        made = await host.room_create(is_direct=True, invite=[world.users[guest][0]])
        assert isinstance(made, RoomCreateResponse), made
        joined = await visitor.join(made.room_id)
        assert getattr(joined, "room_id", None) == made.room_id, joined
        return made.room_id
    finally:
        await host.close()
        await visitor.close()


async def _say(world: World, who: str, room: str, text: str) -> RoomSendResponse | RoomSendError:
    client = world.client(who)
    try:
        content = {"msgtype": "m.text", "body": text}
        return await client.room_send(room, "m.room.message", content)
    finally:
        await client.close()


_SYNCS = itertools.count(1)


async def _received(world: World, who: str) -> dict[str, list[tuple[str, str]]]:
    """(sender, body) of the messages in each room ``who`` has joined, as their client syncs.

    Each sync asks with another ``timeout`` (ignored by an initial sync): Synapse answers a
    repeated initial sync from a cache for a while, which would hide newer messages.
    """
    client = world.client(who)
    try:
        answer = await client.sync(
            timeout=next(_SYNCS),
            full_state=True,
            sync_filter={"room": {"timeline": {"limit": 100}}},
        )
        assert isinstance(answer, SyncResponse), answer
        return {
            room_id: [(e.sender, e.body) for e in room.timeline.events if hasattr(e, "body")]
            for room_id, room in answer.rooms.join.items()
        }
    finally:
        await client.close()


def test_a_grooming_sequence_is_held_before_the_child_receives_it(world: World) -> None:
    room = world.rooms["dm"] = run(_room(world, "coach", "lea"))
    answers = [run(_say(world, "coach", room, text)) for text in GROOMING]
    refused = [t for t, a in zip(GROOMING, answers, strict=True) if isinstance(a, RoomSendError)]
    delivered = [t for t in GROOMING if t not in refused]
    assert refused, "no message of the sequence was held"
    for answer in answers:
        if isinstance(answer, RoomSendError):
            assert answer.status_code == "M_FORBIDDEN" and answer.message in (HOLD, BLOCK)
    seen = [body for _, body in run(_received(world, "lea"))[room]]
    assert not set(refused) & set(seen)
    assert set(delivered) <= set(seen)
    with VigieClient(world.vigie.url, world.vigie.key) as client:
        subjects = {c.subject for c in client.list_cases()}
    assert world.users["coach"][0] in subjects


def test_the_child_gets_the_safety_notice_from_the_notices_account(world: World) -> None:
    deadline = time.time() + 30
    while time.time() < deadline:
        notices = [
            body
            for messages in run(_received(world, "lea")).values()
            for sender, body in messages
            if sender == NOTICES
        ]
        if notices:
            break
        time.sleep(0.5)
    assert notices, "no safety notice reached the child"
    assert re.search(r"\d{3}|https?://", notices[0])  # a helpline number or address


def test_two_children_chat_untouched(world: World) -> None:
    room = world.rooms["kids"] = run(_room(world, "sam", "lea"))
    for who, text in BENIGN:
        assert isinstance(run(_say(world, who, room, text)), RoomSendResponse)
    for reader in ("lea", "sam"):
        assert [b for _, b in run(_received(world, reader))[room]] == [t for _, t in BENIGN]
    with VigieClient(world.vigie.url, world.vigie.key) as client:
        subjects = {c.subject for c in client.list_cases()}
    assert not subjects & {world.users["lea"][0], world.users["sam"][0]}


async def _send_image(world: World, who: str, room: str, data: bytes) -> Any:
    client = world.client(who)
    try:
        upload, _ = await client.upload(
            io.BytesIO(data), content_type="image/png", filename="p.png", filesize=len(data)
        )
        assert isinstance(upload, UploadResponse), upload
        content = {
            "msgtype": "m.image",
            "body": "p.png",
            "url": upload.content_uri,
            "info": {"mimetype": "image/png", "size": len(data)},
        }
        return await client.room_send(room, "m.room.message", content)
    finally:
        await client.close()


def test_a_known_hash_image_is_refused_and_another_goes_through(world: World) -> None:
    room = run(_room(world, "sam", "lea"))
    assert isinstance(run(_send_image(world, "sam", room, UNKNOWN)), RoomSendResponse)
    refused = run(_send_image(world, "sam", room, KNOWN))
    assert isinstance(refused, RoomSendError), refused
    assert refused.status_code == "M_FORBIDDEN" and refused.message == BLOCK


async def _invite(world: World, owner: str, guest: str) -> Any:
    client = world.client(owner)
    try:
        made = await client.room_create()
        assert isinstance(made, RoomCreateResponse), made
        return await client.room_invite(made.room_id, world.users[guest][0])
    finally:
        await client.close()


def test_an_adult_with_an_open_case_cannot_invite_a_child(world: World) -> None:
    refused = run(_invite(world, "coach", "lea"))
    assert isinstance(refused, RoomInviteError), refused
    assert refused.status_code == "M_FORBIDDEN"
    assert not isinstance(run(_invite(world, "sam", "lea")), RoomInviteError)


def _console(world: World) -> httpx.Client:
    """A safety officer logged in to the live console."""
    password = "calm-harbour-lantern-42"
    vigie("user", "add", "mod@vigie.test", "--role", "moderator", env=world.vigie.env,
          stdin=password + "\n")  # fmt: skip
    client = httpx.Client(base_url=world.vigie.url, follow_redirects=False, timeout=30)
    token = _csrf(client.get("/console/login").text)
    login = {"email": "mod@vigie.test", "password": password, "csrf": token}
    assert client.post("/console/login", data=login).status_code == 303
    return client


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF field"
    return match.group(1)


def _officer_post(client: httpx.Client, path: str, **data: str) -> httpx.Response:
    token = _csrf(client.get("/console/queues").text)
    return client.post(path, data={"csrf": token, **data})


def test_a_console_restriction_shadow_bans_the_adult_on_the_homeserver(world: World) -> None:
    adult = world.users["coach"][0]
    with VigieClient(world.vigie.url, world.vigie.key) as vigie_client:
        case = next(c.id for c in vigie_client.list_cases() if c.subject == adult)
    officer = _console(world)
    try:
        _officer_post(officer, f"/console/cases/{case}/claim")
        decided = _officer_post(
            officer,
            f"/console/cases/{case}/decide",
            kind="restrict_contact",
            rule="high_risk_hold",
            reason="grooming sequence towards a 12-year-old",
        )
        where = decided.headers["location"]
        assert decided.status_code == 303 and "error=" not in where, where  # recorded
    finally:
        officer.close()
    admin = {"Authorization": f"Bearer {world.users['admin'][1]}"}
    deadline = time.time() + 30
    while time.time() < deadline:
        user = httpx.get(f"{world.hs.url}/_synapse/admin/v2/users/{adult}", headers=admin).json()
        if user.get("shadow_banned"):
            break
        time.sleep(0.5)
    assert user.get("shadow_banned"), user


def test_vigie_down_messages_fail_open_invitations_fail_closed(world: World) -> None:
    stop(world.vigie.process)
    assert isinstance(
        run(_say(world, "sam", world.rooms["kids"], "still there?")), RoomSendResponse
    )
    refused = run(_invite(world, "sam", "lea"))
    assert isinstance(refused, RoomInviteError), refused
    assert refused.status_code == "M_UNKNOWN"
