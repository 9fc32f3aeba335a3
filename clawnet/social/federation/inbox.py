"""The inbox: verify an incoming activity, de-duplicate it, and apply it.

`receive` refuses what it must not take: federation off (404), a body that is not JSON (400) or
over 1 MiB (413), a missing or bad HTTP Signature (401, the `SignatureError`'s message), a blocked
host (403), an activity whose `actor` is not the key's owner (401). The signer's key comes from
the cached `RemoteActor`; when it does not verify, the actor is fetched again once (a rotated
key). An activity id seen before is acknowledged (202) and not applied again.

Each activity is applied in one transaction with its `InboxSeen` row; notifications go through
`rules.notify` (so mutes and blocks apply) and their events are published after commit.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from clawnet.db import run_in_session
from clawnet.models import Profile
from clawnet.models.federation import ApObject, InboxSeen, RemoteActor
from clawnet.settings import Settings
from clawnet.social.federation import delivery, remote, signatures, urls
from clawnet.social.federation.inbox_apply import Applier
from clawnet.social.federation.inbox_base import (
    MAX_BODY,
    NOTE_TYPES,
    Incoming,
    Refused,
    blocked,
    host_of,
    log,
    object_id,
)
from clawnet.social.rules import Outbox

__all__ = ["blocked", "receive"]


# --- receiving -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Signer:
    actor_uri: str
    public_key_pem: str
    key_id: str


def _signer(session: Session, key_id: str) -> _Signer | None:
    row = remote.by_key(session, key_id)
    return (
        _Signer(row.actor_uri, row.public_key_pem, row.key_id)
        if row is not None and row.public_key_pem
        else None
    )


def _seen(session: Session, activity_id: str) -> bool:
    return session.exec(select(InboxSeen.id).where(InboxSeen.activity_id == activity_id)).first() is not None


async def _fetch_signer(settings: Settings, key_id: str) -> _Signer:
    try:
        doc = await remote.fetch_actor(settings, key_id.split("#", 1)[0])
    except remote.RemoteError as exc:
        raise Refused(401, f"The signer's key could not be fetched ({exc}).") from exc
    key = remote.as_dict(doc.get("publicKey"))
    if object_id(key) != key_id and str(doc["id"]) != key_id.split("#", 1)[0]:
        raise Refused(401, "The signer's actor does not publish that key.")
    await run_in_session(lambda s: remote.store_actor(s, settings, doc), settings.database_url)
    pem = key.get("publicKeyPem") if isinstance(key.get("publicKeyPem"), str) else ""
    if not pem:
        raise Refused(401, "The signer has no public key.")
    return _Signer(str(doc["id"]), str(pem), key_id)


async def receive(
    settings: Settings,
    publish: Callable[[Outbox], Awaitable[None]],
    inbox_handle: str | None,
    method: str,
    path_and_query: str,
    headers: Mapping[str, str],
    body: bytes,
) -> tuple[int, str]:
    """Verify, de-duplicate and apply one POSTed activity: (HTTP status, short message)."""
    try:
        return await _receive(settings, publish, inbox_handle, method, path_and_query, headers, body)
    except Refused as refused:
        return refused.status, refused.message


async def _receive(
    settings: Settings,
    publish: Callable[[Outbox], Awaitable[None]],
    inbox_handle: str | None,
    method: str,
    path_and_query: str,
    headers: Mapping[str, str],
    body: bytes,
) -> tuple[int, str]:
    url = settings.database_url
    if not settings.federation_enabled:
        raise Refused(404, "Federation is switched off on this server.")
    if len(body) > MAX_BODY:
        raise Refused(413, "The activity is larger than 1 MiB.")
    try:
        activity = json.loads(body)
    except ValueError as exc:
        raise Refused(400, "The body is not JSON.") from exc
    if not isinstance(activity, dict) or not isinstance(activity.get("type"), str):
        raise Refused(400, "The body is not an activity.")
    activity_id = object_id(activity)
    actor_uri = object_id(activity.get("actor"))
    if not activity_id or not actor_uri:
        raise Refused(400, "The activity needs an id and an actor.")
    if host_of(activity_id) != host_of(actor_uri):
        raise Refused(400, "The activity's id is not on its actor's host.")
    header = headers.get("signature")
    if not header:
        raise Refused(401, "The request is not signed (no Signature header).")
    try:
        params = signatures.parse(header)
    except signatures.SignatureError as exc:
        raise Refused(401, str(exc)) from exc

    def first_look(session: Session) -> tuple[str | None, bool, _Signer | None, bool]:
        host_blocked = blocked(session, {host_of(params.key_id), host_of(actor_uri)})
        seen = _seen(session, activity_id)
        signer = _signer(session, params.key_id)
        inbox_ok = inbox_handle is None or (
            session.exec(
                select(Profile.id).where(Profile.handle == inbox_handle, col(Profile.domain).is_(None))
            ).first()
            is not None
        )
        return host_blocked, seen, signer, inbox_ok

    host_blocked, seen, signer, inbox_ok = await run_in_session(first_look, url)
    if not inbox_ok:
        raise Refused(404, "No such actor here.")
    if host_blocked:
        raise Refused(403, f"{host_blocked} is blocked on this server.")
    fresh = False
    if signer is None and activity["type"] == "Delete" and object_id(activity.get("object")) == actor_uri:
        return 202, "Unknown actor."  # a deleted account we never knew: its key is gone with it
    if signer is None:
        signer = await _fetch_signer(settings, params.key_id)
        fresh = True
    try:
        signatures.verify(method, path_and_query, headers, body, signer.public_key_pem, params=params)
    except signatures.SignatureError as exc:
        if fresh or not str(exc).startswith("The signature does not verify"):
            raise Refused(401, str(exc)) from exc
        signer = await _fetch_signer(settings, params.key_id)  # the key may have rotated
        try:
            signatures.verify(method, path_and_query, headers, body, signer.public_key_pem, params=params)
        except signatures.SignatureError as again:
            raise Refused(401, str(again)) from again
    if signer.actor_uri != actor_uri:
        raise Refused(401, "The activity's actor is not the key's owner.")
    if seen:
        return 202, "Already received."
    incoming = Incoming(activity, signer.actor_uri)
    await _prefetch(settings, incoming)
    outbox = Outbox()

    def apply(session: Session) -> tuple[int, str]:
        if _seen(session, activity_id):
            return 202, "Already received."
        for doc in incoming.fetched:
            remote.store_actor(session, settings, doc)
        try:
            with session.begin_nested():
                session.add(InboxSeen(activity_id=activity_id[:2000]))
                session.flush()
        except IntegrityError:
            return 202, "Already received."
        profile = remote.actor_profile(session, settings, signer.actor_uri)
        if profile is None:
            raise Refused(401, "The signer is unknown.")
        if profile.domain:
            delivery.revive(session, profile.domain)  # a host given up on is back: it wrote to us
        return Applier(session, settings, outbox, profile).apply(incoming)

    result = await run_in_session(apply, url)
    await publish(outbox)
    return result


async def _prefetch(settings: Settings, incoming: Incoming) -> None:
    """Fetch what applying needs and the database does not have: the note a Create names by id,
    the remote note an Announce boosts (with its author)."""
    activity = incoming.activity
    kind = activity.get("type")
    obj = activity.get("object")
    if kind not in ("Create", "Announce") or not isinstance(obj, str):
        return
    if urls.local_post_id(settings, obj) is not None or urls.local_comment_id(settings, obj) is not None:
        return

    def known(session: Session) -> tuple[bool, str | None]:
        return (
            session.exec(select(ApObject.id).where(ApObject.ap_id == obj)).first() is not None,
            blocked(session, {host_of(obj)}),
        )

    have, host_blocked = await run_in_session(known, settings.database_url)
    if have or host_blocked:
        return
    try:
        note = await remote.get_json(settings, obj)
    except remote.RemoteError as exc:
        log.info("inbox: could not fetch %s: %s", obj, exc)
        return
    if note.get("type") not in NOTE_TYPES or object_id(note) != obj:
        return
    author_uri = object_id(note.get("attributedTo"))
    if host_of(author_uri) != host_of(obj):
        return

    def author_known(session: Session) -> bool:
        return (
            session.exec(select(RemoteActor.id).where(RemoteActor.actor_uri == author_uri)).first()
            is not None
        )

    if kind == "Announce" and not await run_in_session(author_known, settings.database_url):
        try:
            incoming.fetched.append(await remote.fetch_actor(settings, author_uri))
        except remote.RemoteError as exc:
            log.info("inbox: could not fetch %s: %s", author_uri, exc)
            return
    incoming.fetched_note = note
