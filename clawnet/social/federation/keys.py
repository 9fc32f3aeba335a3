"""Each local actor's RSA key pair for HTTP Signatures, made on first use.

The public half is served in the actor document; the private half is stored encrypted like every
other secret (`security.secret_fields.ACTOR_PRIVATE_KEY`, so key rotation re-encrypts it) and
decrypted only here, when a delivery is signed.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from clawnet.models import ActorKey, Profile
from clawnet.security.secret_fields import ACTOR_PRIVATE_KEY
from clawnet.settings import Settings
from clawnet.social.federation import urls
from clawnet.social.federation.signatures import new_key_pair


def _row(session: Session, profile: Profile) -> ActorKey:
    """The profile's key row, created (with a fresh key pair) on first use. Two workers creating
    it at once: the second one's insert fails on the unique profile id and it reads the first's."""
    if profile.id is None or profile.domain is not None:
        raise ValueError("Only a local, saved profile has a key pair.")
    found = session.exec(select(ActorKey).where(ActorKey.profile_id == profile.id)).first()
    if found is not None:
        return found
    public_pem, private_pem = new_key_pair()
    row = ActorKey(
        profile_id=profile.id, public_key_pem=public_pem, private_key_enc=ACTOR_PRIVATE_KEY.seal(private_pem)
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        return session.exec(select(ActorKey).where(ActorKey.profile_id == profile.id)).one()
    return row


def public_key(session: Session, settings: Settings, profile: Profile) -> str:
    """The profile's public key (PEM), for its actor document."""
    return _row(session, profile).public_key_pem


def actor_key(session: Session, settings: Settings, profile: Profile) -> tuple[str, str]:
    """(key id, private key PEM) to sign requests as the profile."""
    row = _row(session, profile)
    return urls.key_id(settings, profile.handle), ACTOR_PRIVATE_KEY.unseal(row.private_key_enc)
