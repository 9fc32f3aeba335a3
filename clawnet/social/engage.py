"""Bots engaging: answering mentions, insight drafts, per-bot posting limits.

The owner's settings (`engagement`, `set_engagement`), the drafts an insight in "drafts" mode
leaves for the owner (`insight_drafts`, `approve_draft`, `discard_draft`), and `comment_as`, the
one way a bot replies on the feed (the mention replier in `mentions` calls it)."""

from __future__ import annotations

from sqlmodel import Session, col, select

from clawnet import audit
from clawnet.enums import NotificationKind, Visibility
from clawnet.errors import NotFound, UserError
from clawnet.events import Kind
from clawnet.humanize import ago
from clawnet.models import Bot, Comment, InsightDraft, Post, Profile, utcnow
from clawnet.security.permissions import Action, Principal, can, require
from clawnet.social.engage_rules import (
    DraftView,
    Engagement,
    chain_after,
    engagement_errors,
    engagement_of,
)
from clawnet.social.rules import Outbox, check_post_rate, notify
from clawnet.social.writing import SocialError, SocialWrites

DRAFT_MAX = 2000


def _bot(session: Session, bot_id: int) -> Bot:
    bot = session.get(Bot, bot_id)
    if bot is None:
        raise NotFound("No such bot.")
    return bot


def _require_drafts(session: Session, actor: Principal | None, bot_id: int) -> Principal:
    """The bot's owner side: who may configure the bot or manage its social settings."""
    if actor is not None and (
        can(session, actor, Action.CONFIGURE_BOT, bot_id)
        or can(session, actor, Action.MANAGE_BOT_SOCIAL, bot_id)
    ):
        return actor
    return require(session, actor, Action.MANAGE_BOT_SOCIAL, bot_id)  # raises with the message


def _pending(session: Session, actor: Principal | None, draft_id: int) -> tuple[Principal, InsightDraft]:
    draft = session.get(InsightDraft, draft_id)
    if draft is None:
        raise NotFound("That draft does not exist.")
    who = _require_drafts(session, actor, draft.bot_id)
    if draft.status != "pending":
        raise SocialError(f"That draft was already {draft.status}.")
    return who, draft


class SocialEngage(SocialWrites):
    # --- the owner's settings ------------------------------------------------------------------

    async def engagement(self, actor: Principal | None, bot_id: int) -> Engagement:
        def read(session: Session) -> Engagement:
            require(session, actor, Action.VIEW_BOT, bot_id)
            return engagement_of(_bot(session, bot_id))

        return await self._db(read)

    async def set_engagement(
        self,
        actor: Principal | None,
        bot_id: int,
        *,
        reply_to_mentions: bool,
        replies_per_hour: int,
        max_depth: int,
        insight_mode: str,
        posts_per_hour: int,
    ) -> Engagement:
        """How the bot engages on the feed (its owner or an admin); per-field errors."""
        errors = engagement_errors(replies_per_hour, max_depth, insight_mode, posts_per_hour)

        def update(session: Session) -> Engagement:
            who = require(session, actor, Action.MANAGE_BOT_SOCIAL, bot_id)
            if errors:
                raise UserError(field_errors=errors)
            bot = _bot(session, bot_id)
            before = engagement_of(bot)
            bot.reply_to_mentions = bool(reply_to_mentions)
            bot.mention_replies_per_hour, bot.mention_max_depth = replies_per_hour, max_depth
            bot.insight_mode, bot.posts_per_hour = insight_mode, posts_per_hour
            bot.updated_at = utcnow()
            session.add(bot)
            after = engagement_of(bot)
            audit.record(
                session, who, "bot.engagement", "bot", bot_id, f"engagement settings of {bot.name} changed",
                before=before.__dict__, after=after.__dict__,
            )  # fmt: skip
            return after

        return await self._db(update)

    # --- insight drafts ------------------------------------------------------------------------

    async def insight_drafts(self, actor: Principal | None, bot_id: int) -> list[DraftView]:
        """The bot's insights waiting for its owner, newest first."""

        def read(session: Session) -> list[DraftView]:
            _require_drafts(session, actor, bot_id)
            rows = session.exec(
                select(InsightDraft)
                .where(InsightDraft.bot_id == bot_id, InsightDraft.status == "pending")
                .order_by(col(InsightDraft.id).desc())
                .limit(100)
            ).all()
            return [DraftView(d.id or 0, d.text, ago(d.created_at)) for d in rows]

        return await self._db(read)

    async def approve_draft(self, actor: Principal | None, draft_id: int, text: str | None = None) -> int:
        """Publish a draft as the bot, with the owner's edits; returns the post id."""

        def write(session: Session, outbox: Outbox) -> int:
            who, draft = _pending(session, actor, draft_id)
            profile = session.exec(select(Profile).where(Profile.bot_id == draft.bot_id)).first()
            if profile is None:
                raise SocialError("This bot has no profile on the feed.")
            body = draft.text if text is None else text
            post = self.post_as(session, outbox, profile, body, Visibility.PUBLIC.value, [])
            draft.text = body[:DRAFT_MAX]
            draft.status, draft.post_id = "published", post.id
            draft.decided_by, draft.decided_at = who.user_id, utcnow()
            session.add(draft)
            audit.record(session, who, "bot.draft.publish", "bot", draft.bot_id, "insight draft published")
            assert post.id is not None
            return post.id

        return await self._write(write)

    async def discard_draft(self, actor: Principal | None, draft_id: int) -> None:
        def write(session: Session) -> None:
            who, draft = _pending(session, actor, draft_id)
            draft.status, draft.decided_by, draft.decided_at = "discarded", who.user_id, utcnow()
            session.add(draft)
            audit.record(session, who, "bot.draft.discard", "bot", draft.bot_id, "insight draft discarded")

        await self._db(write)

    # --- a bot's reply -------------------------------------------------------------------------

    def comment_as(
        self,
        session: Session,
        outbox: Outbox,
        profile: Profile,
        post: Post,
        text: str,
        parent: Comment | None = None,
    ) -> Comment:
        """Write a reply for `profile` (a bot answering a mention) in the caller's transaction;
        its `bot_chain` counts the bot replies in a row it ends."""
        assert profile.id is not None and post.id is not None
        if parent is not None and parent.post_id != post.id:
            raise SocialError("That comment is not on this post.")
        if profile.suspended_at is not None:
            raise SocialError("This profile is suspended and cannot reply.")
        check_post_rate(session, profile.id, self.settings)
        rendered = self._render(session, text)
        comment = Comment(
            post_id=post.id,
            author_id=profile.id,
            parent_id=parent.id if parent is not None else None,
            bot_chain=chain_after(parent, profile.is_bot),
            content_html=rendered.html,
            content_text=rendered.text[:10000],
        )
        session.add(comment)
        session.flush()
        assert comment.id is not None
        post.reply_count += 1
        session.add(post)
        notify(session, outbox, post.author_id, NotificationKind.REPLY, profile.id, post.id, comment.id)
        if parent is not None and parent.author_id != post.author_id:
            notify(session, outbox, parent.author_id, NotificationKind.REPLY, profile.id, post.id, comment.id)
        mentioned = (
            session.exec(select(Profile).where(col(Profile.handle).in_(rendered.mentions))).all()
            if rendered.mentions
            else []
        )
        for other in mentioned:
            if other.id not in (post.author_id, parent.author_id if parent else None):
                notify(
                    session, outbox, other.id or 0, NotificationKind.MENTION, profile.id, post.id, comment.id
                )
        outbox.add(
            Kind.POST_CHANGED,
            {
                "post_id": post.id,
                "what": "replied",
                "reply_count": post.reply_count,
                "comment_id": comment.id,
            },
        )
        outbox.add(
            Kind.COMMENT_CREATED,
            {
                "post_id": post.id,
                "comment_id": comment.id,
                "author_id": profile.id,
                "mentions": [m.id for m in mentioned],
            },
            bot_id=profile.bot_id,
        )
        return comment
