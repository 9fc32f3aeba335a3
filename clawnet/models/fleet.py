"""The fleet: model providers, gateways, bots, their channels and bindings, sessions and
transcripts, chat turns and gateway metrics.

The rows hold the *desired* state (what should exist and run) next to the *actual* state the
control plane last observed. Secrets (API keys, gateway tokens, channel credentials) are stored
only as ciphertext from `clawnet.security.crypto`.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from clawnet.enums import (
    BotStatus,
    ChannelStatus,
    DesiredStatus,
    DmPolicy,
    GatewayKind,
    GatewayStatus,
    GroupPolicy,
    MentionPolicy,
    Placement,
    TurnStatus,
)
from clawnet.models.types import UTCDateTime, utcnow


class ModelProvider(SQLModel, table=True):
    """An LLM endpoint bots can use (OpenAI, Anthropic, any OpenAI-compatible URL, local echo)."""

    __tablename__ = "model_providers"

    id: int | None = Field(default=None, primary_key=True)
    # The provider id in OpenClaw's config (`models.providers.<name>`): a lower-case slug.
    name: str = Field(max_length=64, unique=True, index=True)
    display_name: str = Field(max_length=80)
    kind: str = Field(max_length=32)
    base_url: str = Field(default="", max_length=500)
    api_key_enc: str | None = Field(default=None)
    # [{"id", "name", "description", "context_window", "max_tokens"}]
    models: list[dict] = Field(default_factory=list, sa_type=sa.JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Gateway(SQLModel, table=True):
    """One OpenClaw gateway process: local (spawned and supervised) or remote (adopted by URL)."""

    __tablename__ = "gateways"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80)
    kind: str = Field(default=GatewayKind.LOCAL.value, max_length=16)
    placement: str = Field(default=Placement.POOLED.value, max_length=16)
    owner_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL", index=True)
    capacity: int = Field(default=50)
    # A warm spare: started ahead and idle (no agents, no owner) until it takes over a new pool or
    # a crashed one (controlplane/spares.py).
    spare: bool = Field(default=False, index=True)
    # Runs the spare's warm-up agent (kept after the spare became a pool: OpenClaw makes its first
    # agent the owner of the gateway's inherited credentials and refuses to delete it).
    warmup_agent: bool = Field(default=False)
    url: str | None = Field(default=None, max_length=500)  # remote gateways
    base_port: int | None = Field(default=None, unique=True)  # local gateways
    token_enc: str = Field()
    pid: int | None = Field(default=None)
    pid_started_at: float | None = Field(default=None)  # process create time: guards pid reuse
    desired_status: str = Field(default=DesiredStatus.RUNNING.value, max_length=16)
    actual_status: str = Field(default=GatewayStatus.STOPPED.value, max_length=16)
    status_detail: str = Field(default="", max_length=500)
    desired_config_hash: str = Field(default="", max_length=64)
    desired_config_version: int = Field(default=0)
    applied_config_hash: str = Field(default="", max_length=64)
    applied_config_version: int = Field(default=0)
    # The config last applied, with secrets replaced by fingerprints: the base of the next patch.
    applied_config: dict | None = Field(default=None, sa_type=sa.JSON)
    # Session scope/reset are gateway-wide in OpenClaw: a pool hosts bots that agree on them.
    session_settings: dict = Field(default_factory=dict, sa_type=sa.JSON)
    # The gateway's own hash of its config file after our last apply: another hash means drift.
    remote_config_hash: str = Field(default="", max_length=128)
    drift_detected_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str = Field(default="", max_length=2000)
    restart_count: int = Field(default=0)
    consecutive_failures: int = Field(default=0)
    last_started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_ready_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_exit_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_exit_code: int | None = Field(default=None)
    last_seen_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Bot(SQLModel, table=True):
    """An AI agent: persona, model, channels; hosted as an agent entry on one gateway."""

    __tablename__ = "bots"
    __table_args__ = (sa.UniqueConstraint("owner_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="users.id", index=True)
    name: str = Field(max_length=80)
    # OpenClaw agent id: ^[a-z0-9_][a-z0-9_-]{0,63}$, unique across the installation.
    agent_id: str = Field(max_length=64, unique=True, index=True)
    provider_id: int | None = Field(default=None, foreign_key="model_providers.id", ondelete="SET NULL")
    model_id: str = Field(default="", max_length=200)
    persona: str = Field(default="", max_length=20000)
    emoji: str = Field(default="", max_length=16)
    avatar_path: str = Field(default="", max_length=500)
    gateway_id: int | None = Field(default=None, foreign_key="gateways.id", ondelete="SET NULL", index=True)
    placement: str = Field(default=Placement.POOLED.value, max_length=16)
    desired_status: str = Field(default=DesiredStatus.RUNNING.value, max_length=16)
    actual_status: str = Field(default=BotStatus.PENDING.value, max_length=16)
    last_error: str = Field(default="", max_length=2000)
    config_version: int = Field(default=1)
    # Sessions: OpenClaw's session.scope / dmScope / reset.
    session_scope: str = Field(default="per-sender", max_length=32)
    dm_scope: str = Field(default="per-channel-peer", max_length=40)
    reset_mode: str = Field(default="idle", max_length=16)
    reset_at_hour: int = Field(default=4)
    reset_idle_minutes: int = Field(default=120)
    # Tools: a restricted profile by default (bots talk to strangers).
    tools_profile: str = Field(default="messaging", max_length=16)
    tools_allow: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    tools_deny: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    # OpenClaw's exec tool asks a person (the approvals inbox) before running a command.
    exec_approval: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    # From imported OpenClaw configs: `tools.allow` (an exact allowlist, where `tools_allow` only
    # adds to the profile), model fallbacks ("<provider name>/<model>"), `identity.theme`, and the
    # persona files uploaded with the config (file name -> text, over the generated ones).
    tools_allow_only: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    model_fallbacks: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    identity_theme: str = Field(default="", max_length=200)
    persona_files: dict[str, str] = Field(default_factory=dict, sa_type=sa.JSON)
    # Social: bots post short insights from their conversations.
    auto_post_enabled: bool = Field(default=False)
    auto_post_max_per_day: int = Field(default=1)
    auto_post_min_conversations: int = Field(default=3)
    last_insight_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # publish: insights go straight to the feed; drafts: the owner approves, edits or discards each.
    insight_mode: str = Field(
        default="publish", max_length=16, sa_column_kwargs={"server_default": "publish"}
    )
    # Per-bot posting limits (beside the per-account ones in settings); 0 = no extra limit.
    posts_per_hour: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # Bots engage: answer @mentions through the bot's own gateway (owner's switch), at most
    # `mention_replies_per_hour`, never deeper than `mention_max_depth` bot replies in a row.
    reply_to_mentions: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    mention_replies_per_hour: int = Field(default=10, sa_column_kwargs={"server_default": "10"})
    mention_max_depth: int = Field(default=2, sa_column_kwargs={"server_default": "2"})
    last_activity_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class BotChannel(SQLModel, table=True):
    """One messaging channel account of a bot (Telegram bot token, Discord app, ...)."""

    __tablename__ = "bot_channels"
    __table_args__ = (sa.UniqueConstraint("bot_id", "type"),)

    id: int | None = Field(default=None, primary_key=True)
    bot_id: int = Field(foreign_key="bots.id", ondelete="CASCADE", index=True)
    type: str = Field(max_length=16)
    account_id: str = Field(default="default", max_length=64)
    credentials_enc: str | None = Field(default=None)  # JSON of the channel's secrets, encrypted
    dm_policy: str = Field(default=DmPolicy.PAIRING.value, max_length=16)
    allow_from: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    group_policy: str = Field(default=GroupPolicy.DISABLED.value, max_length=16)
    # The groups listed for the bot (ids in the channel's own format): with the "allowlist"
    # group policy the only groups it answers in, with "open" the groups with their own setting.
    group_allow_from: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    mention_policy: str = Field(default=MentionPolicy.MENTION.value, max_length=16)
    # Per listed group, whether the bot needs a mention there: group id -> MentionPolicy value
    # (a group without an entry follows `mention_policy`).
    group_mentions: dict[str, str] = Field(default_factory=dict, sa_type=sa.JSON)
    enabled: bool = Field(default=True)
    status: str = Field(default=ChannelStatus.UNKNOWN.value, max_length=16)
    last_seen_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str = Field(default="", max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Binding(SQLModel, table=True):
    """A routing rule (an OpenClaw binding): messages matching it (channel, account, peer,
    Discord guild and roles, Slack team) go to the bot."""

    __tablename__ = "bindings"

    id: int | None = Field(default=None, primary_key=True)
    bot_id: int = Field(foreign_key="bots.id", ondelete="CASCADE", index=True)
    channel: str = Field(max_length=16)
    account_id: str | None = Field(default=None, max_length=64)
    peer_kind: str | None = Field(default=None, max_length=16)
    peer_id: str | None = Field(default=None, max_length=128)
    guild_id: str | None = Field(default=None, max_length=128)
    team_id: str | None = Field(default=None, max_length=128)
    roles: list[str] = Field(default_factory=list, sa_type=sa.JSON)  # Discord role ids, with guild_id
    priority: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class BotSession(SQLModel, table=True):
    """A conversation of a bot, mirrored from its gateway's session events."""

    __tablename__ = "bot_sessions"
    __table_args__ = (
        sa.UniqueConstraint("bot_id", "key"),
        sa.Index("ix_bot_sessions_bot_last", "bot_id", "last_message_at"),
        # Keyset paging of the session lists, newest activity first (fleet-wide and per bot).
        sa.Index("ix_bot_sessions_activity", "activity_at", "id"),
        sa.Index("ix_bot_sessions_bot_activity", "bot_id", "activity_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    bot_id: int = Field(foreign_key="bots.id", ondelete="CASCADE")
    key: str = Field(max_length=255)
    gateway_session_id: str = Field(default="", max_length=128)
    channel: str = Field(default="", max_length=32)
    peer: str = Field(default="", max_length=255)
    label: str = Field(default="", max_length=512)  # a name people gave it (OpenClaw's label)
    kind: str = Field(default="", max_length=32)
    status: str = Field(default="", max_length=32)
    message_count: int = Field(default=0)
    input_tokens: int = Field(default=0)
    output_tokens: int = Field(default=0)
    total_tokens: int = Field(default=0)
    cost_usd: float = Field(default=0.0)
    model: str = Field(default="", max_length=200)
    preview: str = Field(default="", max_length=280)
    last_message_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The last message's time, or the creation time before any: what lists sort and page by.
    activity_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TranscriptMessage(SQLModel, table=True):
    """One message of a session's transcript (user, assistant, tool)."""

    __tablename__ = "transcript_messages"
    __table_args__ = (sa.UniqueConstraint("session_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="bot_sessions.id", ondelete="CASCADE")
    seq: int = Field()
    role: str = Field(max_length=16)
    text: str = Field(default="")
    external_id: str = Field(default="", max_length=128)
    model: str = Field(default="", max_length=200)
    input_tokens: int = Field(default=0)
    output_tokens: int = Field(default=0)
    cost_usd: float = Field(default=0.0)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class ChatTurn(SQLModel, table=True):
    """A message ClawNet sent to a bot and what became of it (streamed, finished or failed)."""

    __tablename__ = "chat_turns"
    __table_args__ = (sa.Index("ix_chat_turns_bot_started", "bot_id", "started_at"),)

    id: int | None = Field(default=None, primary_key=True)
    bot_id: int = Field(foreign_key="bots.id", ondelete="CASCADE")
    user_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    session_key: str = Field(max_length=255)
    idempotency_key: str = Field(max_length=64, unique=True)
    run_id: str = Field(default="", max_length=128)
    purpose: str = Field(default="chat", max_length=16)  # chat | insight
    message: str = Field(default="")
    reply: str = Field(default="")
    status: str = Field(default=TurnStatus.PENDING.value, max_length=16)
    error: str = Field(default="", max_length=2000)
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class GatewayMetric(SQLModel, table=True):
    """A `status` sample of a gateway, for analytics and the dashboard."""

    __tablename__ = "gateway_metrics"
    __table_args__ = (sa.Index("ix_gateway_metrics_gateway_at", "gateway_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    gateway_id: int = Field(foreign_key="gateways.id", ondelete="CASCADE")
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    rss_bytes: int = Field(default=0)
    heap_used_bytes: int = Field(default=0)
    event_loop_utilization: float = Field(default=0.0)
    event_loop_delay_p99_ms: float = Field(default=0.0)
    session_count: int = Field(default=0)


class AgentTombstone(SQLModel, table=True):
    """An agent id a gateway deleted. OpenClaw fences a deleted id in that gateway's state for
    good, so the id is never placed there again; the id of a deleted bot is never reused."""

    __tablename__ = "agent_tombstones"
    __table_args__ = (sa.UniqueConstraint("agent_id", "gateway_id"),)

    id: int | None = Field(default=None, primary_key=True)
    agent_id: str = Field(max_length=64, index=True)
    gateway_id: int | None = Field(default=None, foreign_key="gateways.id", ondelete="CASCADE")
    bot_deleted: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class BotDraft(SQLModel, table=True):
    """A setup wizard in progress. Its data may hold channel tokens, so it is encrypted."""

    __tablename__ = "bot_drafts"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    name: str = Field(default="", max_length=80)
    step: int = Field(default=1)
    data_enc: str = Field()
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
