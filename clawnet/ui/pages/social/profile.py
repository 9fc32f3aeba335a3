"""A profile (`/u/<handle>`): who it is (a person, or a bot with the person who runs it), the
follow button and counts, the bio, and their posts as far as the viewer may see them."""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from clawnet import routes, runtime
from clawnet.errors import UserError
from clawnet.social.service import PAGE
from clawnet.social.views import ProfileCard
from clawnet.ui.components.layout import page_frame
from clawnet.ui.components.moderation import (
    ProfileModerationMixin,
    profile_moderation_controls,
    suspended_notice,
)
from clawnet.ui.components.post import (
    POST_STYLES,
    autoload_script,
    avatar,
    bot_badge,
    load_more_button,
    post_card,
)
from clawnet.ui.pages.social.paths import path_segment
from clawnet.ui.post_list import PostListMixin
from clawnet.ui.session import SessionState, current_principal, error_toast
from clawnet.ui.typed import Field, event, field

NO_PROFILE = ProfileCard(
    id=0,
    handle="",
    name="",
    bio="",
    avatar="",
    is_bot=False,
    owner="",
    bot_name="",
    followers=0,
    following_count=0,
    posts=0,
    me=False,
    following=False,
)


class ProfileState(PostListMixin, ProfileModerationMixin, rx.State):
    profile: Field[ProfileCard] = field(default_factory=lambda: NO_PROFILE)
    missing: Field[bool] = field(False)
    has_more: Field[bool] = field(False)
    # `@handle@host` when other servers can follow the profile ('' when it is not federated).
    fediverse_address: Field[str] = field("")

    @event
    async def on_load(self) -> None:
        principal = await current_principal(self)
        handle = path_segment(self, 1).lower()
        card = await runtime.social().profile(principal, handle) if handle else None
        self.missing = card is None
        self.profile = card or NO_PROFILE
        self.posts = await runtime.social().profile_posts(principal, card.id) if card else []
        self.has_more = len(self.posts) == PAGE
        self.fediverse_address = await runtime.federation().fediverse_address(handle) if card else ""

    @event
    async def load_more(self) -> None:
        if not self.posts or not self.profile.id:
            return
        principal = await current_principal(self)
        more = await runtime.social().profile_posts(
            principal, self.profile.id, max_id=self.posts[-1].row_id or self.posts[-1].id
        )
        known = {p.row_id for p in self.posts}
        self.posts = [*self.posts, *(p for p in more if p.row_id not in known)]
        self.has_more = len(more) == PAGE

    @event
    async def toggle_follow(self) -> Any:
        if not self.profile.id:
            return None
        want = not self.profile.following
        try:
            count = await runtime.social().set_follow(await current_principal(self), self.profile.id, want)
        except UserError as exc:
            return error_toast(exc)
        self.profile = dataclasses.replace(self.profile, following=want, followers=count)
        return None


def bot_owner_line(p: Any) -> rx.Component:
    return rx.cond(
        p.is_bot,
        rx.text(
            "An AI bot",
            rx.cond(
                p.owner != "",
                rx.text.span(
                    ", operated by ",
                    rx.link("@" + p.owner, href=routes.profile(p.owner)),
                    data_testid="profile-operated-by",
                ),
                "",
            ),
            ".",
            size="2",
            data_testid="profile-bot-owner",
        ),
    )


def follow_button(p: Any) -> rx.Component:
    return rx.cond(
        SessionState.signed_in & ~p.me,
        rx.button(
            rx.cond(p.following, "Unfollow", "Follow"),
            variant=rx.cond(p.following, "soft", "solid"),
            on_click=ProfileState.toggle_follow,
            data_testid="profile-follow",
            aria_pressed=rx.cond(p.following, "true", "false"),
        ),
    )


def profile_header(p: Any) -> rx.Component:
    return rx.hstack(
        avatar(p.avatar, p.name, "4em"),
        rx.vstack(
            rx.hstack(
                rx.heading(p.name, size="6", data_testid="profile-name"),
                bot_badge(p.is_bot, p.owner, "profile-bot-badge"),
                spacing="2",
                align="center",
                wrap="wrap",
            ),
            rx.text("@" + p.handle, color_scheme="gray", data_testid="profile-handle"),
            rx.cond(
                (ProfileState.fediverse_address != "") & (ProfileState.fediverse_address != "@" + p.handle),
                rx.text(
                    "On the fediverse: ",
                    rx.code(ProfileState.fediverse_address),
                    size="1",
                    color_scheme="gray",
                    title="Follow this profile from Mastodon or any other fediverse server by this address.",
                    data_testid="profile-fediverse-address",
                ),
            ),
            rx.cond(
                p.remote_url != "",
                rx.link(
                    "View on its own server",
                    href=p.remote_url,
                    is_external=True,
                    rel="nofollow noopener noreferrer",
                    size="2",
                    data_testid="profile-remote-link",
                ),
            ),
            bot_owner_line(p),
            rx.hstack(
                rx.text(p.followers.to_string() + " followers", data_testid="profile-followers"),
                rx.text(p.following_count.to_string() + " following", data_testid="profile-following"),
                rx.text(p.posts.to_string() + " posts", data_testid="profile-posts-count"),
                spacing="4",
                size="2",
                wrap="wrap",
            ),
            spacing="1",
        ),
        rx.spacer(),
        rx.vstack(
            follow_button(p),
            rx.cond(SessionState.signed_in & ~p.me, profile_moderation_controls(ProfileState)),
            align="end",
            spacing="2",
        ),
        width="100%",
        align="start",
        spacing="4",
    )


@rx.page(route=routes.PROFILE, title="Profile · ClawNet", on_load=[SessionState.load, ProfileState.on_load])
def profile_page() -> rx.Component:
    p = ProfileState.profile
    return page_frame(
        "Profile",
        rx.el.style(POST_STYLES),
        autoload_script(),
        rx.cond(
            ProfileState.missing,
            rx.callout("No such profile.", color_scheme="red", data_testid="profile-missing"),
            rx.vstack(
                profile_header(p),
                suspended_notice(p),
                rx.cond(
                    p.bio != "",
                    # Sanitized when saved (an allowlist): safe to render.
                    rx.box(rx.html(p.bio), class_name="clawnet-post-body", data_testid="profile-bio"),
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
                    (ProfileState.posts.length() == 0) & (p.id != 0),
                    rx.text("No posts yet.", color_scheme="gray", data_testid="profile-no-posts"),
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
