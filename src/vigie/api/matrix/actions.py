"""Console decisions applied on the homeserver: ``POST /v1/matrix/actions/<platform>``.

The Matrix platform's webhook URL points here, so a safety officer's decision travels like
any other: queued in Vigie's webhook outbox in the decision's transaction, signed, and
retried with back-off until this route answers 2xx. This route answers 2xx only once the
homeserver has done it; a homeserver that is down gets a 502, and the outbox tries again.

- ``restrict_contact`` → shadow-ban: the account seems to work, nobody receives what it sends;
- ``suspend`` → the account's events redacted in every room, then the account deactivated.

Only a person's decisions are applied here. What Vigie decides by itself (a policy's
``restrict_contact`` after known imagery, say) is already enforced at each spam check, and
taking an account away on an automatic decision is left to the safety team.
"""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request

from vigie.api.matrix.homeserver import Homeserver, HomeserverError
from vigie.api.matrix.routes import homeserver
from vigie.api.matrix.schemas import ActionAnswer, action_body
from vigie.api.schemas import ErrorAnswer
from vigie.domain.webhooks import SIGNATURE_HEADER, verify_signature

log = logging.getLogger(__name__)
# Set on the webhooks of the console's decisions (console/queries.py).
OFFICER = "safety_officer"
router = APIRouter(prefix="/v1/matrix/actions", tags=["matrix"])


@router.post(
    "/{platform_name}",
    response_model=ActionAnswer,
    openapi_extra=action_body(),
    responses={
        401: {"model": ErrorAnswer, "description": "no valid Vigie-Signature for this platform"},
        502: {"model": ErrorAnswer, "description": "the homeserver failed; delivered again later"},
    },
)
async def apply_action(
    platform_name: Annotated[str, Path(max_length=200)], request: Request
) -> dict[str, Any]:
    """Authenticated by the webhook signature (the platform's webhook secret), not a key; an
    unknown platform gets the same 401 as a bad signature, so names cannot be probed."""
    with request.app.state.store.read() as unit:
        platform = unit.platform_by_name(platform_name)
    raw = await request.body()
    secret = platform.webhook_secret if platform is not None else None
    if (
        platform is None
        or not secret
        or not verify_signature(secret, request.headers.get(SIGNATURE_HEADER), raw)
    ):
        raise HTTPException(401, "invalid or expired Vigie-Signature")
    payload = json.loads(raw)
    if payload.get("by") != OFFICER:  # Vigie's own decisions were enforced at the check
        return {"id": str(payload.get("id")), "applied": []}
    hs = homeserver(request.app, platform)
    try:
        done = await apply(hs, str(payload.get("action")), payload.get("subject"))
    except HomeserverError as exc:
        log.warning("matrix: %s on the homeserver failed: %s", payload.get("action"), exc)
        raise HTTPException(502, "the homeserver did not apply the action") from exc
    return {"id": str(payload.get("id")), "applied": done}


async def apply(hs: Homeserver, action: str, subject: Any) -> list[str]:
    """What was done on the homeserver for this action (nothing for most actions: holds and
    blocks were already refused at the spam check)."""
    if not isinstance(subject, str) or not subject.startswith("@"):
        return []
    if action == "restrict_contact":
        await hs.shadow_ban(subject)
        return ["shadow_ban"]
    if action == "suspend":
        await hs.redact_all(subject)
        await hs.deactivate(subject)
        return ["redact", "deactivate"]
    return []
