"""Applying notes: Create (a post, or a comment when it answers one we have), Update (with edit
history; an actor updating its own profile), Delete (a note, or an actor deleting itself). Only a
note's author may change or delete it."""

from __future__ import annotations

import html
import re
from typing import Any

from sqlmodel import col, select

from clawnet import routes
from clawnet.enums import NotificationKind, Visibility
from clawnet.events import Kind
from clawnet.models import Comment, Follow, Like, Post, PostEdit, PostMention, Profile, utcnow
from clawnet.models.federation import ApObject
from clawnet.security.sanitize import clean_html, clean_text
from clawnet.social import hashtags
from clawnet.social.federation import remote, urls
from clawnet.social.federation.inbox_base import (
    NOTE_TYPES,
    PUBLIC_ALIASES,
    ApplierBase,
    Incoming,
    Refused,
    as_list,
    host_of,
    object_id,
    plain_text,
    recount_follows,
    recount_post,
    recount_posts,
)
from clawnet.social.rules import notify

_ANCHOR = re.compile(r'<a\b[^>]*?\bhref="([^"]*)"[^>]*>')


class NoteApplier(ApplierBase):
    def _visibility(self, note: dict[str, Any]) -> str:
        addressed = {object_id(a) for a in (*as_list(note.get("to")), *as_list(note.get("cc")))}
        return Visibility.PUBLIC.value if addressed & PUBLIC_ALIASES else Visibility.FOLLOWERS.value

    def _mentions_and_tags(self, note: dict[str, Any]) -> tuple[list[Profile], list[str]]:
        mentioned: dict[int, Profile] = {}
        tags: list[str] = []
        for tag in as_list(note.get("tag")):
            if not isinstance(tag, dict):
                continue
            if tag.get("type") == "Mention":
                profile = self.local_profile(object_id(tag.get("href")))
                if profile is not None and profile.id is not None:
                    mentioned[profile.id] = profile
            elif tag.get("type") == "Hashtag" and isinstance(tag.get("name"), str):
                name = hashtags.normalize(str(tag["name"]))
                if name and len(name) <= 100 and name not in tags:
                    tags.append(name)
        return list(mentioned.values()), tags

    @staticmethod
    def _summary(note: dict[str, Any]) -> str:
        summary = note.get("summary")
        return " ".join(clean_text(summary if isinstance(summary, str) else "").split())[:500]

    def _content(self, note: dict[str, Any]) -> tuple[str, str]:
        raw = note.get("content")
        markup = clean_html(clean_text(raw if isinstance(raw, str) else ""))
        markup = self._local_mention_links(note, markup)[:20000]
        return markup, plain_text(markup)[:10000]

    def _local_mention_links(self, note: dict[str, Any], markup: str) -> str:
        """Links to the local profiles the note's `Mention` tags name (by actor id, or by profile
        page as Mastodon writes them) made this site's own profile links, marked as mentions."""
        local: dict[str, str] = {}
        for tag in as_list(note.get("tag")):
            if isinstance(tag, dict) and tag.get("type") == "Mention":
                profile = self.local_profile(object_id(tag.get("href")))
                if profile is not None:
                    for href in (object_id(tag.get("href")), urls.actor(self.settings, profile.handle)):
                        local[href] = routes.profile(profile.handle)
                    local[urls.base(self.settings) + routes.profile(profile.handle)] = routes.profile(
                        profile.handle
                    )
        if not local:
            return markup

        def relink(match: re.Match[str]) -> str:
            href = html.unescape(match.group(1))
            if href not in local:
                return match.group(0)
            return f'<a href="{html.escape(local[href])}" class="mention" rel="nofollow noopener">'

        return _ANCHOR.sub(relink, markup)

    def create_note(self, note: dict[str, Any], author: Profile) -> tuple[int, str]:
        assert author.id is not None
        note_id = object_id(note)
        if not note_id or host_of(note_id) != (author.domain or ""):
            raise Refused(400, "A note's id must be on its author's host.")
        if self.mapped(note_id) is not None:
            return 202, "Already have it."
        markup, text = self._content(note)
        mentioned, tags = self._mentions_and_tags(note)
        reply_to = object_id(note.get("inReplyTo"))
        post: Post | None = None
        parent: Comment | None = None
        if reply_to:
            local_comment = urls.local_comment_id(self.settings, reply_to)
            mapped = self.mapped(reply_to)
            if local_comment is not None:
                parent = self.session.get(Comment, local_comment)
            elif mapped is not None and mapped.comment_id:
                parent = self.session.get(Comment, mapped.comment_id)
            post = self.session.get(Post, parent.post_id) if parent is not None else self.post_for(reply_to)
        if post is not None and post.id is not None:
            return self._comment(note_id, note, author, post, parent, markup, text, mentioned)
        summary = self._summary(note)
        row = Post(
            author_id=author.id,
            content_html=markup,
            content_text=text,
            visibility=self._visibility(note),
            author_is_bot=author.is_bot,
            spoiler_text=summary[:500],
        )
        self.session.add(row)
        self.session.flush()
        assert row.id is not None
        self.session.add(ApObject(ap_id=note_id, post_id=row.id))
        hashtags.set_tags(self.session, row, tags)
        for other in mentioned:
            assert other.id is not None
            self.session.add(PostMention(post_id=row.id, profile_id=other.id))
            notify(self.session, self.outbox, other.id, NotificationKind.MENTION, author.id, row.id)
        recount_posts(self.session, author)
        self.outbox.add(
            Kind.POST_CREATED,
            {
                "post_id": row.id,
                "author_id": author.id,
                "visibility": row.visibility,
                "mentions": [m.id for m in mentioned],
            },
        )
        return 202, "Post created."

    def _comment(
        self,
        note_id: str,
        note: dict[str, Any],
        author: Profile,
        post: Post,
        parent: Comment | None,
        markup: str,
        text: str,
        mentioned: list[Profile],
    ) -> tuple[int, str]:
        assert author.id is not None and post.id is not None
        comment = Comment(
            post_id=post.id,
            author_id=author.id,
            parent_id=parent.id if parent is not None else None,
            content_html=markup,
            content_text=text,
        )
        self.session.add(comment)
        self.session.flush()
        assert comment.id is not None
        self.session.add(ApObject(ap_id=note_id, comment_id=comment.id))
        recount_post(self.session, post)
        notify(
            self.session, self.outbox, post.author_id, NotificationKind.REPLY, author.id, post.id, comment.id
        )
        if parent is not None and parent.author_id != post.author_id:
            notify(
                self.session,
                self.outbox,
                parent.author_id,
                NotificationKind.REPLY,
                author.id,
                post.id,
                comment.id,
            )
        for other in mentioned:
            if other.id not in (post.author_id, parent.author_id if parent else None):
                notify(
                    self.session,
                    self.outbox,
                    other.id or 0,
                    NotificationKind.MENTION,
                    author.id,
                    post.id,
                    comment.id,
                )
        self.outbox.add(
            Kind.POST_CHANGED,
            {
                "post_id": post.id,
                "what": "replied",
                "reply_count": post.reply_count,
                "comment_id": comment.id,
            },
        )
        self.outbox.add(
            Kind.COMMENT_CREATED,
            {
                "post_id": post.id,
                "comment_id": comment.id,
                "author_id": author.id,
                "mentions": [m.id for m in mentioned],
            },
        )
        return 202, "Reply created."

    def on_Create(self, incoming: Incoming) -> tuple[int, str]:  # noqa: N802
        note = incoming.activity.get("object")
        if isinstance(note, str) and incoming.fetched_note is not None:
            note = incoming.fetched_note
        if not isinstance(note, dict) or note.get("type") not in NOTE_TYPES:
            return 202, "Ignored (not a note)."
        if object_id(note.get("attributedTo")) not in ("", incoming.signer_uri):
            raise Refused(403, "The note's author is not the actor.")
        return self.create_note(note, self.signer)

    def _owned(self, ap_id: str) -> tuple[Post | None, Comment | None]:
        row = self.mapped(ap_id)
        if row is None:
            return None, None
        post = self.session.get(Post, row.post_id) if row.post_id else None
        comment = self.session.get(Comment, row.comment_id) if row.comment_id else None
        author = post.author_id if post is not None else comment.author_id if comment is not None else None
        if author is not None and author != self.signer_id:
            raise Refused(403, "Only a note's author can change it.")
        return post, comment

    def on_Update(self, incoming: Incoming) -> tuple[int, str]:  # noqa: N802
        obj = incoming.activity.get("object")
        if not isinstance(obj, dict):
            return 202, "Ignored."
        if obj.get("type") in remote.ACTOR_TYPES:
            if object_id(obj) != incoming.signer_uri:
                raise Refused(403, "An actor can only update itself.")
            try:
                remote.check_actor(obj, incoming.signer_uri)
            except remote.RemoteError as exc:
                raise Refused(400, str(exc)) from exc
            remote.store_actor(self.session, self.settings, obj)
            return 202, "Profile updated."
        if obj.get("type") not in NOTE_TYPES:
            return 202, "Ignored."
        post, comment = self._owned(object_id(obj))
        markup, text = self._content(obj)
        if post is not None and post.id is not None:
            warning = self._summary(obj)
            if markup == post.content_html and warning == post.spoiler_text:
                return 202, "Unchanged."
            self.session.add(
                PostEdit(
                    post_id=post.id,
                    content_html=post.content_html,
                    content_text=post.content_text,
                    spoiler_text=post.spoiler_text,
                    created_at=post.edited_at or post.created_at,
                )
            )
            post.content_html, post.content_text, post.spoiler_text = markup, text, warning
            post.edited_at = utcnow()
            self.session.add(post)
            mentioned, tags = self._mentions_and_tags(obj)
            hashtags.set_tags(self.session, post, tags)
            existing = {
                m.profile_id: m
                for m in self.session.exec(select(PostMention).where(PostMention.post_id == post.id))
            }
            wanted = {m.id: m for m in mentioned if m.id is not None}
            for pid, mention in existing.items():
                if pid not in wanted:
                    self.session.delete(mention)
            for pid in wanted:
                if pid not in existing:
                    self.session.add(PostMention(post_id=post.id, profile_id=pid))
                    notify(self.session, self.outbox, pid, NotificationKind.MENTION, self.signer_id, post.id)
            self.outbox.add(Kind.POST_CHANGED, {"post_id": post.id, "what": "edited"})
            return 202, "Post updated."
        if comment is not None:
            comment.content_html, comment.content_text, comment.edited_at = markup, text, utcnow()
            self.session.add(comment)
            self.outbox.add(Kind.POST_CHANGED, {"post_id": comment.post_id, "what": "replied"})
            return 202, "Reply updated."
        return 202, "Unknown note."

    def on_Delete(self, incoming: Incoming) -> tuple[int, str]:  # noqa: N802
        target = object_id(incoming.activity.get("object"))
        if target == incoming.signer_uri:
            return self._delete_actor()
        post, comment = self._owned(target)
        if post is not None:
            author = self.session.get(Profile, post.author_id)
            self.outbox.add(Kind.POST_CHANGED, {"post_id": post.id, "what": "deleted"})
            self.session.delete(post)
            if author is not None:
                recount_posts(self.session, author)
            return 202, "Post deleted."
        if comment is not None:
            parent_post = self.session.get(Post, comment.post_id)
            self.session.delete(comment)
            if parent_post is not None:
                recount_post(self.session, parent_post)
            self.outbox.add(Kind.POST_CHANGED, {"post_id": comment.post_id, "what": "replied"})
            return 202, "Reply deleted."
        return 202, "Unknown note."

    def _delete_actor(self) -> tuple[int, str]:
        followed = self.session.exec(
            select(Follow.followee_id).where(Follow.follower_id == self.signer_id)
        ).all()
        followers = self.session.exec(
            select(Follow.follower_id).where(Follow.followee_id == self.signer_id)
        ).all()
        liked = self.session.exec(select(Like.post_id).where(Like.profile_id == self.signer_id)).all()
        boosted = self.session.exec(
            select(Post.reblog_of_id).where(
                Post.author_id == self.signer_id, col(Post.reblog_of_id).is_not(None)
            )
        ).all()
        commented = self.session.exec(
            select(Comment.post_id).where(Comment.author_id == self.signer_id)
        ).all()
        self.session.delete(self.signer)
        self.session.flush()
        recount_follows(self.session, *{*followed, *followers})
        for post_id in {*liked, *boosted, *commented}:
            post = self.session.get(Post, post_id) if post_id else None
            if post is not None:
                recount_post(self.session, post)
        return 202, "Account removed."

    # likes and boosts
