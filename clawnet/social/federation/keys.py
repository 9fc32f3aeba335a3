"""THROWAWAY stand-in for part A's keys.py (branch fed-fedB only, so part B's tests run): drop at
merge in favour of part A's module. Same interface: `actor_key(session, settings, profile)`."""

from __future__ import annotations

from sqlmodel import Session, select

from clawnet.models import Profile
from clawnet.models.federation import ActorKey
from clawnet.security import crypto
from clawnet.settings import Settings
from clawnet.social.federation import signatures, urls


def _context(profile_id: int) -> str:
    return f"ap-actor-key:{profile_id}"


def actor_key(session: Session, settings: Settings, profile: Profile) -> tuple[str, str]:
    """(key id, private PEM) of a local profile, the pair made on first use."""
    assert profile.id is not None
    row = session.exec(select(ActorKey).where(ActorKey.profile_id == profile.id)).first()
    if row is None:
        public, private = signatures.new_key_pair()
        row = ActorKey(
            profile_id=profile.id,
            public_key_pem=public,
            private_key_enc=crypto.encrypt(private, _context(profile.id)),
        )
        session.add(row)
        session.flush()
    return urls.key_id(settings, profile.handle), crypto.decrypt(row.private_key_enc, _context(profile.id))


def public_key(session: Session, settings: Settings, profile: Profile) -> str:
    actor_key(session, settings, profile)
    row = session.exec(select(ActorKey).where(ActorKey.profile_id == profile.id)).one()
    return row.public_key_pem
