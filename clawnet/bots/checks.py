"""Checks the wizard and the providers page run on credentials before anything uses them: one
request to the service the credential belongs to, answered in plain words ("Connected as @name",
"Discord refused the token", "Slack could not be reached"). The addresses called come from the
settings (`CLAWNET_TELEGRAM_API_ROOT`, `CLAWNET_DISCORD_API_URL`, `CLAWNET_SLACK_API_URL`; a
provider's own base URL), so tests point them at fakes on loopback. Signal's check is in
`signal_check.py`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from clawnet.bots.validation import TELEGRAM_TOKEN_RE
from clawnet.settings import DISCORD_API_URL, SLACK_API_URL, Settings

DISCORD_BOT_PERMISSIONS = 274877975552  # read/send messages, threads, reactions, embeds, history
# Discord application flags: the Message Content intent, granted or granted while unverified.
DISCORD_MESSAGE_CONTENT = (1 << 18) | (1 << 19)
TIMEOUT_S = 10


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    message: str


@dataclass(frozen=True)
class Answer:
    """A service's answer: its HTTP status and its JSON body (`{}` when it sent none)."""

    status: int
    data: dict[str, Any]


class Unreachable(Exception):
    """The service could not be reached; the message says so in plain words."""


async def call(
    service: str, method: str, url: str, *, headers: dict[str, str] | None = None, json: Any = None
) -> Answer:
    """One request; Unreachable (with the reason) when no answer came back."""
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_S) as http:
            response = await http.request(method, url, headers=headers, json=json)
    except httpx.TimeoutException:
        raise Unreachable(f"{service} could not be reached: no answer within {TIMEOUT_S} s.") from None
    except httpx.HTTPError as exc:
        raise Unreachable(
            f"{service} could not be reached ({type(exc).__name__}). Check this machine's internet access."
        ) from None
    try:
        data = response.json()
    except ValueError:
        data = {}
    return Answer(response.status_code, data if isinstance(data, dict) else {"data": data})


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
        answer = await call("Telegram", "GET", f"{settings.telegram_api_root}/bot{token}/getMe")
    except Unreachable as exc:
        return CheckResult(False, str(exc))
    data = answer.data
    if answer.status == 401 or data.get("error_code") == 401:
        return CheckResult(
            False,
            "Telegram does not know this token: it is wrong or was revoked. "
            "Copy it again from @BotFather (/mybots → API Token).",
        )
    if not data:
        return CheckResult(False, f"Telegram answered with HTTP {answer.status} and no usable data.")
    if not data.get("ok"):
        return CheckResult(False, f"Telegram refused: {data.get('description') or answer.status}.")
    username = (data.get("result") or {}).get("username", "")
    return CheckResult(True, f"Connected to @{username}.")


async def test_discord_token(settings: Settings, token: str, application_id: str = "") -> CheckResult:
    """Who the bot token belongs to (`GET /users/@me`), then its application: the id typed must
    be that one, and the Message Content intent must be on for the bot to read what people write."""
    token, application_id = token.strip(), application_id.strip()
    if not token:
        return CheckResult(
            False, "Type the bot token first (Developer Portal → your app → Bot → Reset Token)."
        )
    if token.count(".") != 2:
        return CheckResult(
            False,
            "That is not a Discord bot token: it has three parts separated by dots. "
            "Copy it from the Developer Portal (your app → Bot → Reset Token).",
        )
    headers = {"Authorization": f"Bot {token}"}
    api = settings.discord_api_url or DISCORD_API_URL
    app: Answer | None = None
    try:
        me = await call("Discord", "GET", f"{api}/users/@me", headers=headers)
        if me.status == 200:
            app = await call("Discord", "GET", f"{api}/oauth2/applications/@me", headers=headers)
    except Unreachable as exc:
        return CheckResult(False, str(exc))
    if me.status == 401:
        return CheckResult(
            False,
            "Discord refused the token: it is wrong or was reset. "
            "Copy a new one (Developer Portal → your app → Bot → Reset Token).",
        )
    if me.status == 429:
        return CheckResult(False, "Discord asks to slow down: try again in a minute.")
    if me.status != 200 or not me.data.get("id"):
        detail = me.data.get("message") or "no usable data"
        return CheckResult(False, f"Discord answered HTTP {me.status}: {detail}.")
    name = f"Connected as @{me.data.get('username') or me.data['id']}."
    if app is None or app.status != 200:
        return CheckResult(True, name)
    app_id = str(app.data.get("id") or "")
    if application_id and app_id and application_id != app_id:
        return CheckResult(
            False,
            f"{name} But this token belongs to application {app_id}, not {application_id}: "
            "copy the application id from the same app's General Information page.",
        )
    flags = app.data.get("flags")
    if isinstance(flags, int) and not flags & DISCORD_MESSAGE_CONTENT:
        return CheckResult(
            True,
            f"{name} Turn on Message Content Intent (Developer Portal → Bot) or the bot "
            "will not see what people write in servers.",
        )
    return CheckResult(True, name)


SLACK_REFUSALS = {"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"}


async def test_slack_tokens(settings: Settings, bot_token: str, app_token: str = "") -> CheckResult:
    """The bot token with `auth.test`; the app-level token by opening a Socket Mode connection
    (`apps.connections.open`, which only hands out an address: nothing connects)."""
    bot_token, app_token = bot_token.strip(), app_token.strip()
    if not bot_token.startswith("xoxb-"):
        return CheckResult(False, "Type the bot token first: it starts with xoxb- (OAuth & Permissions).")
    api = settings.slack_api_url or SLACK_API_URL
    try:
        auth = await call(
            "Slack", "POST", f"{api}auth.test", headers={"Authorization": f"Bearer {bot_token}"}
        )
        opened = (
            await call(
                "Slack",
                "POST",
                f"{api}apps.connections.open",
                headers={"Authorization": f"Bearer {app_token}"},
            )
            if app_token
            else None
        )
    except Unreachable as exc:
        return CheckResult(False, str(exc))
    if not auth.data.get("ok"):
        error = str(auth.data.get("error") or f"HTTP {auth.status}")
        if error in SLACK_REFUSALS:
            return CheckResult(
                False,
                f"Slack refused the bot token ({error}): copy it again from OAuth & Permissions "
                "(Bot User OAuth Token), after installing the app to the workspace.",
            )
        return CheckResult(False, f"Slack did not accept the bot token: {error}.")
    team = auth.data.get("team")
    name = f"Connected as @{auth.data.get('user') or auth.data.get('user_id')}" + (
        f" in {team}." if team else "."
    )
    if opened is None:
        return CheckResult(
            False, f"{name} Now the app-level token (xapp-…): the bot listens through Socket Mode."
        )
    if opened.data.get("ok"):
        return CheckResult(True, f"{name} The app-level token opens Socket Mode.")
    error = str(opened.data.get("error") or f"HTTP {opened.status}")
    if error in SLACK_REFUSALS or error == "not_allowed_token_type":
        return CheckResult(
            False,
            f"{name} But Slack refused the app-level token ({error}): make one under Basic "
            "Information → App-Level Tokens with the connections:write scope.",
        )
    return CheckResult(
        False, f"{name} But Socket Mode did not open ({error}): turn it on under Settings → Socket Mode."
    )


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
