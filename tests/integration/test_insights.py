"""Bots posting insights: asked through their real gateway (fake model), posted under their
profile, never more than their daily limit, and nothing on a failure or an empty answer."""

from __future__ import annotations

import pytest
from sqlmodel import select

from clawnet.controlplane.access import LocalControl
from clawnet.controlplane.gateway_api import agent_session_key
from clawnet.db import session_scope
from clawnet.enums import BotStatus
from clawnet.events import EventBus
from clawnet.models import ChatTurn, Post, Profile
from clawnet.social.insights import INSIGHT_SESSION, run_due_insights
from clawnet.social.service import SocialService
from tests.integration.conftest import Fleet

pytestmark = pytest.mark.gateway
INSIGHT = "Learned today: people ask about tides more than anything else."


def bot_posts(bot_id: int) -> list[str]:
    with session_scope() as s:
        profile = s.exec(select(Profile).where(Profile.bot_id == bot_id)).one()
        return [p.content_text for p in s.exec(select(Post).where(Post.author_id == profile.id)).all()]


async def test_a_bot_with_new_conversations_posts_one_insight_and_respects_its_daily_limit(fleet: Fleet):
    social = SocialService(fleet.settings, EventBus())
    bot_id = await fleet.service.create_bot(fleet.admin, fleet.bot_input("Tide Bot"))
    await fleet.service.set_auto_post(fleet.admin, bot_id, enabled=True, max_per_day=1, min_conversations=1)
    await fleet.service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=180)

    assert (
        await run_due_insights(LocalControl(fleet.controller), social) == []
    )  # no conversation yet: not due
    turn = await fleet.service.chat(fleet.admin, bot_id, "REPLY WITH: high tide is at noon")
    await turn.result(120)
    fleet.controller.echo_llm.rules.append(("for ClawNet, the community feed", INSIGHT))
    posted = await run_due_insights(LocalControl(fleet.controller), social)
    assert len(posted) == 1 and bot_posts(bot_id) == [INSIGHT]
    with session_scope() as s:
        insight_turn = s.exec(select(ChatTurn).where(ChatTurn.purpose == "insight")).one()
        assert insight_turn.session_key == agent_session_key("tide-bot", INSIGHT_SESSION)
        assert "Leave out anything private" in insight_turn.message

    turn = await fleet.service.chat(fleet.admin, bot_id, "REPLY WITH: more conversation")
    await turn.result(120)
    assert await run_due_insights(LocalControl(fleet.controller), social) == []  # the daily limit holds
    assert bot_posts(bot_id) == [INSIGHT]


async def test_an_empty_or_failed_answer_posts_nothing(fleet: Fleet):
    social = SocialService(fleet.settings, EventBus())
    bot_id = await fleet.service.create_bot(fleet.admin, fleet.bot_input("Quiet Bot"))
    await fleet.service.set_auto_post(fleet.admin, bot_id, enabled=True, max_per_day=5, min_conversations=1)
    await fleet.service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=180)
    rules = fleet.controller.echo_llm.rules
    for answer in ("NOTHING", "FAIL WITH: 400"):  # a 5xx would be retried by OpenClaw for a minute
        turn = await fleet.service.chat(fleet.admin, bot_id, "REPLY WITH: a fresh conversation")
        await turn.result(120)
        rules[:] = [("for ClawNet, the community feed", answer)]
        assert await run_due_insights(LocalControl(fleet.controller), social) == [], answer
    assert bot_posts(bot_id) == []
