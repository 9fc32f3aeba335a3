"""A channel's failure, as OpenClaw reports it, in words its owner can act on.

OpenClaw's `lastError` is written for developers ("Failed to get gateway information from Discord:
fetch failed | connect ECONNREFUSED ..."). The owner gets the plain sentence first and the original
after it, so nothing is lost. The patterns were taken from the real plugins (OpenClaw 2026.9.6).
"""

from __future__ import annotations

import re

NAMES = {
    "telegram": "Telegram",
    "discord": "Discord",
    "slack": "Slack",
    "whatsapp": "WhatsApp",
    "signal": "Signal",
}
_UNREACHABLE = re.compile(
    r"fetch failed|ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|ENETUNREACH|"
    r"getaddrinfo|bad port|socket hang up|network error|timed? ?out",
    re.I,
)
_REFUSED = re.compile(
    r"invalid_auth|not_authed|account_inactive|token_revoked|invalid token|401|unauthori[sz]ed|"
    r"authentication failed|4004",
    re.I,
)
_PLUGIN = re.compile(r"PluginTrustRefusal|plugin \w+ failed|plugin not (found|installed)|not available", re.I)
_MAX_DETAIL = 300


def plain_channel_error(channel: str, raw: str) -> str:
    """`raw` (OpenClaw's lastError) led by a sentence in plain words; "" stays ""."""
    raw = " ".join(raw.split())
    if not raw:
        return ""
    name = NAMES.get(channel, channel.capitalize())
    plain = _plain(channel, name, raw)
    if not plain:
        return raw[:2000]
    detail = raw if len(raw) <= _MAX_DETAIL else raw[: _MAX_DETAIL - 1] + "…"
    return f"{plain} ({detail})"


def _plain(channel: str, name: str, raw: str) -> str:
    if _PLUGIN.search(raw):
        return f"The {name} plugin is not installed for this gateway: run `make setup` on the ClawNet host."
    if channel == "signal" and ("signal-cli" in raw or "spawn" in raw or "daemon" in raw):
        if "ENOENT" in raw or "spawn-error" in raw:
            return (
                "Signal needs signal-cli: it is not installed on the gateway's host. Install it, or give "
                "the address of a running signal-cli daemon."
            )
        return "Signal's signal-cli daemon could not be reached."
    if channel == "whatsapp" and re.search(
        r"not linked|logged ?out|no (auth|creds|session)|401|pair", raw, re.I
    ):
        return "WhatsApp is not linked yet (or was logged out): scan the QR code on the Channels tab."
    if _REFUSED.search(raw):
        if channel == "slack":
            return (
                "Slack refused the app's tokens: check the bot token (xoxb-) and the app-level token (xapp-)."
            )
        return f"{name} refused the bot token."
    if _UNREACHABLE.search(raw):
        return f"{name} could not be reached."
    return ""
