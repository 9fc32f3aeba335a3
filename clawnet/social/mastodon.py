"""Mastodon's client API, as a service: the `/api/v1` and `/oauth` routes call only this (and the
social service's contracts for boosts, tags and search).

A bearer token acts as a `Caller`: a person's token (OAuth or personal) acts as that person
through the social service's own methods (permission checks, limits, events); a bot's token
(its API token, `cnb_...`) posts, replies and reads as the bot's profile.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, func, select

from clawnet.errors import NotFound, PermissionDenied
from clawnet.models import Comment, Notification, Post, Profile
from clawnet.security.permissions import Principal
from clawnet.security.sanitize import clean_text
from clawnet.social import audience, moderation, timelines
from clawnet.social import mastodon_entities as ent
from clawnet.social import mastodon_oauth as oauth
from clawnet.social import mastodon_tokens as tokens
from clawnet.social.federation import mentions
from clawnet.social.rules import Outbox, can_see
from clawnet.social.service import SocialService
from clawnet.social.writing import SocialError

Caller = oauth.Caller
MAX_LIMIT = 40
MIN_ID_WINDOW = 200  # how far above `min_id` the home timeline looks for the page just above it


def page_limit(raw: str | None, default: int = 20) -> int:
    return max(1, min(MAX_LIMIT, int(raw))) if raw and raw.isdigit() else default


class MastodonService:
    def __init__(self, social: SocialService) -> None:
        self.social = social
        self.settings = social.settings

    # --- tokens and OAuth ------------------------------------------------------------------

    async def caller(self, bearer: str) -> Caller | None:
        return await self.social._db(lambda s: oauth.caller_for_token(s, bearer))

    async def register_app(self, name: str, redirect_uris: str, scopes: str, website: str) -> dict[str, Any]:
        return await self.social._db(lambda s: oauth.register_app(s, name, redirect_uris, scopes, website))

    async def consent(self, user: Principal, request: oauth.Plain) -> oauth.Consent:
        return await self.social._db(lambda s: oauth.consent(s, user, request))

    async def authorize(self, user: Principal, request: oauth.Plain, approved: bool) -> oauth.Answer:
        return await self.social._db(lambda s: oauth.authorize(s, user, request, approved))

    async def token(self, request: oauth.Plain) -> oauth.Answer:
        return await self.social._db(lambda s: oauth.token(s, request))

    async def revoke(self, request: oauth.Plain) -> oauth.Answer:
        return await self.social._db(lambda s: oauth.revoke(s, request))

    async def create_personal_token(self, actor: Principal | None, name: str, scopes: str) -> str:
        return await self.social._db(lambda s: tokens.create_personal_token(s, actor, name, scopes))

    async def access_tokens(self, actor: Principal | None) -> list[tokens.AccessTokenRow]:
        return await self.social._db(lambda s: tokens.list_access_tokens(s, actor))

    async def revoke_access_token(self, actor: Principal | None, token_id: int) -> None:
        await self.social._db(lambda s: tokens.revoke_access_token(s, actor, token_id))

    # --- instance and accounts -------------------------------------------------------------

    async def instance(self, base: str) -> dict[str, Any]:
        def read(session: Session) -> dict[str, Any]:
            users = session.exec(select(func.count()).select_from(Profile)).one()
            posts = session.exec(select(func.count()).select_from(Post)).one()
            return {"users": users, "posts": posts}

        counts = await self.social._db(read)
        host = base.split("://", 1)[-1]
        return {
            "uri": host,
            "domain": host,
            "title": "ClawNet",
            "short_description": "ClawNet: people and their AI bots.",
            "description": "ClawNet: people and their AI bots.",
            "email": "",
            "version": "4.3.0 (compatible; ClawNet 0.1)",
            "source_url": "",
            "urls": {
                "streaming_api": base.replace("http", "ws", 1),
                "streaming": base.replace("http", "ws", 1),
            },
            "stats": {"user_count": counts["users"], "status_count": counts["posts"], "domain_count": 1},
            "languages": ["en"],
            "registrations": False,
            "approval_required": True,
            "invites_enabled": False,
            "configuration": {
                "urls": {"streaming": base.replace("http", "ws", 1)},
                "accounts": {"max_featured_tags": 0},
                "statuses": {
                    "max_characters": self.settings.post_max_chars,
                    "max_media_attachments": 4,
                    "characters_reserved_per_url": 23,
                },
                "media_attachments": {
                    "supported_mime_types": ["image/jpeg", "image/png", "image/gif", "image/webp"],
                    "image_size_limit": 10 * 1024 * 1024,
                },
                "polls": {"max_options": 0, "max_characters_per_option": 0},
            },
            "contact_account": None,
            "rules": [],
            "api_versions": {"mastodon": 2},
        }

    async def verify_credentials(self, caller: Caller, base: str) -> dict[str, Any]:
        if caller.profile_id is None:
            raise PermissionDenied("This token does not act for an account.")
        found = await self.accounts(caller, base, [caller.profile_id])
        if not found:
            raise NotFound("Record not found")
        return {**found[0], "source": {"privacy": "public", "sensitive": False, "note": "", "fields": []}}

    async def accounts(self, caller: Caller | None, base: str, ids: list[int]) -> list[dict[str, Any]]:
        def read(session: Session) -> list[dict[str, Any]]:
            found = ent.accounts(session, ent.Ctx(base, _viewer(caller)), set(ids))
            return [found[i] for i in ids if i in found]

        return await self.social._db(read)

    async def lookup(self, caller: Caller | None, base: str, acct: str) -> dict[str, Any] | None:
        handle = acct.strip().lstrip("@").split("@", 1)[0].lower()

        def read(session: Session) -> dict[str, Any] | None:
            p = session.exec(select(Profile).where(Profile.handle == handle)).first()
            return ent.account(ent.Ctx(base, _viewer(caller)), p) if p is not None else None

        return await self.social._db(read)

    async def account_statuses(
        self, caller: Caller | None, base: str, profile_id: int, *, max_id: int | None, limit: int
    ) -> list[dict[str, Any]]:
        def read(session: Session) -> list[dict[str, Any]]:
            me = _viewer(caller)
            ids = timelines.profile_ids(session, me, profile_id, max_id=max_id, limit=limit)
            return ent.statuses(session, ent.Ctx(base, me), ids)

        return await self.social._db(read)

    async def relationships(self, caller: Caller, ids: list[int]) -> list[dict[str, Any]]:
        return await self.social._db(lambda s: ent.relationships(s, caller.profile_id, ids))

    async def follow(self, caller: Caller, profile_id: int, follow: bool) -> dict[str, Any]:
        await self.social.set_follow(_person(caller), profile_id, follow)
        return (await self.relationships(caller, [profile_id]))[0]

    # --- statuses ------------------------------------------------------------------------------

    async def create_status(
        self,
        caller: Caller,
        base: str,
        *,
        text: str,
        visibility: str,
        spoiler_text: str = "",
        media_ids: list[int] | None = None,
        in_reply_to_id: str = "",
    ) -> dict[str, Any]:
        if visibility and visibility not in ent.FROM_MASTODON:
            raise SocialError(
                "Visibility must be public, unlisted or private (ClawNet has no direct messages)."
            )
        if in_reply_to_id:
            return await self._reply(caller, base, text, in_reply_to_id)
        spoiler = clean_text(spoiler_text).strip()[:500]
        await mentions.learn(self.social.settings, text, lambda s: self._acting_profile(s, caller))

        def write(session: Session, outbox: Outbox) -> int:
            profile = self._acting_profile(session, caller)
            post = self.social.post_as(
                session, outbox, profile, text, ent.FROM_MASTODON[visibility or "public"], media_ids or []
            )
            if spoiler:
                post.spoiler_text = spoiler
                session.add(post)
            assert post.id is not None
            return post.id

        post_id = await self.social._write(write)
        shown = await self.statuses(caller, base, [post_id])
        return shown[0]

    async def _reply(self, caller: Caller, base: str, text: str, in_reply_to_id: str) -> dict[str, Any]:
        post_id, parent_id = await self._resolve_reply_target(in_reply_to_id)
        comment_id = await self.social.comment(_person(caller), post_id, text, parent_id)
        found = await self.comment_status(caller, base, comment_id)
        if found is None:
            raise NotFound("Record not found")
        return found

    async def _resolve_reply_target(self, status_id: str) -> tuple[int, int | None]:
        if status_id.startswith("c") and status_id[1:].isdigit():
            row = await self.social._db(lambda s: s.get(Comment, int(status_id[1:])))
            if row is None:
                raise NotFound("Record not found")
            return row.post_id, row.id
        if not status_id.isdigit():
            raise NotFound("Record not found")
        return int(status_id), None

    def _acting_profile(self, session: Session, caller: Caller) -> Profile:
        if caller.principal is not None:
            return self.social.actor_profile(session, caller.principal)
        profile = session.get(Profile, caller.profile_id) if caller.profile_id else None
        if profile is None or not profile.is_bot:
            raise PermissionDenied("This token does not act for an account.")
        return profile

    async def statuses(self, caller: Caller | None, base: str, ids: list[int]) -> list[dict[str, Any]]:
        """These statuses, as far as the caller may see them."""

        def read(session: Session) -> list[dict[str, Any]]:
            me = _viewer(caller)
            rows = session.exec(
                select(Post).where(col(Post.id).in_(ids), *audience.post_clauses(session, me))
            )
            visible = {p.id for p in rows.all() if can_see(session, me, p)}
            return ent.statuses(session, ent.Ctx(base, me), [i for i in ids if i in visible])

        return await self.social._db(read)

    async def comment_status(
        self, caller: Caller | None, base: str, comment_id: int
    ) -> dict[str, Any] | None:
        def read(session: Session) -> dict[str, Any] | None:
            me = _viewer(caller)
            comment = session.get(Comment, comment_id)
            post = session.get(Post, comment.post_id) if comment is not None else None
            if comment is None or post is None or not can_see(session, me, post):
                return None
            if _visible_comments(session, me, [comment]) != [comment]:
                return None  # a muted, blocked or suspended author's comment: not found
            return ent.comment_statuses(session, ent.Ctx(base, me), post, [comment])[0]

        return await self.social._db(read)

    async def status(self, caller: Caller | None, base: str, status_id: str) -> dict[str, Any] | None:
        if status_id.startswith("c") and status_id[1:].isdigit():
            return await self.comment_status(caller, base, int(status_id[1:]))
        found = await self.statuses(caller, base, [int(status_id)]) if status_id.isdigit() else []
        return found[0] if found else None

    async def delete_status(self, caller: Caller, base: str, status_id: str) -> dict[str, Any]:
        shown = await self.status(caller, base, status_id)
        if shown is None:
            raise NotFound("Record not found")
        if status_id.startswith("c"):
            await self.social.delete_comment(_person(caller), int(status_id[1:]))
        else:
            await self.social.delete_post(_person(caller), int(status_id))
        return {**shown, "text": shown.get("content", "")}

    async def context(self, caller: Caller | None, base: str, status_id: str) -> dict[str, Any] | None:
        post_id = (await self._resolve_reply_target(status_id))[0]

        def read(session: Session) -> dict[str, Any] | None:
            me = _viewer(caller)
            post = session.get(Post, post_id)
            if post is None or not can_see(session, me, post):
                return None
            comments = _visible_comments(
                session,
                me,
                list(
                    session.exec(
                        select(Comment).where(Comment.post_id == post_id).order_by(col(Comment.id))
                    ).all()
                ),
            )
            ctx = ent.Ctx(base, me)
            replies = ent.comment_statuses(session, ctx, post, comments)
            if status_id.startswith("c"):
                mine = next((i for i, r in enumerate(replies) if r["id"] == status_id), 0)
                return {
                    "ancestors": [*ent.statuses(session, ctx, [post_id]), *replies[:mine]],
                    "descendants": replies[mine + 1 :],
                }
            return {"ancestors": [], "descendants": replies}

        return await self.social._db(read)

    async def favourite(self, caller: Caller, base: str, post_id: int, on: bool) -> dict[str, Any]:
        await self.social.set_like(_person(caller), post_id, on)
        shown = await self.statuses(caller, base, [post_id])
        if not shown:
            raise NotFound("Record not found")
        return shown[0]

    async def upload_media(self, caller: Caller, base: str, data: bytes, description: str) -> dict[str, Any]:
        """POST /api/v2/media: an image for the caller's next status (a person's token)."""
        upload = await self.social.upload_post_image(_person(caller), data)
        url = upload.url if upload.url.startswith("http") else base + upload.url
        return {
            "id": str(upload.media_id),
            "type": "image",
            "url": url,
            "preview_url": url,
            "remote_url": None,
            "description": clean_text(description)[:1000] or None,
            "blurhash": None,
            "meta": {},
        }

    # --- timelines and notifications -------------------------------------------------------------

    async def timeline(
        self,
        caller: Caller | None,
        base: str,
        which: str,
        *,
        max_id: int | None = None,
        since_id: int | None = None,
        min_id: int | None = None,
        limit: int = 20,
    ) -> list[dict[str, Any]]:
        """`home` or `public`, newest first, with Mastodon's cursors: `max_id` (older than),
        `since_id` (newer than, the newest first) and `min_id` (the page just newer than)."""

        def read(session: Session) -> list[dict[str, Any]]:
            me = _viewer(caller)
            if which == "home":
                if me is None:
                    return []
                if min_id is not None:  # the page just above min_id: the oldest of what is newer
                    newer = timelines.home_ids(session, me, max_id=max_id, min_id=min_id, limit=MIN_ID_WINDOW)
                    ids = newer[-limit:]
                else:
                    ids = timelines.home_ids(session, me, max_id=max_id, min_id=since_id, limit=limit)
            else:
                q = select(Post.id).where(Post.visibility == "public", *audience.post_clauses(session, me))
                if max_id is not None:
                    q = q.where(col(Post.id) < max_id)
                if since_id is not None:
                    q = q.where(col(Post.id) > since_id)
                if min_id is not None:
                    q = q.where(col(Post.id) > min_id)
                    found = session.exec(q.order_by(col(Post.id).asc()).limit(limit)).all()
                    ids = sorted((i for i in found if i is not None), reverse=True)
                else:
                    ids = [i for i in session.exec(q.order_by(col(Post.id).desc()).limit(limit)).all() if i]
            return ent.statuses(session, ent.Ctx(base, me), ids)

        return await self.social._db(read)

    async def notifications(
        self, caller: Caller, base: str, *, max_id: int | None, since_id: int | None, limit: int
    ) -> list[dict[str, Any]]:
        def read(session: Session) -> list[dict[str, Any]]:
            if caller.profile_id is None:
                return []
            me = caller.profile_id
            q = select(Notification).where(
                Notification.recipient_id == me, *moderation.notification_clauses(session, me)
            )
            if max_id is not None:
                q = q.where(col(Notification.id) < max_id)
            if since_id is not None:
                q = q.where(col(Notification.id) > since_id)
            rows = list(session.exec(q.order_by(col(Notification.id).desc()).limit(limit)).all())
            # Only about statuses the viewer may see (a notification never leaks a hidden post).
            posts = {n.post_id for n in rows if n.post_id}
            seen = {
                p.id
                for p in session.exec(select(Post).where(col(Post.id).in_(posts))).all()
                if can_see(session, me, p)
            }
            rows = [n for n in rows if not n.post_id or n.post_id in seen]
            return ent.notifications(session, ent.Ctx(base, me), rows)

        return await self.social._db(read)

    async def notification(self, caller: Caller, base: str, recipient_id: int) -> dict[str, Any] | None:
        """The caller's newest notification (for the user stream), if it is theirs."""
        if caller.profile_id != recipient_id:
            return None
        newest = await self.social._db(
            lambda s: s.exec(
                select(func.max(Notification.id)).where(Notification.recipient_id == recipient_id)
            ).one()
        )
        found = await self.notifications(caller, base, max_id=None, since_id=None, limit=1)
        # Only that newest one: when moderation drops it, never resend an older one instead.
        return found[0] if found and found[0]["id"] == str(newest) else None

    async def home_follows(self, caller: Caller) -> set[int]:
        """The authors whose posts reach the caller's home stream (themselves included)."""

        def read(session: Session) -> set[int]:
            if caller.profile_id is None:
                return set()
            return {caller.profile_id, *timelines._followees(session, caller.profile_id)}

        return await self.social._db(read)


def _visible_comments(session: Session, me: int | None, comments: list[Comment]) -> list[Comment]:
    """The comments this viewer sees, as the web thread shows them: none by a muted, blocked or
    suspended author, nor any reply under one of those."""
    hidden = moderation.comment_authors_hidden(session, me, {c.author_id for c in comments})
    gone: set[int | None] = set()
    shown: list[Comment] = []
    for c in sorted(comments, key=lambda c: c.id or 0):
        if c.author_id in hidden or (c.parent_id is not None and c.parent_id in gone):
            gone.add(c.id)
            continue
        shown.append(c)
    return shown


def _viewer(caller: Caller | None) -> int | None:
    return caller.profile_id if caller is not None else None


def _person(caller: Caller) -> Principal:
    if caller.principal is None:
        raise PermissionDenied("Bot tokens can post and read; this action needs a person's token.")
    return caller.principal
