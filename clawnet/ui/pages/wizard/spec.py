"""What the wizard shows, written once: its steps, the channels and the credential fields each
needs (labels and hints per "<channel>.<field>"), the choices of every select, and which step
each field of the form (and each error key of the service) belongs to. No Reflex here."""

from __future__ import annotations

from dataclasses import dataclass

from clawnet.bots.editing import PLAIN_CREDENTIALS

STEPS = ("Basics", "Channels", "Access", "Advanced", "Review")
REVIEW_STEP = len(STEPS)
LAUNCH_STEP = REVIEW_STEP + 1

CHANNEL_INFO: dict[str, tuple[str, str]] = {
    "telegram": ("Telegram", "A bot made with @BotFather."),
    "discord": ("Discord", "A bot application from the Discord Developer Portal."),
    "slack": ("Slack", "A Slack app with Socket Mode."),
    "whatsapp": ("WhatsApp", "Pair a phone by scanning a QR code once the bot runs."),
    "signal": ("Signal", "A phone number registered with signal-cli."),
}


@dataclass(frozen=True)
class CredentialField:
    key: str  # "<channel>.<field>", as the service's `creds` and error keys name it
    label: str
    hint: str
    choices: tuple[tuple[str, str], ...] = ()  # a select instead of a text field
    choice_hints: tuple[tuple[str, str], ...] = ()  # what each choice needs (instead of `hint`)

    @property
    def channel(self) -> str:
        return self.key.partition(".")[0]

    @property
    def secret(self) -> bool:
        """False for a setting among the credentials: shown as typed, and as stored when editing."""
        return self.key not in PLAIN_CREDENTIALS

    @property
    def testid(self) -> str:
        return "wizard-cred-" + self.key.replace(".", "-").lower()


CREDENTIAL_FIELDS = (
    CredentialField("telegram.botToken", "Bot token", "From @BotFather: /newbot, then copy the token."),
    CredentialField("discord.token", "Bot token", "Developer Portal → your app → Bot → Reset Token."),
    CredentialField("discord.applicationId", "Application id", "Developer Portal → General Information."),
    CredentialField("slack.botToken", "Bot token (xoxb-…)", "OAuth & Permissions → Bot User OAuth Token."),
    CredentialField(
        "slack.appToken",
        "App-level token (xapp-…)",
        "Basic Information → App-Level Tokens (connections:write).",
    ),
    CredentialField(
        "slack.signingSecret", "Signing secret (optional)", "Basic Information → App Credentials."
    ),
    CredentialField("signal.account", "Signal number", "International format, like +15555550123."),
    CredentialField(
        "signal.transport",
        "How the gateway reaches signal-cli",
        "OpenClaw does not include Signal: signal-cli must run with this number registered or linked.",
        choices=(
            ("managed-native", "The gateway starts signal-cli (installed on the gateway's machine)"),
            ("external-native", "A signal-cli daemon you run (signal-cli -a <number> daemon --http …)"),
            ("container", "The signal-cli-rest-api container (MODE=json-rpc)"),
        ),
        choice_hints=(
            (
                "managed-native",
                "signal-cli must be installed on the gateway's machine (on its PATH) with this number "
                "registered (signal-cli -a <number> register, then verify) or linked to a phone "
                "(signal-cli link); the gateway starts it on 127.0.0.1:8080.",
            ),
            (
                "external-native",
                "Run signal-cli's HTTP daemon with this number registered or linked: signal-cli -a "
                "<number> daemon --http 127.0.0.1:8080. The gateway uses its JSON-RPC (/api/v1/rpc) "
                "and its event stream (/api/v1/events).",
            ),
            (
                "container",
                "Run bbernhard/signal-cli-rest-api with MODE=json-rpc and this number registered or "
                "linked inside it. The gateway sends through /v2/send and receives on the "
                "/v1/receive WebSocket.",
            ),
        ),
    ),
    CredentialField(
        "signal.url",
        "signal-cli address",
        "Where the daemon or container listens, like http://127.0.0.1:8080 (not needed when the "
        "gateway starts signal-cli).",
    ),
)
# The channels whose credentials can be tried before the bot exists ("Test connection").
TESTABLE_CHANNELS = {
    "telegram": "Test connection",
    "discord": "Test connection",
    "slack": "Test connection",
    "signal": "Check signal-cli",
}
CREDENTIAL_KEYS = frozenset(f.key for f in CREDENTIAL_FIELDS)
PLAIN_KEYS = PLAIN_CREDENTIALS
CREDENTIAL_MAX_CHARS = 500

ALLOW_PLACEHOLDERS = {
    "telegram": "111111111 or @username",
    "whatsapp": "+15555550123",
    "signal": "+15555550123",
    "discord": "Discord user id (digits)",
    "slack": "U0123ABCD",
}
ALLOW_MAX_ENTRIES = 200
ALLOW_ENTRY_MAX_CHARS = 64

PERSONA_EXAMPLES = {
    "Support": "You are a patient support assistant for our product. Answer from what you know, ask one "
    "clarifying question when a request is unclear, and say so when you cannot help.",
    "Concierge": "You are a warm concierge for our community. Greet newcomers, point them to the right "
    "channels, and keep answers short and friendly.",
    "Tutor": "You are a tutor who explains ideas step by step with small examples, then checks "
    "understanding with one question.",
}

Options = list[tuple[str, str]]
DM_POLICIES: Options = [
    ("pairing", "Pairing: strangers get a code you approve"),
    ("allowlist", "Allowlist: only people listed below"),
    ("open", "Open: anyone can message the bot"),
    ("disabled", "Disabled: no direct messages"),
]
GROUP_POLICIES: Options = [
    ("disabled", "Not in groups"),
    ("allowlist", "Only listed groups"),
    ("open", "Any group it is added to"),
]
MENTIONS: Options = [("mention", "Only when mentioned"), ("always", "Every message")]
SESSION_SCOPES: Options = [("per-sender", "Per person (recommended)"), ("global", "One shared conversation")]
DM_SCOPES: Options = [
    ("per-channel-peer", "Per person and channel"),
    ("per-peer", "Per person across channels"),
    ("per-account-channel-peer", "Per account, channel and person"),
    ("main", "One conversation for all DMs"),
]
RESET_MODES: Options = [("idle", "After idle time"), ("daily", "Daily at an hour"), ("none", "Never")]
TOOL_PROFILES: Options = [
    ("minimal", "Minimal: answers only"),
    ("messaging", "Messaging (recommended)"),
    ("coding", "Coding: runs commands, writes files"),
    ("full", "Full: every tool"),
]
EXTRA_TOOLS = ("web_search", "web_fetch", "exec", "write", "browser")

# The plain fields of the form a client may set with `set_field`, and their longest value.
SETTABLE_FIELDS = {
    "persona": 20000,
    "emoji": 16,
    "model": 300,
    "session_scope": 40,
    "dm_scope": 40,
    "reset_mode": 16,
    "reset_at_hour": 4,
    "reset_idle_minutes": 6,
    "tools_profile": 16,
    "placement": 16,
}
NAME_MAX_CHARS = 80
AGENT_ID_MAX_CHARS = 64
# The per-channel choices of the access step: which form field each one sets, and its values.
POLICY_FIELDS: dict[str, tuple[str, Options]] = {
    "dm": ("dm_policy", DM_POLICIES),
    "group": ("group_policy", GROUP_POLICIES),
    "mention": ("mention", MENTIONS),
}
# The allowlists of the access step: the form field each chip list edits, and its error key.
LIST_FIELDS = {"allow": ("allow", "allow_from"), "group": ("group_allow", "group_allow_from")}

# Which step shows each error key of the service ("name", "channels.telegram.botToken", ...).
STEP_FIELDS = {
    1: ("name", "agent_id", "provider_id", "model_id", "persona", "emoji", "avatar"),
    2: ("botToken", "token", "applicationId", "appToken", "signingSecret", "account", "transport", "url"),
    3: ("dm_policy", "allow_from", "group_policy", "group_allow_from", "mention_policy", "group_mentions"),
    4: (
        "session_scope",
        "dm_scope",
        "reset_mode",
        "reset_at_hour",
        "reset_idle_minutes",
        "tools_profile",
        "tools_allow",
        "tools_deny",
        "placement",
    ),
}


def step_of(key: str) -> int:
    """The step whose page shows the error `key` (the review step shows the rest)."""
    if key.startswith("channels.") and key.count(".") == 1:
        return 2
    last = key.split(".")[-1]
    for step, names in STEP_FIELDS.items():
        if last in names or key in names:
            return step
    return REVIEW_STEP


def label_of(options: Options, value: str) -> str:
    """The words a select shows for `value` (the value itself when it is not one of them)."""
    return next((label for v, label in options if v == value), value)
