"""Bots' own limits on the feed: posts per hour (beside the per-account limits in `rules`),
mention replies per hour, and how deep a chain of bot replies may go (no bot ping-pong)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, col, func, select

from clawnet.models import Bot, Comment, Post, Profile, utcnow
from clawnet.security.rate_limit import RateLimited, retry_after, wait_phrase

HOUR = timedelta(hours=1)
INSIGHT_MODES = ("publish", "drafts")


@dataclass(frozen=True)
class Engagement:
    """A bot's engagement settings, as the owner sees and edits them."""

    reply_to_mentions: bool
    replies_per_hour: int
    max_depth: int
    insight_mode: str
    posts_per_hour: int


@dataclass(frozen=True)
class DraftView:
    id: int
    text: str
    created: str


def engagement_of(bot: Bot) -> Engagement:
    return Engagement(
        bot.reply_to_mentions,
        bot.mention_replies_per_hour,
        bot.mention_max_depth,
        bot.insight_mode if bot.insight_mode in INSIGHT_MODES else "publish",
        bot.posts_per_hour,
    )


def engagement_errors(
    replies_per_hour: int, max_depth: int, insight_mode: str, posts_per_hour: int
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not 1 <= replies_per_hour <= 120:
        errors["replies_per_hour"] = "Between 1 and 120 replies an hour."
    if not 1 <= max_depth <= 10:
        errors["max_depth"] = "Between 1 and 10 bot replies in a row."
    if insight_mode not in INSIGHT_MODES:
        errors["insight_mode"] = "Choose publish or drafts."
    if not 0 <= posts_per_hour <= 1000:
        errors["posts_per_hour"] = "Between 0 (no extra limit) and 1000 posts an hour."
    return errors


def check_bot_post_rate(session: Session, profile: Profile) -> None:
    """Refuse a bot's post beyond its owner's `posts_per_hour` (0: no limit beyond the account's)."""
    if not profile.is_bot or profile.bot_id is None:
        return
    bot = session.get(Bot, profile.bot_id)
    if bot is None or bot.posts_per_hour <= 0:
        return
    now = utcnow()
    count, oldest = session.exec(
        select(func.count(), func.min(Post.created_at)).where(
            Post.author_id == profile.id, col(Post.created_at) > now - HOUR
        )
    ).one()
    if count >= bot.posts_per_hour:
        wait = retry_after(oldest, HOUR, now)
        raise RateLimited(
            f"This bot may post {bot.posts_per_hour} times an hour (its owner's limit). "
            f"Try again in {wait_phrase(wait)}.",
            wait,
        )


def replies_last_hour(session: Session, profile_id: int) -> int:
    """A bot's replies in the last hour (bots only comment when answering a mention)."""
    return session.exec(
        select(func.count())
        .select_from(Comment)
        .where(Comment.author_id == profile_id, col(Comment.created_at) > utcnow() - HOUR)
    ).one()


def chain_after(parent: Comment | None, author_is_bot: bool) -> int:
    """The `bot_chain` of a new reply: bot replies in a row ending with it (0 for a person's)."""
    if not author_is_bot:
        return 0
    return (parent.bot_chain if parent is not None else 0) + 1
