"""`/media/<kind>/<file>`: uploaded images, with headers that keep them images."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from clawnet import routes, runtime


async def serve_media(request: Request) -> Response:
    found = runtime.social().media_file(request.path_params["path"])
    if found is None:
        return Response("Not found", status_code=404, media_type="text/plain")
    path, mime = found
    return FileResponse(
        path,
        media_type=mime,
        headers={
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "public, max-age=31536000, immutable",
            "Content-Security-Policy": "default-src 'none'; img-src 'self'; sandbox",
        },
    )


ROUTES = [Route(routes.MEDIA_FILE, serve_media, methods=["GET"])]
