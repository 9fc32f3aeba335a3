"""`/healthz`: is this ClawNet process up and can it reach its database."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from clawnet import routes
from clawnet.db import get_engine


async def healthz(_request: Request) -> JSONResponse:
    def ping() -> None:
        with get_engine().connect() as conn:
            conn.execute(sa.text("SELECT 1"))

    try:
        await asyncio.to_thread(ping)
    except Exception as exc:
        return JSONResponse({"ok": False, "database": f"unavailable: {type(exc).__name__}"}, status_code=503)
    return JSONResponse({"ok": True, "database": "ok"})


ROUTES = [Route(routes.HEALTH, healthz, methods=["GET"])]
