"""The safety officers' console: one router gathering the pages (see docs/console.md)."""

from __future__ import annotations

from fastapi import APIRouter

from vigie.console import (
    admin_routes,
    auth_routes,
    case_routes,
    practice_routes,
    queue_routes,
    report_routes,
    review_routes,
    users_routes,
)

router = APIRouter(include_in_schema=False)
for _module in (
    auth_routes,
    queue_routes,
    case_routes,
    practice_routes,
    report_routes,
    review_routes,
    admin_routes,
    users_routes,
):
    router.include_router(_module.router)
