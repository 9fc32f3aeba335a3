"""The HTTP API past a token's limit: an admin lowers the API limit in Settings (through the
page's own handler), a script posting with its token gets `429` with `Retry-After` and a plain
message, and the admin's change is the only way the limit moved."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from clawnet.security.rate_limit import DEFAULT_LIMITS
from clawnet.ui.pages.settings.limits import LimitsState
from tests.security.world import World, server_process_env
from tests.support.reflex_client import ReflexClient, handler_name


def _form(**changed: int) -> dict[str, str]:
    form = {}
    for action, limit in DEFAULT_LIMITS.items():
        form[f"{action.value}_count"] = str(limit.count)
        form[f"{action.value}_window"] = str(limit.window_s)
    return form | {k: str(v) for k, v in changed.items()}


def _post(base: str, token: str, text: str) -> tuple[int, dict[str, str], dict[str, str]]:
    req = urllib.request.Request(  # noqa: S310 (loopback)
        f"{base}/api/v1/posts",
        data=json.dumps({"text": text}).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 (loopback)
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, json.loads(exc.read())


def _fresh_token(world: World) -> str:
    from sqlmodel import select

    from clawnet.db import session_scope
    from clawnet.models import Bot, User
    from clawnet.security.permissions import Principal
    from clawnet.social import api_tokens

    with server_process_env(world.server), session_scope() as s:
        olga = s.get(User, world.ids["olga"])
        assert olga is not None
        bot_id = s.exec(select(Bot.id).where(Bot.id == world.ids["bot"])).one()
        return api_tokens.create_token(s, Principal.of(olga), bot_id, "rate limit test")


async def _save_limits(world: World, who: str, form: dict[str, str]) -> None:
    client = ReflexClient(world.server.url, world.cookies[who])
    await client.connect()
    try:
        await client.call(handler_name(LimitsState, "load"), {}, path="/settings", settle_s=0.3)
        await client.call(handler_name(LimitsState, "save"), {"form": form}, path="/settings", settle_s=0.5)
    finally:
        await client.close()


async def test_the_api_answers_429_with_retry_after_past_the_tokens_limit(world):
    token = _fresh_token(world)
    base = world.server.url
    await _save_limits(world, "olga", _form(api_count=1))  # an operator cannot change the limits
    assert [_post(base, token, f"operator tried {n}")[0] for n in range(2)] == [201, 201]

    await _save_limits(world, "ada", _form(api_count=3, api_window=300))
    try:
        token = _fresh_token(world)  # a token of its own: counts start at zero
        results = [_post(base, token, f"scripted post {n}") for n in range(4)]
        assert [status for status, _, _ in results] == [201, 201, 201, 429]
        _, headers, body = results[-1]
        assert 1 <= int(headers["retry-after"]) <= 301
        assert body["error"].startswith("Too many API calls with this token. Try again in ")
        assert body["error"].endswith(("minutes.", "seconds."))
    finally:
        await _save_limits(world, "ada", _form())
