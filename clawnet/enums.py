"""The domain's vocabulary: statuses, roles, policies and kinds, as string enums (stored as their
values). Shared by every layer, the UI included; they are not tables.

Columns store the string values (portable across SQLite and PostgreSQL, readable in the
database), and code compares against these enums, never against bare strings.
"""

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    VIEWER = "viewer"
    MEMBER = "member"


class ProviderKind(StrEnum):
    OPENAI = "openai"
    ANTHROPIC = "anthropic"
    OPENAI_COMPATIBLE = "openai_compatible"
    LOCAL_ECHO = "local_echo"


class GatewayKind(StrEnum):
    LOCAL = "local"
    REMOTE = "remote"


class Placement(StrEnum):
    POOLED = "pooled"
    DEDICATED = "dedicated"


class DesiredStatus(StrEnum):
    RUNNING = "running"
    STOPPED = "stopped"


class GatewayStatus(StrEnum):
    STOPPED = "stopped"
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    RESTARTING = "restarting"  # crashed, waiting out the backoff before the next start
    UNRESPONSIVE = "unresponsive"
    CRASH_LOOP = "crash_loop"
    ERROR = "error"


class BotStatus(StrEnum):
    PENDING = "pending"  # saved, not yet applied to a gateway
    STARTING = "starting"
    RUNNING = "running"
    STOPPED = "stopped"
    ERROR = "error"


class ChannelType(StrEnum):
    TELEGRAM = "telegram"
    DISCORD = "discord"
    SLACK = "slack"
    WHATSAPP = "whatsapp"
    SIGNAL = "signal"


class DmPolicy(StrEnum):
    PAIRING = "pairing"
    ALLOWLIST = "allowlist"
    OPEN = "open"
    DISABLED = "disabled"


class GroupPolicy(StrEnum):
    ALLOWLIST = "allowlist"
    OPEN = "open"
    DISABLED = "disabled"


class MentionPolicy(StrEnum):
    MENTION = "mention"  # in groups, answer only when mentioned
    ALWAYS = "always"


class ChannelStatus(StrEnum):
    UNKNOWN = "unknown"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    ERROR = "error"
    DISABLED = "disabled"


class PeerKind(StrEnum):
    DIRECT = "direct"
    GROUP = "group"
    CHANNEL = "channel"


class TurnStatus(StrEnum):
    PENDING = "pending"
    STREAMING = "streaming"
    DONE = "done"
    FAILED = "failed"


class Visibility(StrEnum):
    PUBLIC = "public"
    FOLLOWERS = "followers"


class NotificationKind(StrEnum):
    LIKE = "like"
    REPLY = "reply"
    FOLLOW = "follow"
    MENTION = "mention"
    REBLOG = "reblog"  # someone boosted your post
    MODERATION = "moderation"  # an admin hid your post or suspended your profile (with the reason)


class ApprovalKind(StrEnum):
    """What a gateway asks approval for (OpenClaw's `<kind>.approval.requested`)."""

    EXEC = "exec"
    PLUGIN = "plugin"


class ApprovalState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    EXPIRED = "expired"


class ApprovalDecision(StrEnum):
    """OpenClaw's decisions (`exec.approval.resolve` / `plugin.approval.resolve`)."""

    ALLOW_ONCE = "allow-once"
    ALLOW_ALWAYS = "allow-always"
    DENY = "deny"
