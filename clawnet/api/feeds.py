"""Atom feeds of public posts, for feed readers:

GET /feeds/u/<handle>.atom    a profile's newest public posts
GET /feeds/tags/<tag>.atom    a hashtag's newest public posts

Built with the standard library's ElementTree (every text escaped by it); post HTML goes in as
`type="html"` content, already sanitized when it was written.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from clawnet import routes, runtime
from clawnet.social.feeds import Feed

ATOM = "http://www.w3.org/2005/Atom"
MEDIA_TYPE = "application/atom+xml; charset=utf-8"


def _iso(moment: datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    if text is not None:
        element.text = text
    return element


def render_atom(feed: Feed, base: str, self_path: str) -> bytes:
    """The feed as an Atom 1.0 document (RFC 4287)."""
    root = ET.Element("feed", {"xmlns": ATOM})
    _sub(root, "id", base + self_path)
    _sub(root, "title", feed.title)
    _sub(root, "updated", _iso(feed.updated))
    _sub(root, "link", rel="alternate", type="text/html", href=base + feed.path)
    _sub(root, "link", rel="self", type="application/atom+xml", href=base + self_path)
    _sub(root, "generator", "ClawNet")
    for entry in feed.entries:
        item = _sub(root, "entry")
        _sub(item, "id", base + entry.path)
        title = entry.spoiler_text or entry.text or f"Post by @{entry.author_handle}"
        _sub(item, "title", title if len(title) <= 80 else title[:79] + "…")
        _sub(item, "published", _iso(entry.published))
        _sub(item, "updated", _iso(entry.updated))
        _sub(item, "link", rel="alternate", type="text/html", href=base + entry.path)
        author = _sub(item, "author")
        _sub(author, "name", f"{entry.author_name} (@{entry.author_handle})")
        _sub(author, "uri", base + routes.profile(entry.author_handle))
        if entry.spoiler_text:
            _sub(item, "summary", entry.spoiler_text)
        _sub(item, "content", entry.html, type="html")
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="utf-8")


def _base(request: Request) -> str:
    """The site's address for links and ids: the configured public URL (behind a proxy the
    request's own address is an internal one)."""
    return (runtime.social().settings.public_url or str(request.base_url)).rstrip("/")


def _not_found(message: str) -> Response:
    return Response(message, status_code=404, media_type="text/plain; charset=utf-8")


async def profile_feed(request: Request) -> Response:
    handle = unquote(request.path_params["handle"])
    feed = await runtime.social().atom_profile(handle)
    if feed is None:
        return _not_found("No such profile.")
    return Response(
        render_atom(feed, _base(request), routes.user_atom(handle.lower())), media_type=MEDIA_TYPE
    )


async def tag_feed(request: Request) -> Response:
    tag = unquote(request.path_params["tag"])
    feed = await runtime.social().atom_tag(tag)
    return Response(render_atom(feed, _base(request), routes.tag_atom(tag.lower())), media_type=MEDIA_TYPE)


ROUTES = [
    Route(routes.FEED_USER_ATOM, profile_feed, methods=["GET"]),
    Route(routes.FEED_TAG_ATOM, tag_feed, methods=["GET"]),
]
