"""Checks the wizard runs on channel credentials before a bot exists."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

import httpx

from clawnet.bots.validation import TELEGRAM_TOKEN_RE
from clawnet.settings import Settings

DISCORD_BOT_PERMISSIONS = 274877975552  # read/send messages, threads, reactions, embeds, history


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    message: str


async def test_telegram_token(settings: Settings, token: str) -> CheckResult:
    """Call the Bot API's getMe with the token (at CLAWNET_TELEGRAM_API_ROOT)."""
    token = token.strip()
    if not TELEGRAM_TOKEN_RE.fullmatch(token):
        return CheckResult(
            False,
            "That is not a Telegram bot token: it looks like 123456789:AA... "
            "(digits, a colon, then 35 letters). @BotFather gives it to you.",
        )
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            response = await http.get(f"{settings.telegram_api_root}/bot{token}/getMe")
    except httpx.HTTPError as exc:
        return CheckResult(
            False, f"Could not reach Telegram ({type(exc).__name__}). Check this machine's internet access."
        )
    try:
        data = response.json()
    except ValueError:
        return CheckResult(False, f"Telegram answered with HTTP {response.status_code} and no usable data.")
    if response.status_code == 401 or data.get("error_code") == 401:
        return CheckResult(
            False,
            "Telegram does not know this token: it is wrong or was revoked. "
            "Copy it again from @BotFather (/mybots → API Token).",
        )
    if not data.get("ok"):
        return CheckResult(False, f"Telegram refused: {data.get('description') or response.status_code}.")
    username = (data.get("result") or {}).get("username", "")
    return CheckResult(True, f"Connected to @{username}.")


def discord_invite_url(application_id: str) -> str:
    """The link that adds the bot to a server (the owner opens it)."""
    query = urlencode(
        {
            "client_id": application_id.strip(),
            "scope": "bot applications.commands",
            "permissions": DISCORD_BOT_PERMISSIONS,
        }
    )
    return f"https://discord.com/oauth2/authorize?{query}"
