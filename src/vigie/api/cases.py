"""``GET /v1/cases``: the platform's own cases, newest first."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from vigie.api.auth import PlatformDep
from vigie.api.schemas import CasesAnswer, ErrorAnswer
from vigie.pseudonym import unseal

router = APIRouter(prefix="/v1", tags=["cases"])


@router.get(
    "/cases",
    response_model=CasesAnswer,
    responses={401: {"model": ErrorAnswer, "description": "missing or invalid key"}},
)
def list_cases(
    platform: PlatformDep, request: Request, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> dict[str, Any]:
    """Subjects are given back as the platform's own account ids (only it may see them)."""
    with request.app.state.store.read() as unit:
        cases = unit.list_cases(platform.id, limit)
        refs = {c.subject: unit.external_ref(platform.id, c.subject) for c in cases}
    return {
        "cases": [
            {
                "id": c.id,
                "subject": unseal(platform.pseudonym_secret, refs[c.subject]) or c.subject,
                "status": c.status.value,
                "priority": c.priority,
                "categories": c.categories,
                "opened_at": c.opened_at,
                "risk": round(c.risk, 4),
                "requires_report": c.requires_report,
            }
            for c in cases
        ]
    }
