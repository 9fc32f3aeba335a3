"""`/healthz`: is this ClawNet process up and can it reach its database."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from clawnet import routes, runtime


async def healthz(_request: Request) -> JSONResponse:
    problem = await runtime.database_problem()
    if problem:
        return JSONResponse({"ok": False, "database": f"unavailable: {problem}"}, status_code=503)
    return JSONResponse({"ok": True, "database": "ok"})


ROUTES = [Route(routes.HEALTH, healthz, methods=["GET"])]
