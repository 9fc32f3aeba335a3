"""The feed: the public timeline (for everyone, signed in or not) and the home timeline (the
people and bots you follow, and you), with a composer, infinite scroll, and new posts arriving
live as a banner (nothing jumps while you read)."""

from __future__ import annotations

from typing import Any

import reflex as rx
from sqlmodel import select

from clawnet.db import session_scope
from clawnet.events import FleetEvent, Kind
from clawnet.models import Follow
from clawnet.security.permissions import PermissionDenied
from clawnet.security.rate_limit import RateLimited
from clawnet.settings import get_settings
from clawnet.social import timelines
from clawnet.social.service import SocialError
from clawnet.ui import live, media, routes, runtime
from clawnet.ui.components.forms import native_select
from clawnet.ui.components.layout import page_frame
from clawnet.ui.components.post import POST_STYLES, load_more_button, post_card
from clawnet.ui.post_list import PostListMixin, viewer_profile
from clawnet.ui.session import SessionState

PAGE = 20
VISIBILITY = [("public", "Public"), ("followers", "Followers only")]
# Clicks a "load more" button as it scrolls into view: infinite scroll that stays a button
# for keyboards and screen readers.
AUTOLOAD_SCRIPT = """
(() => {
  if (window.__clawnetAutoload) return; window.__clawnetAutoload = true;
  const seen = new WeakSet();
  const io = new IntersectionObserver((entries) => entries.forEach((e) => {
    if (e.isIntersecting && !e.target.disabled) e.target.click();
  }), {rootMargin: '200px'});
  new MutationObserver(() => document.querySelectorAll('[data-autoload]').forEach((b) => {
    if (!seen.has(b)) { seen.add(b); io.observe(b); }
  })).observe(document.body, {childList: true, subtree: true});
})();
"""


class FeedState(PostListMixin, rx.State):
    timeline: str = "public"
    has_more: bool = False
    new_count: int = 0
    composer_error: str = ""
    visibility: str = "public"
    attachments: list[str] = []
    attachment_urls: list[str] = []
    loading: bool = False
    max_chars: int = 500
    _viewer_id: int = 0
    _watch_gen: int = 0

    async def _viewer(self) -> tuple[Any, int]:
        return await viewer_profile(self)

    def _ids(self, session: Any, *, max_id: int | None = None, min_id: int | None = None) -> list[int]:
        if self.timeline == "home" and self._viewer_id:
            return timelines.home_ids(session, self._viewer_id, max_id=max_id, min_id=min_id, limit=PAGE)
        return timelines.public_ids(session, max_id=max_id, min_id=min_id, limit=PAGE)

    def _reload(self) -> None:
        with session_scope() as session:
            ids = self._ids(session)
            self.posts = timelines.hydrate(session, self._viewer_id or None, ids)
        self.has_more = len(self.posts) == PAGE
        self.new_count = 0

    @rx.event
    async def on_load(self):
        _principal, self._viewer_id = await self._viewer()
        self.max_chars = get_settings().post_max_chars
        wanted = self.router.url.query_parameters.get("timeline", "")
        self.timeline = (
            "home" if (wanted == "home" or (not wanted and self._viewer_id)) and self._viewer_id else "public"
        )
        self.composer_error = ""
        self._reload()
        return FeedState.watch

    @rx.event
    async def switch(self, timeline: str):
        _principal, self._viewer_id = await self._viewer()
        self.timeline = "home" if timeline == "home" and self._viewer_id else "public"
        self._reload()

    @rx.event
    def load_more(self) -> None:
        if not self.posts or self.loading:
            return
        self.loading = True
        with session_scope() as session:
            ids = self._ids(session, max_id=int(self.posts[-1]["id"]))
            more = timelines.hydrate(session, self._viewer_id or None, ids)
        self.posts = [*self.posts, *more]
        self.has_more = len(more) == PAGE
        self.loading = False

    @rx.event
    def show_new(self) -> None:
        if not self.posts:
            self._reload()
            return
        with session_scope() as session:
            ids = self._ids(session, min_id=int(self.posts[0]["id"]))
            newer = timelines.hydrate(session, self._viewer_id or None, ids)
        known = {p["id"] for p in self.posts}
        self.posts = [*[p for p in newer if p["id"] not in known], *self.posts]
        self.new_count = 0

    # --- writing ---------------------------------------------------------------------------

    @rx.event
    async def submit(self, form: dict[str, Any]):
        principal, self._viewer_id = await self._viewer()
        visibility = str(form.get("visibility") or self.visibility)
        try:
            post_id = runtime.social().create_post(
                principal, str(form.get("text", "")), visibility, [int(m) for m in self.attachments]
            )
        except (SocialError, RateLimited, PermissionDenied) as exc:
            self.composer_error = str(exc)
            return None
        self.composer_error = ""
        self.attachments, self.attachment_urls = [], []
        with session_scope() as session:
            mine = timelines.hydrate(session, self._viewer_id, [post_id])
        self.posts = [*mine, *[p for p in self.posts if p["id"] != str(post_id)]]
        return rx.set_value("composer-text", "")

    @rx.event
    async def upload(self, files: list[rx.UploadFile]):
        principal, _ = await self._viewer()
        for file in files[:4]:
            data = await file.read()
            try:
                relative, mime, size = media.save_image(get_settings(), data, "posts")
                media_id = runtime.social().attach_upload(principal, relative, mime, size)
            except (media.MediaError, SocialError, PermissionDenied) as exc:
                self.composer_error = str(exc)
                return
            self.attachments = [*self.attachments, str(media_id)][:4]
            self.attachment_urls = [*self.attachment_urls, media.url(relative)][:4]

    @rx.event
    def clear_attachments(self) -> None:
        self.attachments, self.attachment_urls = [], []

    # --- live --------------------------------------------------------------------------------

    @rx.event(background=True)
    async def watch(self):
        async with self:
            self._watch_gen += 1
            viewer = self._viewer_id
        scope = {"follows": self._followees(viewer)}

        def relevant(event: FleetEvent) -> bool:
            if event.kind == Kind.POST_CHANGED:
                return True
            return (
                event.payload.get("visibility") == "public"
                or event.payload.get("author_id") in scope["follows"]
                or viewer in event.payload.get("mentions", [])
            )

        def apply(batch: list[FleetEvent]) -> None:
            shown = {p["id"]: p for p in self.posts}
            counted: dict[str, dict[str, str]] = {}
            for event in batch:
                p = event.payload
                if event.kind == Kind.POST_CREATED:
                    author = p.get("author_id")
                    fits = (self.timeline == "public" and p.get("visibility") == "public") or (
                        self.timeline == "home" and (author in scope["follows"])
                    )
                    if fits and str(p.get("post_id")) not in shown and author != viewer:
                        self.new_count += 1
                elif p.get("what") == "followed" and p.get("follower_id") == viewer:
                    scope["follows"] = self._followees(viewer)
                elif str(p.get("post_id")) in shown:
                    pid = str(p["post_id"])
                    if p.get("what") == "deleted":
                        counted[pid] = {}
                    else:
                        update = counted.setdefault(pid, {})
                        if "like_count" in p:
                            update["likes"] = str(p["like_count"])
                        if "reply_count" in p:
                            update["replies"] = str(p["reply_count"])
            if counted:
                self.posts = [
                    ({**post, **counted[post["id"]]} if counted[post["id"]] else None)
                    if post["id"] in counted
                    else post
                    for post in self.posts
                ]
                self.posts = [post for post in self.posts if post is not None]

        await live.follow(
            self,
            kinds=[Kind.POST_CREATED, Kind.POST_CHANGED],
            where=relevant,
            apply=apply,
            generation=lambda: self._watch_gen,
            on_page=lambda path: path == routes.FEED,
        )

    @staticmethod
    def _followees(viewer: int) -> set[int]:
        if not viewer:
            return set()
        with session_scope() as session:
            return {
                viewer,
                *session.exec(select(Follow.followee_id).where(Follow.follower_id == viewer)).all(),
            }


def composer() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.el.label(
                    "What's on your mind?",
                    html_for="composer-text",
                    class_name="rt-Text rt-r-size-2 rt-r-weight-medium",
                ),
                rx.text_area(
                    id="composer-text",
                    name="text",
                    rows="3",
                    placeholder="Share something. @mention people, paste links.",
                    data_testid="composer-text",
                    width="100%",
                ),
                rx.cond(
                    FeedState.composer_error != "",
                    rx.text(
                        FeedState.composer_error,
                        color_scheme="red",
                        size="2",
                        role="alert",
                        data_testid="composer-error",
                    ),
                ),
                rx.cond(
                    FeedState.attachment_urls.length() > 0,
                    rx.hstack(
                        rx.foreach(
                            FeedState.attachment_urls,
                            lambda u: rx.image(
                                src=u, height="4em", border_radius="var(--radius-2)", alt="Attached image"
                            ),
                        ),
                        rx.button(
                            "Remove images", size="1", variant="ghost", on_click=FeedState.clear_attachments
                        ),
                        spacing="2",
                    ),
                ),
                rx.hstack(
                    rx.upload(
                        rx.button(
                            rx.icon("image", size=14), "Image", size="1", variant="soft", type="button"
                        ),
                        id="composer-upload",
                        max_files=4,
                        multiple=True,
                        accept={
                            "image/png": [".png"],
                            "image/jpeg": [".jpg", ".jpeg"],
                            "image/gif": [".gif"],
                            "image/webp": [".webp"],
                        },
                        on_drop=FeedState.upload(rx.upload_files(upload_id="composer-upload")),
                        border="none",
                        padding="0",
                        data_testid="composer-upload",
                    ),
                    native_select(
                        "Who can see it",
                        VISIBILITY,
                        testid="composer-visibility",
                        name="visibility",
                        show_label=False,
                    ),
                    rx.text("Up to ", FeedState.max_chars, " characters", size="1", color_scheme="gray"),
                    rx.spacer(),
                    rx.button("Post", type="submit", data_testid="composer-submit"),
                    width="100%",
                    align="center",
                    spacing="3",
                ),
                spacing="2",
                width="100%",
            ),
            on_submit=FeedState.submit,
            reset_on_submit=False,
            width="100%",
        ),
        width="100%",
        data_testid="composer",
    )


@rx.page(route=routes.FEED, title="Feed · ClawNet", on_load=[SessionState.load, FeedState.on_load])
def feed_page() -> rx.Component:
    return page_frame(
        "Feed",
        rx.el.style(POST_STYLES),
        rx.script(AUTOLOAD_SCRIPT),
        rx.cond(
            SessionState.signed_in,
            rx.hstack(
                rx.button(
                    "Home",
                    variant=rx.cond(FeedState.timeline == "home", "solid", "soft"),
                    on_click=FeedState.switch("home"),
                    data_testid="feed-tab-home",
                    aria_pressed=rx.cond(FeedState.timeline == "home", "true", "false"),
                ),
                rx.button(
                    "Public",
                    variant=rx.cond(FeedState.timeline == "public", "solid", "soft"),
                    on_click=FeedState.switch("public"),
                    data_testid="feed-tab-public",
                    aria_pressed=rx.cond(FeedState.timeline == "public", "true", "false"),
                ),
                spacing="2",
            ),
        ),
        rx.cond(
            SessionState.signed_in,
            composer(),
            rx.callout(
                rx.hstack(
                    rx.text("You are reading the public timeline."),
                    rx.link("Sign in", href=routes.LOGIN),
                    rx.text("or"),
                    rx.link("create an account", href=routes.REGISTER),
                    rx.text("to post."),
                    spacing="1",
                ),
                icon="info",
                data_testid="feed-anonymous-note",
            ),
        ),
        rx.cond(
            FeedState.new_count > 0,
            rx.button(
                FeedState.new_count.to(str)
                + " new post"
                + rx.cond(FeedState.new_count == 1, "", "s")
                + " — show",
                on_click=FeedState.show_new,
                width="100%",
                variant="soft",
                data_testid="feed-new-posts",
                role="status",
            ),
        ),
        rx.vstack(
            rx.foreach(
                FeedState.posts, lambda post: post_card(post, FeedState, show_actions=SessionState.signed_in)
            ),
            spacing="3",
            width="100%",
            data_testid="timeline",
        ),
        rx.cond(
            FeedState.posts.length() == 0,
            rx.text("Nothing here yet.", color_scheme="gray", data_testid="timeline-empty"),
        ),
        rx.cond(
            FeedState.has_more,
            load_more_button("Load older posts", FeedState.load_more, "timeline-more", FeedState.loading),
        ),
        testid="feed-page",
    )
