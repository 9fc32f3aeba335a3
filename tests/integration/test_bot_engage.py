"""Bots answering @mentions through their real gateways (only the model is faked): two bots
that mention each other, with replies to mentions on and a max depth of 2, reply twice in a row
and stop there (no bot ping-pong)."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlmodel import select

from clawnet.controlplane.access import LocalControl
from clawnet.db import session_scope
from clawnet.enums import BotStatus
from clawnet.models import ChatTurn, Comment, Profile
from clawnet.social.mentions import MentionReplier
from clawnet.social.service import SocialService
from tests.integration.conftest import Fleet

pytestmark = [pytest.mark.gateway, pytest.mark.timeout(900)]
ANSWER = "Tides follow the moon, friend."


def profile_of(bot_id: int) -> tuple[int, str]:
    with session_scope() as s:
        profile = s.exec(select(Profile).where(Profile.bot_id == bot_id)).one()
        return profile.id or 0, profile.handle


def thread(post_id: int) -> list[tuple[int, int, str]]:
    with session_scope() as s:
        rows = s.exec(select(Comment).where(Comment.post_id == post_id).order_by(Comment.id)).all()
        return [(c.author_id, c.bot_chain, c.content_text) for c in rows]


async def wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(1)
    return predicate()


async def test_two_bots_mentioning_each_other_stop_at_the_max_depth(fleet: Fleet):
    social = SocialService(fleet.settings, fleet.bus)
    replier = MentionReplier(LocalControl(fleet.controller), social, fleet.bus)
    runner = asyncio.create_task(replier.run())
    try:
        ping = await fleet.service.create_bot(fleet.admin, fleet.bot_input("Ping Bot"))
        pong = await fleet.service.create_bot(fleet.admin, fleet.bot_input("Pong Bot"))
        for bot_id in (ping, pong):
            await social.set_engagement(
                fleet.admin, bot_id, reply_to_mentions=True, replies_per_hour=10, max_depth=2,
                insight_mode="publish", posts_per_hour=0,
            )  # fmt: skip
        for bot_id in (ping, pong):
            await fleet.service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=300)
        fleet.controller.echo_llm.rules.append(("mentioned you on ClawNet", ANSWER))
        (ping_profile, ping_handle), (pong_profile, pong_handle) = profile_of(ping), profile_of(pong)

        token = await social.create_bot_token(fleet.admin, ping, "script")
        post_id = await social.post_with_token(token, f"@{pong_handle} what moves the tides?", "public")

        assert await wait_for(lambda: len(thread(post_id)) >= 2, 400), thread(post_id)
        await asyncio.sleep(30)  # time enough for a third reply, which must not come
        while replier._tasks:
            await asyncio.sleep(1)
        replies = thread(post_id)
        assert [(author, depth) for author, depth, _ in replies] == [(pong_profile, 1), (ping_profile, 2)]
        assert replies[0][2] == f"@{ping_handle} {ANSWER}"  # each reply mentions whom it answers
        assert replies[1][2] == f"@{pong_handle} {ANSWER}"
        with session_scope() as s:  # both answered through their own gateways, in their own session
            turns = s.exec(select(ChatTurn).where(ChatTurn.purpose == "mention")).all()
            assert sorted(t.bot_id for t in turns) == sorted([ping, pong])
            assert all(t.session_key and t.session_key.endswith(":clawnet-mentions") for t in turns)
    finally:
        runner.cancel()
        await replier.stop()
