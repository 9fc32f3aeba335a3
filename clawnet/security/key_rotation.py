"""Key rotation: re-encrypt every stored secret with a new key, losing nothing.

Order of operations (each step leaves a working installation if the next one never happens):
1. the new key is added to the key file, still inactive, so every process can read what step 2
   writes;
2. one database transaction re-encrypts every secret with the new key (all or nothing);
3. the key file makes the new key active. Old keys stay (retired) unless `drop_old` is set and no
   stored secret still names them.
With keys from the environment, step 1 and 3 are the operator's: the command prints what to set.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from clawnet.db import session_scope
from clawnet.security import crypto
from clawnet.security.crypto import KeyRing
from clawnet.security.secret_fields import ALL_SECRET_FIELDS
from clawnet.settings import Settings


@dataclass
class RotationReport:
    new_key_id: str
    reencrypted: dict[str, int]
    old_key_ids: list[str]

    @property
    def total(self) -> int:
        return sum(self.reencrypted.values())


def reencrypt_all(session: Session, old: KeyRing, new: KeyRing) -> dict[str, int]:
    """Decrypt every stored secret with `old` and encrypt it with `new`'s active key, in the
    caller's transaction. Raises SecretError (and changes nothing once rolled back) if any
    secret cannot be decrypted."""
    counts: dict[str, int] = {}
    for field in ALL_SECRET_FIELDS:
        column = getattr(field.model, field.column)
        rows = session.exec(select(field.model).where(sa.and_(column.is_not(None), column != ""))).all()
        for row in rows:
            token = getattr(row, field.column)
            setattr(row, field.column, new.encrypt(old.decrypt(token, field.context), field.context))
            if hasattr(row, "updated_at"):
                row.updated_at = datetime.now(UTC)
            session.add(row)
        counts[field.context] = len(rows)
    return counts


def key_ids_in_use(session: Session) -> set[str]:
    used: set[str] = set()
    for field in ALL_SECRET_FIELDS:
        column = getattr(field.model, field.column)
        for token in session.exec(select(column).where(sa.and_(column.is_not(None), column != ""))):
            used.add(token.split(":", 2)[1] if token.count(":") >= 2 else "?")
    return used


def rotate_key(settings: Settings, new_key: bytes | None = None, *, drop_old: bool = False) -> RotationReport:
    """Rotate to `new_key` (default: a fresh random key). See the module docstring."""
    new_key = new_key or crypto.generate_key()
    old = crypto.load_key_ring(settings.secret_key, settings.previous_secret_keys, settings.key_file)
    new_id = crypto.key_id_for(new_key)
    all_keys = {**old.keys, new_id: new_key}
    file_mode = not settings.secret_key
    if file_mode:
        crypto.write_key_file(settings.key_file, KeyRing(keys=dict(all_keys), active_id=old.active_id))
    new = KeyRing(keys=dict(all_keys), active_id=new_id)
    with session_scope(settings.database_url) as session:
        counts = reencrypt_all(session, old, new)
    old_ids = sorted(kid for kid in old.keys if kid != new_id)
    if drop_old:
        with session_scope(settings.database_url) as session:
            used = key_ids_in_use(session)
        new.keys = {kid: key for kid, key in new.keys.items() if kid == new_id or kid in used}
    if file_mode:
        crypto.write_key_file(settings.key_file, new)
    crypto.set_key_ring(new)
    return RotationReport(new_key_id=new_id, reencrypted=counts, old_key_ids=old_ids)
