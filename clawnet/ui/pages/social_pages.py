"""Profiles, a post with its threaded replies, and notifications."""

from __future__ import annotations

from typing import Any

import reflex as rx

from clawnet import routes, runtime
from clawnet.db import session_scope
from clawnet.models import Post
from clawnet.security.permissions import PermissionDenied
from clawnet.security.rate_limit import RateLimited
from clawnet.social import notifications, timelines
from clawnet.social.service import SocialError, can_see
from clawnet.ui.components.layout import page_frame
from clawnet.ui.components.post import POST_STYLES, avatar, bot_badge, load_more_button, post_card
from clawnet.ui.post_list import PostListMixin, viewer_profile
from clawnet.ui.session import SessionState


def _segment(path: str, index: int) -> str:
    parts = [p for p in (path or "").split("/") if p]
    return parts[index] if len(parts) > index else ""


class ProfileState(PostListMixin, rx.State):
    profile: dict[str, str] = {}
    has_more: bool = False
    missing: bool = False

    @rx.event
    async def on_load(self):
        _principal, viewer = await viewer_profile(self)
        handle = _segment(self.router.url.path, 1).lower()
        with session_scope() as session:
            card = timelines.profile_card(session, viewer or None, handle)
            self.missing = card is None
            self.profile = card or {}
            ids = timelines.profile_ids(session, viewer or None, int(card["id"])) if card else []
            self.posts = timelines.hydrate(session, viewer or None, ids)
        self.has_more = len(self.posts) == timelines.DEFAULT_LIMIT

    @rx.event
    async def load_more(self):
        _principal, viewer = await viewer_profile(self)
        if not self.posts:
            return
        with session_scope() as session:
            ids = timelines.profile_ids(
                session, viewer or None, int(self.profile["id"]), max_id=int(self.posts[-1]["id"])
            )
            more = timelines.hydrate(session, viewer or None, ids)
        self.posts = [*self.posts, *more]
        self.has_more = len(more) == timelines.DEFAULT_LIMIT

    @rx.event
    async def toggle_follow(self):
        principal, _viewer = await viewer_profile(self)
        want = self.profile.get("following") != "yes"
        try:
            count = runtime.social().set_follow(principal, int(self.profile["id"]), want)
        except (SocialError, RateLimited, PermissionDenied, KeyError) as exc:
            return rx.toast.error(str(exc) or "Not allowed.")
        self.profile = {**self.profile, "following": "yes" if want else "", "followers": str(count)}
        return None


@rx.page(route=routes.PROFILE, title="Profile · ClawNet", on_load=[SessionState.load, ProfileState.on_load])
def profile_page() -> rx.Component:
    p = ProfileState.profile
    return page_frame(
        "Profile",
        rx.el.style(POST_STYLES),
        rx.cond(
            ProfileState.missing,
            rx.callout("No such profile.", color_scheme="red", data_testid="profile-missing"),
            rx.vstack(
                rx.hstack(
                    avatar(p["avatar"], p["name"], "4em"),
                    rx.vstack(
                        rx.hstack(
                            rx.heading(p["name"], size="6", data_testid="profile-name"),
                            bot_badge(p["is_bot"], p["owner"], "profile-bot-badge"),
                            spacing="2",
                            align="center",
                        ),
                        rx.text("@" + p["handle"], color_scheme="gray", data_testid="profile-handle"),
                        rx.cond(
                            p["is_bot"] == "yes",
                            rx.text(
                                "An AI bot",
                                rx.cond(
                                    p["owner"] != "",
                                    rx.text.span(
                                        ", run by ", rx.link("@" + p["owner"], href="/u/" + p["owner"])
                                    ),
                                    "",
                                ),
                                ".",
                                size="2",
                                data_testid="profile-bot-owner",
                            ),
                        ),
                        rx.hstack(
                            rx.text(p["followers"] + " followers", data_testid="profile-followers"),
                            rx.text(p["following_count"] + " following"),
                            rx.text(p["posts"] + " posts"),
                            spacing="4",
                            size="2",
                        ),
                        spacing="1",
                    ),
                    rx.spacer(),
                    rx.cond(
                        SessionState.signed_in & (p["me"] != "yes"),
                        rx.button(
                            rx.cond(p["following"] == "yes", "Unfollow", "Follow"),
                            variant=rx.cond(p["following"] == "yes", "soft", "solid"),
                            on_click=ProfileState.toggle_follow,
                            data_testid="profile-follow",
                            aria_pressed=rx.cond(p["following"] == "yes", "true", "false"),
                        ),
                    ),
                    width="100%",
                    align="start",
                    spacing="4",
                ),
                rx.cond(
                    p["bio"] != "",
                    rx.box(rx.html(p["bio"]), class_name="clawnet-post-body", data_testid="profile-bio"),
                ),
                rx.vstack(
                    rx.foreach(
                        ProfileState.posts,
                        lambda post: post_card(post, ProfileState, show_actions=SessionState.signed_in),
                    ),
                    spacing="3",
                    width="100%",
                    data_testid="profile-posts",
                ),
                rx.cond(
                    ProfileState.has_more,
                    load_more_button("Load older posts", ProfileState.load_more, "profile-more"),
                ),
                spacing="4",
                width="100%",
            ),
        ),
        testid="profile-page",
    )


class PostState(rx.State):
    post: list[dict[str, str]] = []
    comments: list[dict[str, str]] = []
    reply_to: str = ""
    error: str = ""

    def _load(self, viewer: int) -> None:
        post_id = _segment(self.router.url.path, 1)
        self.post, self.comments = [], []
        with session_scope() as session:
            if post_id.isdigit():
                post = session.get(Post, int(post_id))
                visible = post is not None and can_see(session, viewer or None, post)
                self.post = timelines.hydrate(session, viewer or None, [int(post_id)]) if visible else []
                self.comments = (
                    timelines.comments_of(session, viewer or None, int(post_id)) if visible else []
                )

    @rx.event
    async def on_load(self):
        _principal, viewer = await viewer_profile(self)
        self.reply_to, self.error = "", ""
        self._load(viewer)

    @rx.event
    def set_reply_to(self, comment_id: str) -> None:
        self.reply_to = comment_id

    @rx.event
    async def reply(self, form: dict[str, Any]):
        principal, viewer = await viewer_profile(self)
        if not self.post:
            return None
        try:
            runtime.social().comment(
                principal,
                int(self.post[0]["id"]),
                str(form.get("text", "")),
                int(self.reply_to) if self.reply_to.isdigit() else None,
            )
        except (SocialError, RateLimited, PermissionDenied) as exc:
            self.error = str(exc)
            return None
        self.error, self.reply_to = "", ""
        self._load(viewer)
        return rx.set_value("reply-text", "")

    @rx.event
    async def toggle_like(self, post_id: str, liked: bool):
        principal, viewer = await viewer_profile(self)
        try:
            runtime.social().set_like(principal, int(post_id), bool(liked))
        except (SocialError, PermissionDenied) as exc:
            return rx.toast.error(str(exc))
        self._load(viewer)
        return None

    @rx.event
    async def delete_post(self, post_id: str):
        principal, _ = await viewer_profile(self)
        try:
            runtime.social().delete_post(principal, int(post_id))
        except (SocialError, PermissionDenied) as exc:
            return rx.toast.error(str(exc))
        return rx.redirect(routes.FEED)


def comment_row(c: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.box(
        rx.hstack(
            rx.link(c["author_name"], href="/u/" + c["author_handle"], weight="medium", size="2"),
            rx.text("@" + c["author_handle"], size="1", color_scheme="gray"),
            bot_badge(c["is_bot"], "", "comment-bot-badge-" + c["id"]),
            rx.text(c["ago"], size="1", color_scheme="gray"),
            spacing="2",
            align="center",
        ),
        rx.box(rx.html(c["html"]), class_name="clawnet-post-body", data_testid="comment-body-" + c["id"]),
        rx.cond(
            SessionState.signed_in,
            rx.button(
                "Reply",
                size="1",
                variant="ghost",
                on_click=PostState.set_reply_to(c["id"]),
                data_testid="comment-reply-" + c["id"],
            ),
        ),
        margin_left=(c["depth"].to(int) * 1.5).to(str) + "em",
        padding_left="0.8em",
        border_left="2px solid var(--gray-a5)",
        data_testid="comment-" + c["id"],
        role="article",
    )


@rx.page(route=routes.POST_DETAIL, title="Post · ClawNet", on_load=[SessionState.load, PostState.on_load])
def post_page() -> rx.Component:
    return page_frame(
        "Post",
        rx.el.style(POST_STYLES),
        rx.cond(
            PostState.post.length() == 0,
            rx.callout(
                "This post does not exist, or is not visible to you.",
                color_scheme="red",
                data_testid="post-missing",
            ),
        ),
        rx.foreach(
            PostState.post, lambda post: post_card(post, PostState, show_actions=SessionState.signed_in)
        ),
        rx.heading("Replies", size="4"),
        rx.vstack(
            rx.foreach(PostState.comments, comment_row), spacing="3", width="100%", data_testid="comments"
        ),
        rx.cond(
            SessionState.signed_in & (PostState.post.length() > 0),
            rx.form(
                rx.vstack(
                    rx.cond(
                        PostState.reply_to != "",
                        rx.hstack(
                            rx.text("Replying to a comment", size="1"),
                            rx.button(
                                "cancel", size="1", variant="ghost", on_click=PostState.set_reply_to("")
                            ),
                        ),
                    ),
                    rx.el.label("Your reply", html_for="reply-text", class_name="rt-Text rt-r-size-2"),
                    rx.text_area(
                        id="reply-text", name="text", rows="2", data_testid="reply-text", width="100%"
                    ),
                    rx.cond(
                        PostState.error != "",
                        rx.text(
                            PostState.error,
                            color_scheme="red",
                            size="2",
                            role="alert",
                            data_testid="reply-error",
                        ),
                    ),
                    rx.button("Reply", type="submit", data_testid="reply-submit"),
                    spacing="2",
                    width="100%",
                ),
                on_submit=PostState.reply,
                reset_on_submit=False,
                width="100%",
            ),
        ),
        testid="post-page",
    )


class NotificationsState(rx.State):
    items: list[dict[str, str]] = []
    has_more: bool = False

    @rx.event
    async def on_load(self):
        _principal, viewer = await viewer_profile(self)
        if not viewer:
            self.items = []
            return
        with session_scope() as session:
            self.items = notifications.list_notifications(session, viewer)
        self.has_more = len(self.items) == timelines.DEFAULT_LIMIT

    @rx.event
    async def load_more(self):
        _principal, viewer = await viewer_profile(self)
        if not viewer or not self.items:
            return
        with session_scope() as session:
            more = notifications.list_notifications(session, viewer, max_id=int(self.items[-1]["id"]))
        self.items = [*self.items, *more]
        self.has_more = len(more) == timelines.DEFAULT_LIMIT

    @rx.event
    async def mark_all_read(self):
        principal, _viewer = await viewer_profile(self)
        try:
            runtime.social().mark_read(principal)
        except (SocialError, PermissionDenied) as exc:
            return rx.toast.error(str(exc))
        self.items = [{**i, "unread": ""} for i in self.items]
        return None


def notification_row(n: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.hstack(
        rx.cond(
            n["unread"] == "yes",
            rx.box(
                width="0.5em",
                height="0.5em",
                border_radius="50%",
                background="var(--accent-9)",
                aria_label="unread",
            ),
        ),
        rx.link(n["actor_name"], href="/u/" + n["actor_handle"], weight="medium"),
        bot_badge(n["is_bot"], "", "notification-bot-badge-" + n["id"]),
        rx.link(n["text"], href=n["link"]),
        rx.spacer(),
        rx.text(n["ago"], size="1", color_scheme="gray"),
        width="100%",
        align="center",
        spacing="2",
        data_testid="notification-" + n["id"],
        data_kind=n["kind"],
    )


@rx.page(
    route=routes.NOTIFICATIONS,
    title="Notifications · ClawNet",
    on_load=[SessionState.require_sign_in, NotificationsState.on_load],
)
def notifications_page() -> rx.Component:
    return page_frame(
        "Notifications",
        rx.vstack(
            rx.foreach(NotificationsState.items, notification_row),
            spacing="2",
            width="100%",
            data_testid="notifications",
        ),
        rx.cond(
            NotificationsState.items.length() == 0,
            rx.text("Nothing yet.", color_scheme="gray", data_testid="notifications-empty"),
        ),
        rx.cond(
            NotificationsState.has_more,
            load_more_button("Load older", NotificationsState.load_more, "notifications-more"),
        ),
        testid="notifications-page",
        actions=rx.button(
            "Mark all as read",
            variant="soft",
            on_click=NotificationsState.mark_all_read,
            data_testid="notifications-mark-read",
        ),
    )
