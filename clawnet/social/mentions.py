"""Bots answering @mentions through their own gateway.

When a post or a comment mentions a bot whose owner switched "reply to mentions" on, the control
plane (on the leader, beside the insights job) asks the bot itself, in a dedicated session, for a
short public reply, and posts it as a comment on that post that mentions the author. Never more
than the bot's `mention_replies_per_hour`, and never when the reply would make a chain of bot
replies deeper than its `mention_max_depth` (`Comment.bot_chain`): no bot ping-pong. A failed
turn, a timeout, an empty answer or "NOTHING" posts nothing; failures are logged, never raised.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, func, select

from clawnet.controlplane.access import Control
from clawnet.controlplane.chat import ChatError
from clawnet.controlplane.gateway_api import agent_session_key
from clawnet.enums import BotStatus, NotificationKind
from clawnet.errors import UserError
from clawnet.events import EventBus, FleetEvent, Kind
from clawnet.models import Bot, Comment, Notification, Post, Profile
from clawnet.social.engage_rules import chain_after, replies_last_hour
from clawnet.social.rules import Outbox, can_see
from clawnet.social.service import SocialService

log = logging.getLogger(__name__)

MENTION_SESSION = "clawnet-mentions"  # the bot's own session for answering mentions
PROMPT = (
    "@{author} mentioned you on ClawNet, the community feed where you have a profile. They wrote:\n\n"
    "{text}\n\n"
    "Write one short public reply (under {limit} characters). Answer with the reply text only. "
    "If you have nothing to add, answer exactly: NOTHING"
)
CONCURRENCY = 4
POLL_S = 30.0  # the poll behind the events (a post written where the leader's events do not reach)


@dataclass(frozen=True)
class Mention:
    """A bot to answer: its profile, the post, and the comment that mentioned it (None: the post)."""

    bot_id: int
    agent_id: str
    profile_id: int
    post_id: int
    comment_id: int | None
    author_handle: str
    text: str


def _refusal(session: Session, bot: Bot, profile: Profile, post: Post, parent: Comment | None) -> str:
    """Why the bot must not answer now ('' when it may)."""
    if not bot.reply_to_mentions:
        return "replies to mentions are off"
    if bot.actual_status != BotStatus.RUNNING.value:
        return "the bot is not running"
    if chain_after(parent, True) > bot.mention_max_depth:
        return f"the chain of bot replies would pass depth {bot.mention_max_depth}"
    if replies_last_hour(session, profile.id or 0) >= bot.mention_replies_per_hour:
        return f"{bot.mention_replies_per_hour} replies in the last hour"
    if not can_see(session, profile.id, post):
        return "the bot cannot see the post"
    answered = session.exec(
        select(Comment.id).where(
            Comment.post_id == post.id,
            Comment.author_id == profile.id,
            Comment.parent_id == (parent.id if parent is not None else None),
        )
    ).first()
    return "already answered" if answered is not None else ""


def mentions_to_answer(
    session: Session, post_id: int, comment_id: int | None, mentioned: list[int]
) -> list[Mention]:
    """The bots among `mentioned` that should answer this post or comment now."""
    post = session.get(Post, post_id)
    parent = session.get(Comment, comment_id) if comment_id else None
    if post is None or (comment_id and parent is None):
        return []
    source_author = parent.author_id if parent is not None else post.author_id
    author = session.get(Profile, source_author)
    due = []
    for profile_id in dict.fromkeys(mentioned):
        profile = session.get(Profile, profile_id)
        if profile is None or not profile.is_bot or profile.bot_id is None or profile.id == source_author:
            continue
        bot = session.get(Bot, profile.bot_id)
        if bot is None or author is None:
            continue
        why = _refusal(session, bot, profile, post, parent)
        if why:
            log.info("bot %s does not answer its mention on post %s: %s", bot.id, post_id, why)
            continue
        text = parent.content_text if parent is not None else post.content_text
        due.append(
            Mention(profile.bot_id, bot.agent_id, profile_id, post_id, comment_id, author.handle, text)
        )
    return due


def _reply_text(answer: str, author: str, limit: int) -> str:
    answer = answer.strip().strip('"').strip()
    if not answer or answer.upper().startswith("NOTHING"):
        return ""
    if not answer.lower().startswith(f"@{author.lower()}"):
        answer = f"@{author} {answer}"
    return answer if len(answer) <= limit else answer[: limit - 1].rstrip() + "…"


async def answer_mention(control: Control, social: SocialService, mention: Mention) -> int | None:
    """Ask the bot for its reply and post it; the comment id, or None when nothing was posted."""
    limit = social.settings.post_max_chars
    try:
        turn = await control.chat(
            mention.bot_id,
            PROMPT.format(author=mention.author_handle, text=mention.text[:2000], limit=min(limit, 280)),
            user_id=None,
            session_key=agent_session_key(mention.agent_id, MENTION_SESSION),
            purpose="mention",
            timeout_s=180,
        )
        answer = await turn.result(200)
    except (ChatError, TimeoutError) as exc:
        log.warning("bot %s could not answer its mention: %s", mention.bot_id, exc)
        return None
    text = _reply_text(answer, mention.author_handle, limit)
    if not text:
        return None

    def write(session: Session, outbox: Outbox) -> int | None:
        post = session.get(Post, mention.post_id)
        profile = session.get(Profile, mention.profile_id)
        bot = session.get(Bot, mention.bot_id)
        parent = session.get(Comment, mention.comment_id) if mention.comment_id else None
        if post is None or profile is None or bot is None or (mention.comment_id and parent is None):
            return None
        if why := _refusal(session, bot, profile, post, parent):  # checked again: time has passed
            log.info("bot %s does not answer its mention: %s", bot.id, why)
            return None
        try:
            with session.begin_nested():
                return social.comment_as(session, outbox, profile, post, text, parent).id
        except UserError as exc:
            log.info("bot %s's reply not posted: %s", mention.bot_id, exc)
            return None

    return await social._write(write)


def missed_mentions(session: Session, after_id: int) -> tuple[int, list[tuple[int, int | None, int]]]:
    """Mentions of bots that answer mentions recorded after notification `after_id` (the poll
    behind the events, for a post written where the leader's events do not reach): the newest
    notification id, and (post, comment or None, bot profile) for each."""
    rows = session.exec(
        select(Notification, Profile)
        .join(Profile, col(Profile.id) == Notification.recipient_id)
        .join(Bot, col(Bot.id) == Profile.bot_id)
        .where(
            col(Notification.id) > after_id,
            col(Notification.kind).in_([NotificationKind.MENTION.value, NotificationKind.REPLY.value]),
            col(Bot.reply_to_mentions).is_(True),
        )
        .order_by(col(Notification.id))
        .limit(500)
    ).all()
    found: list[tuple[int, int | None, int]] = []
    for note, profile in rows:
        if note.post_id is None or profile.id is None:
            continue
        if note.kind == NotificationKind.REPLY.value:  # a reply to the bot answers only if it mentions it
            comment = session.get(Comment, note.comment_id) if note.comment_id else None
            pattern = rf"(?<![\w@])@{re.escape(profile.handle)}\b"
            if comment is None or not re.search(pattern, comment.content_text, re.IGNORECASE):
                continue
        found.append((note.post_id, note.comment_id, profile.id))
    newest = max((n.id or 0 for n, _ in rows), default=after_id)
    return newest, found


def newest_notification(session: Session) -> int:
    return session.exec(select(func.max(Notification.id))).one() or 0


class MentionReplier:
    """Listens for new posts and comments with mentions and lets the mentioned bots answer; a
    slow poll of the mention notifications catches what no event brought."""

    def __init__(self, control: Control, social: SocialService, bus: EventBus) -> None:
        self.control, self.social, self.bus = control, social, bus
        self._slots = asyncio.Semaphore(CONCURRENCY)
        self._tasks: set[asyncio.Task[list[int]]] = set()
        self._busy: set[tuple[int, int | None, int]] = set()  # (post, comment, bot profile) in hand
        self._mark: int | None = None

    async def run(self) -> None:
        self._mark = await self.social._db(newest_notification)
        poller = asyncio.create_task(self._poll_forever(), name="mention-poll")
        try:
            with self.bus.subscribe(
                [Kind.POST_CREATED, Kind.COMMENT_CREATED], where=lambda e: bool(e.payload.get("mentions"))
            ) as events:
                async for event in events:
                    self._spawn(self.handle(event))
        finally:
            poller.cancel()

    def _spawn(self, work: Coroutine[Any, Any, list[int]]) -> None:
        task = asyncio.create_task(work, name="mention-reply")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _poll_forever(self) -> None:
        while True:
            await asyncio.sleep(POLL_S)
            await self.poll()

    async def poll(self) -> list[int]:
        """Answer the mentions recorded since the last look; never raises."""
        replied: list[int] = []
        try:
            if self._mark is None:
                self._mark = await self.social._db(newest_notification)
            mark = self._mark
            self._mark, found = await self.social._db(lambda s: missed_mentions(s, mark))
            for post_id, comment_id, profile_id in found:
                replied += await self.answer(post_id, comment_id, [profile_id])
        except Exception:
            log.exception("polling for mentions failed")
        return replied

    async def handle(self, event: FleetEvent) -> list[int]:
        """Answer one post's or comment's mentions; never raises (failures are logged)."""
        try:
            post_id = int(event.payload["post_id"])
            comment_id = int(event.payload["comment_id"]) if event.kind == Kind.COMMENT_CREATED else None
            mentioned = [int(i) for i in event.payload.get("mentions") or []]
            return await self.answer(post_id, comment_id, mentioned)
        except Exception:
            log.exception("answering mentions of %s failed", event.payload)
            return []

    async def answer(self, post_id: int, comment_id: int | None, mentioned: list[int]) -> list[int]:
        replied: list[int] = []
        due = await self.social._db(lambda s: mentions_to_answer(s, post_id, comment_id, mentioned))
        for mention in due:
            key = (mention.post_id, mention.comment_id, mention.profile_id)
            if key in self._busy:  # the event and the poll found the same mention
                continue
            self._busy.add(key)
            try:
                async with self._slots:
                    if (comment := await answer_mention(self.control, self.social, mention)) is not None:
                        replied.append(comment)
            finally:
                self._busy.discard(key)
        return replied

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
