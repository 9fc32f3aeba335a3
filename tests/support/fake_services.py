"""Fakes on loopback of the services ClawNet's "Test connection" buttons call: Discord's REST
API, Slack's Web API, a model provider's model list (OpenAI-style and Anthropic), and signal-cli's
HTTP daemon (native JSON-RPC) and REST container. Each answers the few calls ClawNet makes the way
the real service does (shapes from their public API references)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.support.fake_http import FakeHttp, Request

DISCORD_MESSAGE_CONTENT = 1 << 18


@dataclass
class DiscordApp:
    token: str
    username: str
    application_id: str
    flags: int = DISCORD_MESSAGE_CONTENT


class FakeDiscord(FakeHttp):
    """Discord's REST API v10: `api_url` is what CLAWNET_DISCORD_API_URL / DISCORD_API_URL take."""

    name = "fake-discord"

    def __init__(self) -> None:
        super().__init__()
        self.apps: dict[str, DiscordApp] = {}

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/v10"

    def add_bot(
        self, token: str, username: str, application_id: str, flags: int = DISCORD_MESSAGE_CONTENT
    ) -> None:
        self.apps[token] = DiscordApp(token, username, application_id, flags)

    def answer(self, request: Request) -> tuple[int, Any]:
        auth = request.headers.get("authorization", "")
        app = self.apps.get(auth.removeprefix("Bot ")) if auth.startswith("Bot ") else None
        if app is None:
            return 401, {"message": "401: Unauthorized", "code": 0}
        if request.path == "/api/v10/users/@me":
            return 200, {
                "id": app.application_id,
                "username": app.username,
                "bot": True,
                "discriminator": "0",
            }
        if request.path == "/api/v10/oauth2/applications/@me":
            return 200, {
                "id": app.application_id,
                "name": app.username,
                "flags": app.flags,
                "bot_public": True,
            }
        return 404, {"message": "404: Not Found", "code": 0}


class FakeSlack(FakeHttp):
    """Slack's Web API: `api_url` is what CLAWNET_SLACK_API_URL / SLACK_API_URL take."""

    name = "fake-slack"

    def __init__(self) -> None:
        super().__init__()
        self.bot_tokens: dict[str, tuple[str, str]] = {}  # token -> (bot user name, team)
        self.app_tokens: set[str] = set()

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def add_app(self, bot_token: str, app_token: str, user: str, team: str) -> None:
        self.bot_tokens[bot_token] = (user, team)
        self.app_tokens.add(app_token)

    def answer(self, request: Request) -> tuple[int, Any]:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if request.path == "/api/auth.test":
            if token not in self.bot_tokens:
                return 200, {"ok": False, "error": "invalid_auth"}
            user, team = self.bot_tokens[token]
            return 200, {
                "ok": True,
                "url": f"https://{team.lower()}.slack.com/",
                "team": team,
                "user": user,
                "team_id": "T0TEST01",
                "user_id": "U0TEST01",
                "bot_id": "B0TEST01",
            }
        if request.path == "/api/apps.connections.open":
            if token.startswith("xoxb-"):
                return 200, {"ok": False, "error": "not_allowed_token_type"}
            if token not in self.app_tokens:
                return 200, {"ok": False, "error": "invalid_auth"}
            return 200, {"ok": True, "url": "wss://wss-primary.slack.com/link/?ticket=fake"}
        return 200, {"ok": False, "error": "unknown_method"}


class FakeModelApi(FakeHttp):
    """A provider's model list: OpenAI style (`GET /v1/models`, Bearer key) or, with
    `anthropic=True`, Anthropic's (`GET /v1/models`, x-api-key and anthropic-version)."""

    name = "fake-model-api"

    def __init__(self, key: str, models: list[str], *, anthropic: bool = False) -> None:
        super().__init__()
        self.key, self.models, self.anthropic = key, models, anthropic

    def answer(self, request: Request) -> tuple[int, Any]:
        if request.path != "/v1/models":
            return 404, {"error": {"message": "not found", "type": "invalid_request_error"}}
        if self.anthropic:
            ok = request.headers.get("x-api-key") == self.key and request.headers.get("anthropic-version")
            if not ok:
                return 401, {
                    "type": "error",
                    "error": {"type": "authentication_error", "message": "invalid x-api-key"},
                }
            return 200, {
                "data": [{"type": "model", "id": m, "display_name": m} for m in self.models],
                "has_more": False,
            }
        if request.headers.get("authorization") != f"Bearer {self.key}":
            return 401, {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}
        return 200, {
            "object": "list",
            "data": [{"id": m, "object": "model", "owned_by": "test"} for m in self.models],
        }


class FakeSignalCli(FakeHttp):
    """signal-cli's HTTP daemon (`signal-cli daemon --http`: /api/v1/check, JSON-RPC at
    /api/v1/rpc), or with `container=True` bbernhard/signal-cli-rest-api (/v1/about, /v1/accounts)."""

    name = "fake-signal-cli"

    def __init__(self, accounts: list[str], *, container: bool = False, mode: str = "json-rpc") -> None:
        super().__init__()
        self.accounts, self.container, self.mode = accounts, container, mode

    def answer(self, request: Request) -> tuple[int, Any]:
        if self.container:
            if request.path == "/v1/about":
                return 200, {"versions": ["v1", "v2"], "build": 2, "mode": self.mode, "version": "0.95"}
            if request.path == "/v1/accounts":
                return 200, list(self.accounts)
            return 404, {"error": "not found"}
        if request.path == "/api/v1/check":
            return 200, {}
        if request.path == "/api/v1/rpc" and request.method == "POST":
            call = request.json() or {}
            if call.get("method") == "version":
                return 200, {"jsonrpc": "2.0", "result": {"version": "0.13.22"}, "id": call.get("id")}
            if call.get("method") == "listAccounts":
                result = [{"number": n} for n in self.accounts]
                return 200, {"jsonrpc": "2.0", "result": result, "id": call.get("id")}
            return 200, {
                "jsonrpc": "2.0",
                "error": {"code": -32601, "message": "Method not implemented"},
                "id": call.get("id"),
            }
        return 404, {}
