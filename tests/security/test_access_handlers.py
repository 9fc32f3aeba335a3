"""Deciding an access request is refused in the service, whatever a client sends: a viewer
assigned to the bot (who sees its requests) and an operator with no relation to it call the
inbox's and the bot page's Approve, Dismiss and Revoke handlers with the victim's ids, and nothing
changes; the refusal says why. (The sweep in test_handler_permissions covers every handler; this
names the ones that matter here.)"""

from __future__ import annotations

import json

import pytest

from clawnet.ui.pages.access import AccessState
from clawnet.ui.pages.bot_detail.access import BotAccessState
from clawnet.ui.pages.bot_detail.state import BotDetailState
from tests.security.world import APPROVED_SENDER, diff, fingerprint
from tests.support.reflex_client import ReflexClient, handler_name

REFUSED = "You cannot change this bot's configuration."


@pytest.mark.parametrize("who", ["vera", "otto"])
async def test_approve_dismiss_and_revoke_are_refused_for_those_who_may_not_decide(world, who):
    client = ReflexClient(world.server.url, world.cookies[who])
    await client.connect()
    bot_page = f"/bots/{world.ids['bot']}"
    request = {"request_id": str(world.ids["access_request"])}
    try:
        before = fingerprint(world)
        await client.call(handler_name(BotDetailState, "on_load"), path=bot_page, settle_s=1)
        for state, name, args, path in [
            (AccessState, "approve", request, "/access"),
            (AccessState, "dismiss", request, "/access"),
            (BotAccessState, "approve", request, bot_page),
            (BotAccessState, "dismiss", request, bot_page),
            (BotAccessState, "revoke", {"channel": "telegram", "sender_id": APPROVED_SENDER}, bot_page),
        ]:
            updates = await client.call(handler_name(state, name), args, path=path, settle_s=2)
            assert REFUSED in json.dumps(updates), (state.__name__, name, json.dumps(updates)[:2000])
        assert diff(before, fingerprint(world)) == {}
    finally:
        await client.close()
