"""The columns that hold encrypted secrets, and sealing/unsealing values for them.

Each column has its own encryption context, so a ciphertext copied into another column does not
decrypt. Key rotation walks exactly this list: a new secret column must be added here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlmodel import SQLModel

from clawnet.models import (
    ActorKey,
    AlertSettings,
    BackupSettings,
    BotChannel,
    BotDraft,
    Gateway,
    ModelProvider,
    User,
)
from clawnet.models.federation import InstanceKey
from clawnet.security import crypto
from clawnet.security.crypto import SecretError


@dataclass(frozen=True)
class SecretField:
    model: type[SQLModel]
    column: str
    context: str

    def seal(self, plaintext: str) -> str:
        return crypto.encrypt(plaintext, self.context)

    def unseal(self, token: str) -> str:
        return crypto.decrypt(token, self.context)


PROVIDER_API_KEY = SecretField(ModelProvider, "api_key_enc", "model_providers.api_key")
GATEWAY_TOKEN = SecretField(Gateway, "token_enc", "gateways.token")
CHANNEL_CREDENTIALS = SecretField(BotChannel, "credentials_enc", "bot_channels.credentials")
DRAFT_DATA = SecretField(BotDraft, "data_enc", "bot_drafts.data")

ALERT_WEBHOOK_SECRET = SecretField(AlertSettings, "webhook_secret_enc", "alert_settings.webhook_secret")

BACKUP_PASSPHRASE = SecretField(BackupSettings, "passphrase_enc", "backup_settings.passphrase")

TOTP_SECRET = SecretField(User, "totp_secret_enc", "users.totp_secret")

# A local ActivityPub actor's private key (HTTP Signatures), PKCS#8 PEM.
ACTOR_PRIVATE_KEY = SecretField(ActorKey, "private_key_enc", "ap_actor_keys.private_key")
# The instance actor's private key (signed fetches), PKCS#8 PEM.
INSTANCE_PRIVATE_KEY = SecretField(InstanceKey, "private_key_enc", "ap_instance_keys.private_key")

ALL_SECRET_FIELDS = (
    PROVIDER_API_KEY,
    GATEWAY_TOKEN,
    CHANNEL_CREDENTIALS,
    DRAFT_DATA,
    ALERT_WEBHOOK_SECRET,
    BACKUP_PASSPHRASE,
    TOTP_SECRET,
    ACTOR_PRIVATE_KEY,
    INSTANCE_PRIVATE_KEY,
)


def seal_json(field: SecretField, data: dict[str, str]) -> str:
    return field.seal(json.dumps(data, sort_keys=True))


def unseal_json(field: SecretField, token: str | None) -> dict[str, str]:
    if not token:
        return {}
    value = json.loads(field.unseal(token))
    if not isinstance(value, dict):
        raise SecretError(f"The secret in {field.context} is not a JSON object.")
    return {str(k): str(v) for k, v in value.items()}
