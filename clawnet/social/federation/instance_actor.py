"""The instance actor: the server itself as an ActivityPub `Application`, whose key signs every
GET this instance sends ("authorized fetch").

Mastodon in secure mode (AUTHORIZED_FETCH) and GoToSocial refuse unsigned fetches of actors and
notes; like Mastodon, ClawNet signs them as an actor that stands for the whole server rather than
for any one profile:

    actor   {base}/ap/actor          Application, preferredUsername = the host
    key     {base}/ap/actor#main-key
    inbox   {base}/ap/actor/inbox    accepts (202) and ignores
    outbox  {base}/ap/actor/outbox   always empty
    WebFinger acct:{host}@{host}

Its RSA key pair is made on first use and kept in one `InstanceKey` row, the private half
encrypted (`security.secret_fields.INSTANCE_PRIVATE_KEY`, so `clawnet rotate-key` re-encrypts
it). `signed_get_headers` loads it off the event loop once per database and keeps it in memory.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from clawnet.db import run_in_session
from clawnet.models.federation import InstanceKey
from clawnet.security.secret_fields import INSTANCE_PRIVATE_KEY
from clawnet.settings import Settings
from clawnet.social.federation import signatures, urls
from clawnet.social.federation.documents import CONTEXT

ACTOR_PATH = f"{urls.AP_PREFIX}/actor"
INBOX_PATH = ACTOR_PATH + "/inbox"
OUTBOX_PATH = ACTOR_PATH + "/outbox"
ACTIVITY_JSON = "application/activity+json"
_ROW_ID = 1

# (database url, actor id) -> (key id, private key PEM): the key never changes once made (a
# rotation of the secret key re-encrypts it, the plaintext stays the same).
_signing_keys: dict[tuple[str, str], tuple[str, str]] = {}


def actor_id(settings: Settings) -> str:
    return urls.base(settings) + ACTOR_PATH


def key_id(settings: Settings) -> str:
    return actor_id(settings) + "#main-key"


def username(settings: Settings) -> str:
    """The instance actor's preferredUsername: the host, as Mastodon names its own."""
    return settings.federation_host


def _row(session: Session) -> InstanceKey:
    """The key row, created (with a fresh key pair) on first use. Two workers creating it at once:
    the second one's insert fails on the fixed primary key and it reads the first's."""
    found = session.get(InstanceKey, _ROW_ID)
    if found is not None:
        return found
    public_pem, private_pem = signatures.new_key_pair()
    row = InstanceKey(
        id=_ROW_ID, public_key_pem=public_pem, private_key_enc=INSTANCE_PRIVATE_KEY.seal(private_pem)
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        return session.exec(select(InstanceKey).where(InstanceKey.id == _ROW_ID)).one()
    return row


def public_key(session: Session) -> str:
    return _row(session).public_key_pem


def private_key(session: Session) -> str:
    """The private key (PEM), decrypted: for signing only."""
    return INSTANCE_PRIVATE_KEY.unseal(_row(session).private_key_enc)


def document(session: Session, settings: Settings) -> dict[str, Any]:
    """The instance actor's document (served to anyone, signed fetch or not)."""
    actor = actor_id(settings)
    base = urls.base(settings)
    return {
        "@context": CONTEXT,
        "id": actor,
        "type": "Application",
        "preferredUsername": username(settings),
        "name": username(settings),
        "summary": "The ClawNet server itself: it signs this server's requests to other servers.",
        "url": base + "/",
        "inbox": base + INBOX_PATH,
        "outbox": base + OUTBOX_PATH,
        "endpoints": {"sharedInbox": urls.shared_inbox(settings)},
        "manuallyApprovesFollowers": True,
        "discoverable": False,
        "publicKey": {"id": key_id(settings), "owner": actor, "publicKeyPem": public_key(session)},
    }


def outbox(settings: Settings) -> dict[str, Any]:
    return {
        "@context": CONTEXT[0],
        "id": urls.base(settings) + OUTBOX_PATH,
        "type": "OrderedCollection",
        "totalItems": 0,
        "orderedItems": [],
    }


def names_instance(settings: Settings, resource: str) -> bool:
    """Whether a WebFinger resource names the instance actor: `acct:{host}@{host}` (or without
    `acct:`), or its id."""
    resource = resource.strip()
    if resource.split("#", 1)[0] == actor_id(settings):
        return True
    account = resource[len("acct:") :] if resource.lower().startswith("acct:") else resource
    user, _, host = account.lstrip("@").rpartition("@")
    host_name = settings.federation_host.lower()
    return user.lower() == host_name and host.lower() == host_name


def webfinger(settings: Settings) -> dict[str, Any]:
    actor = actor_id(settings)
    return {
        "subject": f"acct:{username(settings)}@{settings.federation_host}",
        "aliases": [actor],
        "links": [
            {
                "rel": "http://webfinger.net/rel/profile-page",
                "type": "text/html",
                "href": urls.base(settings) + "/",
            },
            {"rel": "self", "type": ACTIVITY_JSON, "href": actor},
        ],
    }


async def served_document(settings: Settings) -> dict[str, Any]:
    """`document`, its database work off the event loop."""
    return await run_in_session(lambda s: document(s, settings), settings.database_url)


async def signing_key(settings: Settings) -> tuple[str, str]:
    """(key id, private key PEM) of the instance actor, made on first use, then from memory (two
    first fetches at once both read it; the row is made once)."""
    cache_key = (settings.database_url, actor_id(settings))
    found = _signing_keys.get(cache_key)
    if found is None:
        pem = await run_in_session(private_key, settings.database_url)
        found = _signing_keys[cache_key] = (key_id(settings), pem)
    return found


async def signed_get_headers(settings: Settings, url: str) -> dict[str, str]:
    """Host, Date and Signature for a GET of exactly `url`, signed as the instance actor over
    `(request-target) host date`."""
    key, pem = await signing_key(settings)
    return signatures.sign("GET", url, None, key, pem)


def forget_signing_keys() -> None:
    """Drop the keys kept in memory (tests that swap databases or rows)."""
    _signing_keys.clear()
