"""Remote accounts: finding them (WebFinger), fetching their actor documents, and keeping each as
a local `Profile` (handle `user@domain`) with its `RemoteActor` row (inbox, key).

Fetches are GETs signed as the instance actor (`instance_actor`, for servers in "authorized
fetch" mode), with size and time limits; unless `federation_allow_private`, the address (and
what its host resolves to) must be public (the webhook SSRF guard). With
`federation_allow_private` on, a loopback host is reached over http (tests run two instances on
127.0.0.1).
"""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlmodel import Session, select

from clawnet.controlplane.alert_delivery import webhook_url_problem
from clawnet.errors import UserError
from clawnet.models import Profile, utcnow
from clawnet.models.federation import RemoteActor
from clawnet.security.sanitize import clean_html, clean_text
from clawnet.settings import Settings
from clawnet.social.federation import instance_actor

MAX_BYTES = 1024 * 1024
TIMEOUT_S = 10.0
AP_ACCEPT = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
AP_TYPES = ("application/activity+json", "application/ld+json")
BOT_TYPES = frozenset({"Service", "Application"})
ACTOR_TYPES = frozenset({"Person", "Service", "Application", "Group", "Organization"})
_ADDRESS = re.compile(r"^@?([A-Za-z0-9_.\-]{1,100})@([A-Za-z0-9.\-]+(?::\d{1,5})?)$")


class RemoteError(UserError):
    """A remote account could not be found or fetched (the message is safe to show)."""


def parse_address(address: str) -> tuple[str, str] | None:
    """("user", "host") from "user@host" or "@user@host", or None."""
    match = _ADDRESS.match(address.strip())
    return (match.group(1), match.group(2).lower()) if match else None


def _loopback(host: str) -> bool:
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


def scheme_for(settings: Settings, host: str) -> str:
    return "http" if settings.federation_allow_private and _loopback(host) else "https"


async def get_json(settings: Settings, url: str, accept: str = AP_ACCEPT) -> dict[str, Any]:
    """GET a JSON document (at most 1 MiB, 10 s), guarded against internal addresses, signed as
    the instance actor (servers in "authorized fetch" mode refuse unsigned GETs)."""
    problem = await webhook_url_problem(url, allow_private=settings.federation_allow_private)
    if problem:
        raise RemoteError(f"Cannot fetch {url}: {problem}")
    headers = {
        **await instance_actor.signed_get_headers(settings, url),
        "Accept": accept,
        "User-Agent": "ClawNet",
    }
    try:
        async with (
            httpx.AsyncClient(timeout=TIMEOUT_S, follow_redirects=False) as client,
            client.stream("GET", url, headers=headers) as response,
        ):
            if response.status_code != 200:
                raise RemoteError(f"{url} answered {response.status_code}.")
            chunks, size = [], 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > MAX_BYTES:
                    raise RemoteError(f"{url} sent more than 1 MiB.")
                chunks.append(chunk)
    except httpx.HTTPError as exc:
        raise RemoteError(f"Cannot fetch {url}: {type(exc).__name__}.") from exc
    try:
        doc = json.loads(b"".join(chunks))
    except ValueError as exc:
        raise RemoteError(f"{url} did not send JSON.") from exc
    if not isinstance(doc, dict):
        raise RemoteError(f"{url} did not send a JSON object.")
    return doc


async def lookup(settings: Settings, address: str) -> str:
    """The actor URI behind "user@host" (WebFinger)."""
    parsed = parse_address(address)
    if parsed is None:
        raise RemoteError("Write the address as user@host.")
    user, host = parsed
    url = f"{scheme_for(settings, host)}://{host}/.well-known/webfinger?resource=acct:{user}@{host}"
    try:
        doc = await get_json(settings, url, accept="application/jrd+json, application/json")
    except RemoteError as exc:
        raise RemoteError("No account at that address.") from exc
    for link in doc.get("links") or []:
        if (
            isinstance(link, dict)
            and link.get("rel") == "self"
            and str(link.get("type", "")).split(";")[0].strip() in AP_TYPES
            and isinstance(link.get("href"), str)
        ):
            return str(link["href"])
    raise RemoteError("No account at that address.")


async def fetch_actor(settings: Settings, uri: str) -> dict[str, Any]:
    """The actor document at `uri` (checked: an actor type, an id on the host it came from, an
    inbox)."""
    doc = await get_json(settings, uri)
    check_actor(doc, uri)
    return doc


def check_actor(doc: dict[str, Any], uri: str) -> None:
    if doc.get("type") not in ACTOR_TYPES:
        raise RemoteError(f"{uri} is not an actor.")
    actor_id = doc.get("id")
    if not isinstance(actor_id, str) or urlsplit(actor_id).netloc.lower() != urlsplit(uri).netloc.lower():
        raise RemoteError(f"{uri} names an actor on another host.")
    if not isinstance(doc.get("inbox"), str):
        raise RemoteError(f"{uri} has no inbox.")


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any, limit: int = 2000) -> str:
    return value[:limit] if isinstance(value, str) else ""


def store_actor(session: Session, settings: Settings, doc: dict[str, Any]) -> Profile:
    """Create or refresh the local stand-in for a fetched actor document (in the caller's
    transaction)."""
    actor_uri = str(doc["id"])
    domain = urlsplit(actor_uri).netloc.lower()
    username = _str(doc.get("preferredUsername"), 200) or actor_uri.rstrip("/").rsplit("/", 1)[-1]
    handle = f"{username}@{domain}".lower()[:255]
    row = session.exec(select(RemoteActor).where(RemoteActor.actor_uri == actor_uri)).first()
    profile = session.get(Profile, row.profile_id) if row is not None else None
    if profile is None:
        profile = session.exec(select(Profile).where(Profile.handle == handle)).first()
        if profile is not None and profile.domain is None:
            raise RemoteError("That address names a local profile.")
    name = " ".join(clean_text(_str(doc.get("name"), 500)).split())[:80] or username[:80]
    summary = _str(doc.get("summary"), 20000)
    if profile is None:
        profile = Profile(handle=handle, display_name=name)
    profile.display_name = name
    profile.bio_html = clean_html(summary)[:4000] if summary else ""
    profile.is_bot = doc.get("type") in BOT_TYPES
    profile.domain = domain
    profile.user_id = None
    profile.bot_id = None
    profile.updated_at = utcnow()
    session.add(profile)
    session.flush()
    assert profile.id is not None
    key = as_dict(doc.get("publicKey"))
    endpoints = as_dict(doc.get("endpoints"))
    if row is None:
        row = RemoteActor(
            profile_id=profile.id, actor_uri=actor_uri, domain=domain, username=username, inbox_url=""
        )
    row.domain, row.username = domain, username[:255]
    row.actor_type = _str(doc.get("type"), 32) or "Person"
    row.inbox_url = _str(doc.get("inbox"))
    row.shared_inbox_url = _str(endpoints.get("sharedInbox"))
    row.outbox_url = _str(doc.get("outbox"))
    row.followers_url = _str(doc.get("followers"))
    url = doc.get("url")
    row.url = _str(
        url if isinstance(url, str) else (url or [{}])[0].get("href") if isinstance(url, list) else ""
    )
    row.key_id = _str(key.get("id"))
    row.public_key_pem = _str(key.get("publicKeyPem"), 20000)
    row.fetched_at = utcnow()
    session.add(row)
    session.flush()
    return profile


def actor_profile(session: Session, settings: Settings, actor_uri: str) -> Profile | None:
    """The cached local stand-in for a remote actor, or None when it was never fetched."""
    row = session.exec(select(RemoteActor).where(RemoteActor.actor_uri == actor_uri)).first()
    return session.get(Profile, row.profile_id) if row is not None else None


def by_key(session: Session, key_id: str) -> RemoteActor | None:
    row = session.exec(select(RemoteActor).where(RemoteActor.key_id == key_id)).first()
    if row is None:  # some servers use the actor id itself as the key id
        row = session.exec(
            select(RemoteActor).where(RemoteActor.actor_uri == key_id.split("#", 1)[0])
        ).first()
    return row
