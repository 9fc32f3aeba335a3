"""Applying one verified activity (in the caller's transaction): dispatch by type; Follow, Accept,
Reject and Undo; Like and Announce. Notes are in `inbox_notes`."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from clawnet.enums import NotificationKind, Visibility
from clawnet.events import Kind
from clawnet.models import Follow, Like, Post, Profile
from clawnet.models.federation import ApObject
from clawnet.social import moderation
from clawnet.social.federation import inbox_base, remote
from clawnet.social.federation.inbox_base import (
    Incoming,
    Refused,
    host_of,
    log,
    object_id,
    recount_follows,
    recount_post,
)
from clawnet.social.federation.inbox_notes import NoteApplier
from clawnet.social.rules import notify


class Applier(NoteApplier):
    """Applies one verified activity in the caller's transaction."""

    def apply(self, incoming: Incoming) -> tuple[int, str]:
        activity = incoming.activity
        kind = activity.get("type")
        handler: Callable[[Incoming], tuple[int, str]] | None = getattr(self, f"on_{kind}", None)
        if handler is None or not isinstance(kind, str):
            return 202, f"Ignored ({kind})."
        return handler(incoming)

    # follows

    def on_Follow(self, incoming: Incoming) -> tuple[int, str]:  # noqa: N802
        activity = incoming.activity
        local = self.local_profile(object_id(activity.get("object")))
        if local is None or local.id is None:
            raise Refused(404, "No such actor here.")
        if (
            not self.settings.federation_enabled
            or not local.federated
            or local.suspended_at is not None
            or moderation.blocked_between(self.session, self.signer_id, local.id)
        ):
            inbox_base.send_reject(self.session, self.settings, local, activity)
            return 202, "Follow rejected."
        existing = self.session.exec(
            select(Follow).where(Follow.follower_id == self.signer_id, Follow.followee_id == local.id)
        ).first()
        if existing is None:
            try:
                with self.session.begin_nested():
                    self.session.add(Follow(follower_id=self.signer_id, followee_id=local.id))
                    self.session.flush()
                notify(self.session, self.outbox, local.id, NotificationKind.FOLLOW, self.signer_id)
            except IntegrityError:
                pass
        recount_follows(self.session, local.id, self.signer_id)
        self.outbox.add(
            Kind.POST_CHANGED, {"what": "followed", "follower_id": self.signer_id, "followee_id": local.id}
        )
        inbox_base.send_accept(self.session, self.settings, local, activity)
        return 202, "Follow accepted."

    def on_Accept(self, incoming: Incoming) -> tuple[int, str]:  # noqa: N802
        return 202, "Accepted."  # our Follow row was made when we sent it

    def on_Reject(self, incoming: Incoming) -> tuple[int, str]:  # noqa: N802
        follow = incoming.activity.get("object")
        # Our Follow, embedded (its actor is the local follower) or by id (ours are
        # `{follower's actor}#follows/{id}`, so the id names the follower too).
        follower = self.local_profile(
            object_id(follow.get("actor")) if isinstance(follow, dict) else object_id(follow)
        )
        rows = self.session.exec(
            select(Follow).where(
                Follow.followee_id == self.signer_id,
                *([Follow.follower_id == follower.id] if follower is not None else []),
            )
        ).all()
        if follower is None and len(rows) != 1:
            rows = []  # cannot tell which local follow is meant: keep them all
        touched = {self.signer_id}
        for row in rows:
            touched.add(row.follower_id)
            self.session.delete(row)
        recount_follows(self.session, *touched)
        return 202, "Follow rejected."

    # undo

    def on_Undo(self, incoming: Incoming) -> tuple[int, str]:  # noqa: N802
        inner = incoming.activity.get("object")
        inner_id = object_id(inner)
        inner_type = inner.get("type") if isinstance(inner, dict) else None
        if isinstance(inner, dict) and object_id(inner.get("actor")) not in ("", incoming.signer_uri):
            raise Refused(403, "Only the actor of an activity can undo it.")
        if inner_type == "Follow":
            local = self.local_profile(object_id(inner.get("object")) if isinstance(inner, dict) else "")
            if local is not None and local.id is not None:
                row = self.session.exec(
                    select(Follow).where(Follow.follower_id == self.signer_id, Follow.followee_id == local.id)
                ).first()
                if row is not None:
                    self.session.delete(row)
                recount_follows(self.session, local.id, self.signer_id)
            return 202, "Unfollowed."
        if inner_type == "Like":
            post = self.post_for(object_id(inner.get("object")) if isinstance(inner, dict) else "")
            if post is not None:
                like = self.session.exec(
                    select(Like).where(Like.profile_id == self.signer_id, Like.post_id == post.id)
                ).first()
                if like is not None:
                    self.session.delete(like)
                recount_post(self.session, post)
                self.outbox.add(
                    Kind.POST_CHANGED, {"post_id": post.id, "what": "liked", "like_count": post.like_count}
                )
            return 202, "Unliked."
        # An Announce (or an id we mapped when it arrived)
        mapped = self.mapped(inner_id)
        boost = self.session.get(Post, mapped.post_id) if mapped is not None and mapped.post_id else None
        if boost is None and inner_type == "Announce" and isinstance(inner, dict):
            original = self.post_for(object_id(inner.get("object")))
            if original is not None:
                boost = self.session.exec(
                    select(Post).where(Post.author_id == self.signer_id, Post.reblog_of_id == original.id)
                ).first()
        if boost is not None and boost.reblog_of_id is not None:
            if boost.author_id != self.signer_id:
                raise Refused(403, "Only the booster can undo a boost.")
            original = self.session.get(Post, boost.reblog_of_id)
            self.outbox.add(Kind.POST_CHANGED, {"post_id": boost.id, "what": "deleted"})
            self.session.delete(boost)
            if original is not None:
                recount_post(self.session, original)
                self.outbox.add(
                    Kind.POST_CHANGED,
                    {"post_id": original.id, "what": "boosted", "reblog_count": original.reblog_count},
                )
            return 202, "Unboosted."
        return 202, "Nothing to undo."

    # notes

    def on_Like(self, incoming: Incoming) -> tuple[int, str]:  # noqa: N802
        post = self.post_for(object_id(incoming.activity.get("object")))
        if post is None or post.id is None:
            return 202, "Unknown post."
        if not self._may_see(post):
            return 202, "Not visible."
        existing = self.session.exec(
            select(Like).where(Like.profile_id == self.signer_id, Like.post_id == post.id)
        ).first()
        if existing is None:
            try:
                with self.session.begin_nested():
                    self.session.add(Like(profile_id=self.signer_id, post_id=post.id))
                    self.session.flush()
                notify(
                    self.session, self.outbox, post.author_id, NotificationKind.LIKE, self.signer_id, post.id
                )
            except IntegrityError:
                pass
        recount_post(self.session, post)
        self.outbox.add(
            Kind.POST_CHANGED, {"post_id": post.id, "what": "liked", "like_count": post.like_count}
        )
        return 202, "Liked."

    def _may_see(self, post: Post) -> bool:
        from clawnet.social.rules import can_see

        return can_see(self.session, self.signer_id, post)

    def on_Announce(self, incoming: Incoming) -> tuple[int, str]:  # noqa: N802
        activity = incoming.activity
        announced = object_id(activity.get("object"))
        post = self.post_for(announced)
        if post is None and incoming.fetched_note is not None:
            author_uri = object_id(incoming.fetched_note.get("attributedTo"))
            author = remote.actor_profile(self.session, self.settings, author_uri)
            if author is not None and host_of(author_uri) == host_of(announced):
                self.create_note(incoming.fetched_note, author)
                post = self.post_for(announced)
        if post is None or post.id is None:
            log.info("inbox: Announce of %s skipped (unknown note)", announced)
            return 202, "Unknown note."
        if post.reblog_of_id is not None:
            post = self.session.get(Post, post.reblog_of_id) or post
        if post.visibility != Visibility.PUBLIC.value or post.hidden_at is not None:
            return 202, "Only public posts can be boosted."
        assert post.id is not None
        existing = self.session.exec(
            select(Post.id).where(Post.author_id == self.signer_id, Post.reblog_of_id == post.id)
        ).first()
        if existing is not None:
            return 202, "Already boosted."
        original_author = self.session.get(Profile, post.author_id)
        row = Post(
            author_id=self.signer_id,
            content_html="",
            content_text="",
            visibility=post.visibility,
            reblog_of_id=post.id,
            author_is_bot=self.signer.is_bot or bool(original_author and original_author.is_bot),
        )
        self.session.add(row)
        self.session.flush()
        if activity.get("id"):
            self.session.add(ApObject(ap_id=str(activity["id"])[:2000], post_id=row.id))
        recount_post(self.session, post)
        notify(self.session, self.outbox, post.author_id, NotificationKind.REBLOG, self.signer_id, post.id)
        self.outbox.add(
            Kind.POST_CREATED,
            {
                "post_id": row.id,
                "author_id": self.signer_id,
                "visibility": row.visibility,
                "mentions": [],
                "reblog_of_id": post.id,
            },
        )
        self.outbox.add(
            Kind.POST_CHANGED, {"post_id": post.id, "what": "boosted", "reblog_count": post.reblog_count}
        )
        return 202, "Boosted."
