"""Calls from Vigie to one Synapse homeserver, with its admin account's token.

Room members (who receives a message) and media (what an image is) are not in the spam
check's request, so Vigie asks the homeserver. Members are kept a few seconds: a chat sends
bursts of messages into the same room. Synapse does not send membership events to spam
checks, so the join and invite checks clear the room's entry instead.
"""

from __future__ import annotations

import time
import uuid
from typing import Any
from urllib.parse import quote

import httpx

from vigie.settings import MatrixSettings

MAX_MEDIA_BYTES = 64 * 1024 * 1024


class HomeserverError(RuntimeError):
    """The homeserver did not do what was asked (down, refused, unexpected answer)."""


def _q(value: str) -> str:
    return quote(value, safe="")


class Homeserver:
    """One homeserver's client-server and admin APIs, as the admin account."""

    def __init__(self, config: MatrixSettings, http: httpx.AsyncClient | None = None) -> None:
        self.config = config
        self.base = config.homeserver_url.rstrip("/")
        self._http = http or httpx.AsyncClient(timeout=10.0)
        self._auth = {"Authorization": f"Bearer {config.admin_token}"}
        self._members: dict[str, tuple[float, list[str]]] = {}
        self._noticed: dict[tuple[str, str], float] = {}

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            answer = await self._http.request(
                method, self.base + path, headers=self._auth, **kwargs
            )
        except httpx.HTTPError as exc:
            raise HomeserverError(f"{method} {path}: {type(exc).__name__}: {exc}") from exc
        if not answer.is_success:
            raise HomeserverError(f"{method} {path}: HTTP {answer.status_code} {answer.text[:200]}")
        return answer

    async def members(self, room_id: str, keep: bool = True) -> list[str]:
        """The room's joined members (kept ``members_cache_s`` seconds unless ``keep`` is
        false: a join being checked is not in them yet, so they must not be kept)."""
        cached = self._members.get(room_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        answer = await self._call("GET", f"/_synapse/admin/v1/rooms/{_q(room_id)}/members")
        found = [str(m) for m in answer.json().get("members", [])]
        if keep:
            self._members[room_id] = (time.monotonic() + self.config.members_cache_s, found)
        return found

    def forget_members(self, room_id: str) -> None:
        """Someone joined, left or was invited: read the room's members again next time."""
        self._members.pop(room_id, None)

    async def media(self, mxc: str) -> bytes:
        """The bytes behind an ``mxc://server/id`` URL, kept in memory only."""
        server, _, media_id = mxc.removeprefix("mxc://").partition("/")
        if not server or not media_id or not mxc.startswith("mxc://"):
            raise HomeserverError(f"not a media URL: {mxc!r}")
        path = f"/_matrix/client/v1/media/download/{_q(server)}/{_q(media_id)}"
        answer = await self._call("GET", path)
        if len(answer.content) > MAX_MEDIA_BYTES:
            raise HomeserverError(f"media over {MAX_MEDIA_BYTES} bytes")
        return answer.content

    async def notify(self, user_id: str, text: str, html: str | None = None) -> None:
        """A message from the server-notices account to ``user_id`` (admin API)."""
        content: dict[str, Any] = {"msgtype": "m.text", "body": text}
        if html:
            content |= {"format": "org.matrix.custom.html", "formatted_body": html}
        body = {"user_id": user_id, "content": content}
        txn = uuid.uuid4().hex
        await self._call("PUT", f"/_synapse/admin/v1/send_server_notice/{txn}", json=body)

    def first_notice(self, user_id: str, room_id: str, quiet_s: float = 600.0) -> bool:
        """True once per child and room every ``quiet_s`` seconds: several held messages in a
        row give the child one safety message, not one each."""
        now = time.monotonic()
        if self._noticed.get((user_id, room_id), -quiet_s - 1) > now - quiet_s:
            return False
        if len(self._noticed) > 100_000:
            self._noticed.clear()
        self._noticed[(user_id, room_id)] = now
        return True

    async def shadow_ban(self, user_id: str) -> None:
        """The account still seems to work for its owner; nobody else sees what it sends."""
        await self._call("POST", f"/_synapse/admin/v1/users/{_q(user_id)}/shadow_ban")

    async def redact_all(self, user_id: str) -> None:
        """Redact the account's events in every room it is in (Synapse's admin redaction)."""
        await self._call(
            "POST", f"/_synapse/admin/v1/user/{_q(user_id)}/redact", json={"rooms": []}
        )

    async def deactivate(self, user_id: str) -> None:
        await self._call(
            "POST", f"/_synapse/admin/v1/deactivate/{_q(user_id)}", json={"erase": False}
        )
