"""How other servers find this one and its accounts: WebFinger (RFC 7033), host-meta (XRD) and
NodeInfo 2.0."""

from __future__ import annotations

import importlib.metadata
from datetime import datetime, timedelta
from typing import Any
from xml.sax.saxutils import quoteattr

from sqlmodel import Session, col, func, select

from clawnet import routes
from clawnet.models import Comment, Post, Profile, User, utcnow
from clawnet.settings import Settings
from clawnet.social.federation import urls
from clawnet.social.federation.documents import (
    absolute,
    local_profile,
    profile_url,
)

NODEINFO_SCHEMA = "http://nodeinfo.diaspora.software/ns/schema/2.0"
NODEINFO_PATH = "/nodeinfo/2.0"
WEBFINGER_PATH = "/.well-known/webfinger"
PROFILE_PAGE_REL = "http://webfinger.net/rel/profile-page"
ACTIVITY_JSON = "application/activity+json"


def _handle_of_resource(settings: Settings, resource: str) -> str | None:
    """The local handle a WebFinger resource names: `acct:handle@host` (or `handle@host`), the
    actor's id, or the profile page's URL."""
    resource = resource.strip()
    if resource.startswith(("http://", "https://")):
        handle = urls.local_handle(settings, resource)
        if handle is not None:
            return handle
        page_prefix = absolute(settings, routes.profile(""))
        rest = resource[len(page_prefix) :].strip("/") if resource.startswith(page_prefix) else ""
        return rest if rest and "/" not in rest else None
    account = resource[len("acct:") :] if resource.lower().startswith("acct:") else resource
    account = account.lstrip("@")
    handle, _, host = account.rpartition("@")
    if not handle or host.lower() != settings.federation_host.lower():
        return None
    return handle


def webfinger(session: Session, settings: Settings, resource: str) -> dict[str, Any] | None:
    """The WebFinger answer (JRD) for a local, servable profile, or None."""
    handle = _handle_of_resource(settings, resource)
    profile = local_profile(session, settings, handle) if handle else None
    if profile is None:
        return None
    actor_id = urls.actor(settings, profile.handle)
    page = profile_url(settings, profile)
    return {
        "subject": f"acct:{profile.handle}@{settings.federation_host}",
        "aliases": [actor_id, page],
        "links": [
            {"rel": PROFILE_PAGE_REL, "type": "text/html", "href": page},
            {"rel": "self", "type": ACTIVITY_JSON, "href": actor_id},
        ],
    }


def host_meta(settings: Settings) -> str:
    """host-meta (XRD): where WebFinger is, for servers that look there first."""
    template = quoteattr(f"{urls.base(settings)}{WEBFINGER_PATH}?resource={{uri}}")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" type="application/jrd+json" template={template}/>\n'
        "</XRD>\n"
    )


def nodeinfo_links(settings: Settings) -> dict[str, Any]:
    return {"links": [{"rel": NODEINFO_SCHEMA, "href": urls.base(settings) + NODEINFO_PATH}]}


def software_version() -> str:
    try:
        return importlib.metadata.version("clawnet")
    except importlib.metadata.PackageNotFoundError:
        return "0.0.0"


def _active_since(session: Session, since: datetime) -> int:
    """Local profiles that wrote (a post or a comment) since then, or whose person signed in."""
    local = [col(Profile.domain).is_(None), col(Profile.suspended_at).is_(None)]
    wrote = set(
        session.exec(
            select(Post.author_id)
            .join(Profile, col(Profile.id) == Post.author_id)
            .where(col(Post.created_at) >= since, *local)
            .distinct()
        ).all()
    )
    wrote |= set(
        session.exec(
            select(Comment.author_id)
            .join(Profile, col(Profile.id) == Comment.author_id)
            .where(col(Comment.created_at) >= since, *local)
            .distinct()
        ).all()
    )
    signed_in = set(
        session.exec(
            select(Profile.id)
            .join(User, col(User.id) == Profile.user_id)
            .where(col(Profile.is_bot).is_(False), col(User.last_login_at) >= since, *local)
        ).all()
    )
    return len(wrote | signed_in)


def nodeinfo(session: Session, settings: Settings) -> dict[str, Any]:
    """NodeInfo 2.0: the software, the protocol, and usage counts of local accounts (people and
    bots) and local posts (posts and comments, boosts not counted)."""
    now = utcnow()
    local = [col(Profile.domain).is_(None), col(Profile.suspended_at).is_(None)]
    users = session.exec(select(func.count()).select_from(Profile).where(*local)).one()
    posts = session.exec(
        select(func.count())
        .select_from(Post)
        .join(Profile, col(Profile.id) == Post.author_id)
        .where(col(Profile.domain).is_(None), col(Post.reblog_of_id).is_(None))
    ).one()
    comments = session.exec(
        select(func.count())
        .select_from(Comment)
        .join(Profile, col(Profile.id) == Comment.author_id)
        .where(col(Profile.domain).is_(None))
    ).one()
    return {
        "version": "2.0",
        "software": {"name": "clawnet", "version": software_version()},
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": ["atom1.0"]},
        "openRegistrations": False,
        "usage": {
            "users": {
                "total": users,
                "activeMonth": _active_since(session, now - timedelta(days=30)),
                "activeHalfyear": _active_since(session, now - timedelta(days=180)),
            },
            "localPosts": posts + comments,
        },
        "metadata": {"nodeName": "ClawNet", "federation": settings.federation_enabled},
    }
