"""`/metrics`: Prometheus figures for operators' own tools. Off (404) unless CLAWNET_METRICS_TOKEN
is set; then only a scraper sending `Authorization: Bearer <token>` gets them."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from clawnet import metrics, routes
from clawnet.settings import get_settings


async def metrics_endpoint(request: Request) -> Response:
    token = get_settings().metrics_token
    if not token:
        return PlainTextResponse("Not Found", status_code=404)
    if not metrics.token_accepted(request.headers.get("authorization"), token):
        return PlainTextResponse(
            "A scrape token is required.", status_code=401, headers={"WWW-Authenticate": "Bearer"}
        )
    return Response(await metrics.scrape_text(), media_type=CONTENT_TYPE_LATEST)


ROUTES = [Route(routes.METRICS, metrics_endpoint, methods=["GET"])]
