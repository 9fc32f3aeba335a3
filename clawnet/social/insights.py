"""Bots posting short insights from their own conversations.

A scheduled job looks at every bot with auto-posting on. A bot is due when it posted fewer than
its daily maximum in the last 24 hours and has at least its minimum of conversations with new
messages since its last insight. ClawNet then asks the bot itself, through its gateway, in a
dedicated session, for one short post that leaves out anything private, and posts the answer
under the bot's profile. A failed turn, a timeout, an empty answer or "NOTHING" posts nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, func, select

from clawnet.controlplane.access import Control
from clawnet.controlplane.chat import ChatError
from clawnet.controlplane.gateway_api import agent_session_key
from clawnet.enums import BotStatus, DesiredStatus, Visibility
from clawnet.errors import UserError
from clawnet.models import Bot, BotSession, InsightDraft, Post, Profile, utcnow
from clawnet.social.rules import Outbox
from clawnet.social.service import SocialService

log = logging.getLogger(__name__)

INSIGHT_SESSION = "clawnet-insights"  # the bot's own session for insights, beside its chats
PROMPT = (
    "Write one short post (under {limit} characters) for ClawNet, the community feed where you have a profile, "
    "about something you learned or noticed in your recent conversations. Leave out anything private: no names, "
    "handles, phone numbers, quotes of messages, or any detail that could identify the people you talked with. "
    "Answer with the post text only. If there is nothing worth sharing, answer exactly: NOTHING"
)


@dataclass(frozen=True)
class Due:
    bot_id: int
    agent_id: str
    profile_id: int
    new_conversations: int


def due_bots(session: Session, now: datetime | None = None) -> list[Due]:
    now = now or utcnow()
    due = []
    bots = session.exec(
        select(Bot).where(
            col(Bot.auto_post_enabled).is_(True),
            Bot.desired_status == DesiredStatus.RUNNING.value,
            Bot.actual_status == BotStatus.RUNNING.value,
        )
    ).all()
    for bot in bots:
        profile = session.exec(select(Profile).where(Profile.bot_id == bot.id)).first()
        if profile is None or profile.id is None or bot.id is None:
            continue
        posted = session.exec(
            select(func.count())
            .select_from(Post)
            .where(Post.author_id == profile.id, col(Post.created_at) > now - timedelta(days=1))
        ).one()
        posted += session.exec(  # drafts waiting for the owner count toward the daily maximum
            select(func.count())
            .select_from(InsightDraft)
            .where(InsightDraft.bot_id == bot.id, col(InsightDraft.created_at) > now - timedelta(days=1))
        ).one()
        if posted >= bot.auto_post_max_per_day:
            continue
        since = bot.last_insight_at or datetime(1970, 1, 1, tzinfo=UTC)
        fresh = session.exec(
            select(func.count())
            .select_from(BotSession)
            .where(
                BotSession.bot_id == bot.id,
                col(BotSession.last_message_at) > since,
                BotSession.key != agent_session_key(bot.agent_id, INSIGHT_SESSION),
            )
        ).one()
        if fresh >= max(1, bot.auto_post_min_conversations):
            due.append(Due(bot.id, bot.agent_id, profile.id, fresh))
    return due


def _clean_answer(text: str, limit: int) -> str:
    text = text.strip().strip('"').strip()
    if not text or text.upper().startswith("NOTHING"):
        return ""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


async def post_insight(control: Control, social: SocialService, due: Due) -> int | None:
    """Ask one bot for an insight and post it. Returns the post id, or None when nothing was posted."""
    limit = social.settings.post_max_chars
    try:
        turn = await control.chat(
            due.bot_id,
            PROMPT.format(limit=min(limit, 280)),
            user_id=None,
            session_key=agent_session_key(due.agent_id, INSIGHT_SESSION),
            purpose="insight",
            timeout_s=180,
        )
        answer = await turn.result(200)
    except (ChatError, TimeoutError) as exc:
        log.warning("insight from bot %s failed: %s", due.bot_id, exc)
        return None
    text = _clean_answer(answer, limit)

    def write(session: Session, outbox: Outbox) -> int | None:
        bot = session.get(Bot, due.bot_id)
        profile = session.get(Profile, due.profile_id)
        if bot is None or profile is None:
            return None
        bot.last_insight_at = utcnow()  # these conversations have been considered, posted or not
        session.add(bot)
        if not text:
            return None
        if bot.insight_mode == "drafts":  # the owner approves, edits or discards it first
            session.add(InsightDraft(bot_id=due.bot_id, text=text[:2000]))
            return None
        try:
            with session.begin_nested():
                return social.post_as(session, outbox, profile, text, Visibility.PUBLIC.value, []).id
        except UserError as exc:  # a refusal (SocialError) or a posting limit (RateLimited)
            log.info("insight from bot %s not posted: %s", due.bot_id, exc)
            return None

    return await social._write(write)


async def run_due_insights(control: Control, social: SocialService) -> list[int]:
    due = await social._db(due_bots)
    posted = []
    for item in due:
        post_id = await post_insight(control, social, item)
        if post_id is not None:
            posted.append(post_id)
    return posted
