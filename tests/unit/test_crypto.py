"""Secrets at rest: AES-256-GCM round trips, refuses tampering, and rotates without loss."""

from __future__ import annotations

import base64
import stat

import pytest
from sqlmodel import select

from clawnet import db
from clawnet.models import BotChannel, Gateway, ModelProvider
from clawnet.security import crypto
from clawnet.security.crypto import KeyRing, SecretError, UnknownKeyError
from clawnet.security.key_rotation import key_ids_in_use, rotate_key
from clawnet.security.secret_fields import (
    CHANNEL_CREDENTIALS,
    GATEWAY_TOKEN,
    PROVIDER_API_KEY,
    seal_json,
    unseal_json,
)
from clawnet.settings import get_settings


def test_round_trip_returns_the_plaintext_and_hides_it():
    ring = KeyRing.with_keys(crypto.generate_key())
    token = ring.encrypt("sk-live-123", "model_providers.api_key")
    assert "sk-live-123" not in token
    assert token.startswith(f"cn1:{ring.active_id}:")
    assert ring.decrypt(token, "model_providers.api_key") == "sk-live-123"


def test_same_plaintext_encrypts_differently_each_time():
    ring = KeyRing.with_keys(crypto.generate_key())
    assert ring.encrypt("x", "c") != ring.encrypt("x", "c")


@pytest.mark.parametrize("position", [0, 5, -1])
def test_tampered_ciphertext_is_refused_with_a_clear_error(position: int):
    ring = KeyRing.with_keys(crypto.generate_key())
    token = ring.encrypt("bot-token", "bot_channels.credentials")
    prefix, kid, blob = token.split(":")
    raw = bytearray(base64.urlsafe_b64decode(blob + "=" * (-len(blob) % 4)))
    raw[position] ^= 0x01
    tampered = f"{prefix}:{kid}:{base64.urlsafe_b64encode(bytes(raw)).decode().rstrip('=')}"
    with pytest.raises(SecretError, match="integrity check"):
        ring.decrypt(tampered, "bot_channels.credentials")


def test_ciphertext_moved_to_another_column_is_refused():
    ring = KeyRing.with_keys(crypto.generate_key())
    token = ring.encrypt("gateway-token", "gateways.token")
    with pytest.raises(SecretError, match="integrity check"):
        ring.decrypt(token, "model_providers.api_key")


def test_unknown_key_and_garbage_are_refused_by_name():
    ring = KeyRing.with_keys(crypto.generate_key())
    other = KeyRing.with_keys(crypto.generate_key())
    with pytest.raises(UnknownKeyError, match=other.active_id):
        ring.decrypt(other.encrypt("x", "c"), "c")
    with pytest.raises(SecretError, match="not a ClawNet ciphertext"):
        ring.decrypt("plaintext-token", "c")


def test_key_file_is_generated_once_with_owner_only_permissions(clawnet_env):
    settings = get_settings()
    ring = crypto.get_key_ring()
    assert settings.key_file.exists()
    assert stat.S_IMODE(settings.key_file.stat().st_mode) == 0o600
    crypto.set_key_ring(None)
    assert crypto.get_key_ring().active_id == ring.active_id


def test_key_file_readable_by_others_is_refused(clawnet_env):
    crypto.get_key_ring()
    key_file = get_settings().key_file
    key_file.chmod(0o644)
    crypto.set_key_ring(None)
    with pytest.raises(SecretError, match="chmod 600"):
        crypto.get_key_ring()


def test_key_from_environment_is_used_and_validated(clawnet_env, monkeypatch):
    key = crypto.generate_key()
    monkeypatch.setenv("CLAWNET_SECRET_KEY", base64.b64encode(key).decode())
    get_settings.cache_clear()
    crypto.set_key_ring(None)
    assert crypto.get_key_ring().active_id == crypto.key_id_for(key)
    assert not get_settings().key_file.exists()
    monkeypatch.setenv("CLAWNET_SECRET_KEY", base64.b64encode(b"short").decode())
    get_settings.cache_clear()
    crypto.set_key_ring(None)
    with pytest.raises(SecretError, match="32 bytes"):
        crypto.get_key_ring()


def _store_one_secret_of_each_kind() -> None:
    with db.session_scope() as s:
        from clawnet.accounts.registration import register

        owner = register(
            s, email="o@example.com", display_name="O", password="a-long-password", handle="owner"
        )
        s.add(
            ModelProvider(
                name="openai", display_name="OpenAI", kind="openai", api_key_enc=PROVIDER_API_KEY.seal("sk-1")
            )
        )
        gw = Gateway(name="pool", token_enc=GATEWAY_TOKEN.seal("gw-token"), base_port=18800)
        s.add(gw)
        from clawnet.models import Bot

        bot = Bot(owner_id=owner.id, name="B", agent_id="b")
        s.add(bot)
        s.flush()
        s.add(
            BotChannel(
                bot_id=bot.id,
                type="telegram",
                credentials_enc=seal_json(CHANNEL_CREDENTIALS, {"botToken": "123:abc"}),
            )
        )


def _plaintexts() -> tuple[str, str, dict[str, str]]:
    with db.session_scope() as s:
        provider = s.exec(select(ModelProvider)).one()
        gateway = s.exec(select(Gateway)).one()
        channel = s.exec(select(BotChannel)).one()
        return (
            PROVIDER_API_KEY.unseal(provider.api_key_enc),
            GATEWAY_TOKEN.unseal(gateway.token_enc),
            unseal_json(CHANNEL_CREDENTIALS, channel.credentials_enc),
        )


def test_rotation_reencrypts_every_secret_with_the_new_key_and_loses_nothing(migrated):
    _store_one_secret_of_each_kind()
    old_id = crypto.get_key_ring().active_id
    before = _plaintexts()
    report = rotate_key(get_settings())
    assert report.total == 3
    assert report.new_key_id != old_id
    with db.session_scope() as s:
        assert key_ids_in_use(s) == {report.new_key_id}
    assert _plaintexts() == before
    # A fresh process reading the key file decrypts everything with the new active key.
    crypto.set_key_ring(None)
    assert crypto.get_key_ring().active_id == report.new_key_id
    assert old_id in crypto.get_key_ring().keys  # kept for backups unless --drop-old
    assert _plaintexts() == before


def test_rotation_with_drop_old_forgets_keys_no_secret_uses(migrated):
    _store_one_secret_of_each_kind()
    old_id = crypto.get_key_ring().active_id
    report = rotate_key(get_settings(), drop_old=True)
    crypto.set_key_ring(None)
    assert set(crypto.get_key_ring().keys) == {report.new_key_id}
    assert old_id not in crypto.get_key_ring().keys
    assert _plaintexts()[0] == "sk-1"


def test_rotation_stops_without_changes_when_a_secret_is_tampered(migrated):
    _store_one_secret_of_each_kind()
    with db.session_scope() as s:
        gw = s.exec(select(Gateway)).one()
        gw.token_enc = gw.token_enc[:-4] + ("AAAA" if not gw.token_enc.endswith("AAAA") else "BBBB")
        s.add(gw)
    with db.session_scope() as s:
        before = {p.api_key_enc for p in s.exec(select(ModelProvider))}
    with pytest.raises(SecretError):
        rotate_key(get_settings())
    with db.session_scope() as s:
        assert {p.api_key_enc for p in s.exec(select(ModelProvider))} == before


def test_another_process_rotation_is_picked_up_from_the_key_file(migrated):
    _store_one_secret_of_each_kind()
    stale = crypto.get_key_ring()
    rotate_key(get_settings())
    crypto.set_key_ring(
        KeyRing(keys={stale.active_id: stale.keys[stale.active_id]}, active_id=stale.active_id)
    )
    assert _plaintexts()[1] == "gw-token"
