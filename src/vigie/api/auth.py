"""Platform authentication by API key (``Authorization: Bearer <key>``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from vigie.domain import Platform
from vigie.platforms import authenticate

_bearer = HTTPBearer(auto_error=False, description="The platform's API key")


def current_platform(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Platform:
    """The platform the key belongs to; 401 without a valid key."""
    if credentials is None or not credentials.credentials:
        raise HTTPException(401, "missing API key", headers={"WWW-Authenticate": "Bearer"})
    with request.app.state.store.read() as unit:
        platform = authenticate(unit, credentials.credentials)
    if platform is None:
        raise HTTPException(401, "invalid API key", headers={"WWW-Authenticate": "Bearer"})
    request.state.platform_id = platform.id
    return platform


PlatformDep = Annotated[Platform, Depends(current_platform)]
