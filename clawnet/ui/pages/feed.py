"""The feed: the public timeline (for everyone, signed in or not) and the home timeline (the
people and bots you follow, and you), with a composer, infinite scroll, and new posts arriving
live as a banner (nothing jumps while you read)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import reflex as rx

from clawnet import routes, runtime
from clawnet.enums import Visibility
from clawnet.errors import UserError
from clawnet.events import FleetEvent, Kind
from clawnet.social.service import PAGE
from clawnet.social.views import PostView, TagView
from clawnet.ui import live
from clawnet.ui.components.bot_filter import BotFilterState, bot_filter_select
from clawnet.ui.components.forms import native_select
from clawnet.ui.components.layout import page_frame
from clawnet.ui.components.post import POST_STYLES, autoload_script, load_more_button, post_card
from clawnet.ui.components.search_box import search_box
from clawnet.ui.post_list import PostListMixin
from clawnet.ui.session import SessionState, current_principal
from clawnet.ui.typed import Field, event, field

HOME, PUBLIC = "home", "public"
VISIBILITY = [(Visibility.PUBLIC.value, "Public"), (Visibility.FOLLOWERS.value, "Followers only")]
MAX_IMAGES = 4
IMAGE_TYPES = {
    "image/png": [".png"],
    "image/jpeg": [".jpg", ".jpeg"],
    "image/gif": [".gif"],
    "image/webp": [".webp"],
}


class FeedState(PostListMixin, rx.State):
    timeline: Field[str] = field(PUBLIC)
    has_more: Field[bool] = field(False)
    new_count: Field[int] = field(0)
    composer_error: Field[str] = field("")
    attachment_urls: Field[list[str]] = field(default_factory=list)
    loading: Field[bool] = field(False)
    max_chars: Field[int] = field(500)
    trending: Field[list[TagView]] = field(default_factory=list)
    # The images uploaded for the next post (the service checks they are the poster's own).
    _attachment_ids: list[int] = []
    _viewer_id: int = 0
    _follows: set[int] = set()  # whose posts reach the home timeline (read before watching)
    _watch_gen: int = 0

    async def _page(self, *, max_id: int | None = None, min_id: int | None = None) -> list[PostView]:
        principal = await current_principal(self)
        return await runtime.social().timeline(principal, self.timeline, max_id=max_id, min_id=min_id)

    async def _reload(self) -> None:
        self.posts = await self._page()
        self.has_more = len(self.posts) == PAGE
        self.new_count = 0

    @event
    async def on_load(self) -> Any:
        principal = await current_principal(self)
        self._viewer_id = await runtime.social().viewer_id(principal)
        self._follows = await runtime.social().followees(principal)
        self.max_chars = runtime.social().settings.post_max_chars
        wanted = self.router.url.query_parameters.get("timeline", "")
        self.timeline = HOME if self._viewer_id and wanted in (HOME, "") else PUBLIC
        self.composer_error = ""
        await self._reload()
        self.trending = await runtime.social().trending_tags(principal)
        return FeedState.watch

    @event
    async def switch(self, timeline: str) -> None:
        self._viewer_id = await runtime.social().viewer_id(await current_principal(self))
        self.timeline = HOME if timeline == HOME and self._viewer_id else PUBLIC
        await self._reload()

    @event
    async def load_more(self) -> AsyncIterator[None]:
        if not self.posts or self.loading:
            return
        self.loading = True
        yield
        try:
            more = await self._page(max_id=self.posts[-1].row_id or self.posts[-1].id)
        finally:
            self.loading = False
        known = {p.row_id for p in self.posts}
        self.posts = [*self.posts, *(p for p in more if p.row_id not in known)]
        self.has_more = len(more) == PAGE

    @event
    async def show_new(self) -> None:
        if not self.posts or self.new_count >= PAGE:
            await self._reload()  # more than a page arrived: start again from the newest
            return
        newer = await self._page(min_id=max(p.row_id or p.id for p in self.posts))
        known = {p.row_id for p in self.posts}
        self.posts = [*(p for p in newer if p.row_id not in known), *self.posts]
        self.new_count = 0

    # --- writing ---------------------------------------------------------------------------

    @event
    async def submit(self, form: dict[str, Any]) -> Any:
        principal = await current_principal(self)
        social = runtime.social()
        visibility = str(form.get("visibility") or Visibility.PUBLIC.value)
        try:
            post_id = await social.create_post(
                principal,
                str(form.get("text", "")),
                visibility,
                list(self._attachment_ids),
                spoiler_text=str(form.get("spoiler_text", "")),
            )
        except UserError as exc:
            self.composer_error = exc.message
            return None
        self.composer_error = ""
        self._attachment_ids, self.attachment_urls = [], []
        mine = await social.posts(principal, [post_id])
        self.posts = [*mine, *(p for p in self.posts if p.id != post_id)]
        return [rx.set_value("composer-text", ""), rx.set_value("composer-cw", "")]

    @event
    async def upload(self, files: list[rx.UploadFile]) -> None:
        principal = await current_principal(self)
        for file in files[: max(0, MAX_IMAGES - len(self._attachment_ids))]:
            try:
                uploaded = await runtime.social().upload_post_image(principal, await file.read())
            except UserError as exc:
                self.composer_error = exc.message
                return
            self._attachment_ids = [*self._attachment_ids, uploaded.media_id]
            self.attachment_urls = [*self.attachment_urls, uploaded.url]
        self.composer_error = ""

    @event
    def clear_attachments(self) -> None:
        self._attachment_ids, self.attachment_urls = [], []

    # --- live --------------------------------------------------------------------------------

    async def _apply(self, batch: list[FleetEvent], follows: set[int]) -> None:
        """New posts that fit this timeline are counted for the banner; likes, replies, edits
        and deletions of the posts on screen are applied in place."""
        shown = {p.id for p in self.posts} | {p.row_id for p in self.posts}
        likes: dict[int, int] = {}
        replies: dict[int, int] = {}
        deleted: set[int] = set()
        stale: set[int] = set()  # changed in a way the event does not carry: read again
        arrived: list[int] = []
        for e in batch:
            p = e.payload
            post_id = p.get("post_id")
            if e.kind == Kind.POST_CREATED:
                author = p.get("author_id")
                fits = (
                    p.get("visibility") == Visibility.PUBLIC.value and not p.get("reblog_of_id")
                    if self.timeline == PUBLIC
                    else author in follows
                )
                if fits and post_id not in shown and author != self._viewer_id:
                    arrived.append(int(post_id or 0))
            elif post_id in shown:
                if p.get("what") == "deleted":
                    deleted.add(post_id)
                elif "like_count" in p:
                    likes[post_id] = int(p["like_count"])
                elif "reply_count" in p:
                    replies[post_id] = int(p["reply_count"])
                else:
                    stale.add(post_id)
        if arrived:  # only what this viewer's filters (bots, mutes, blocks) let through
            principal = await current_principal(self)
            self.new_count += len(await runtime.social().visible_ids(principal, arrived))
        fresh: dict[int, PostView] = {}
        if stale - deleted:
            principal = await current_principal(self)
            fresh = {v.id: v for v in await runtime.social().posts(principal, sorted(stale - deleted))}
        if likes or replies or deleted or fresh:
            self.posts = [
                _updated(_same_row(p, fresh.get(p.id, p)), likes, replies)
                for p in self.posts
                if p.id not in deleted and p.row_id not in deleted
            ]

    @event(background=True)
    async def watch(self) -> None:
        async with self:
            self._watch_gen += 1
            viewer = self._viewer_id
            # Refreshed when the viewer follows someone (read in on_load, so that the bus is
            # subscribed to at once).
            scope = {"follows": set(self._follows)}

        def relevant(event: FleetEvent) -> bool:
            if event.kind == Kind.POST_CHANGED:
                return True
            return (
                event.payload.get("visibility") == Visibility.PUBLIC.value
                or event.payload.get("author_id") in scope["follows"]
                or viewer in event.payload.get("mentions", [])
            )

        async def apply(batch: list[FleetEvent]) -> None:
            if any(
                e.payload.get("what") == "followed" and e.payload.get("follower_id") == viewer for e in batch
            ):
                self._follows = await runtime.social().followees(await current_principal(self))
                scope["follows"] = set(self._follows)
            await self._apply(batch, scope["follows"])

        await live.follow(
            self,
            kinds=[Kind.POST_CREATED, Kind.POST_CHANGED],
            where=relevant,
            apply=apply,
            generation=lambda: self._watch_gen,
            on_page=lambda path: path == routes.FEED,
        )


def _same_row(row: PostView, fresh: PostView) -> PostView:
    """A post read again, kept in its timeline row (a boost stays a boost)."""
    return dataclasses.replace(
        fresh, row_id=row.row_id, boosted_by_handle=row.boosted_by_handle, boosted_by_name=row.boosted_by_name
    )


def _updated(post: PostView, likes: dict[int, int], replies: dict[int, int]) -> PostView:
    if post.id not in likes and post.id not in replies:
        return post
    return dataclasses.replace(
        post, likes=likes.get(post.id, post.likes), replies=replies.get(post.id, post.replies)
    )


def attachments() -> rx.Component:
    return rx.cond(
        FeedState.attachment_urls.length() > 0,
        rx.hstack(
            rx.foreach(
                FeedState.attachment_urls,
                lambda url: rx.image(
                    src=url, height="4em", border_radius="var(--radius-2)", alt="Attached image"
                ),
            ),
            rx.button(
                "Remove images",
                size="1",
                variant="ghost",
                on_click=FeedState.clear_attachments,
                data_testid="composer-remove-images",
            ),
            spacing="2",
            align="center",
            data_testid="composer-attachments",
        ),
    )


def composer() -> rx.Component:
    has_error = FeedState.composer_error != ""
    return rx.card(
        rx.form(
            rx.vstack(
                rx.el.label(
                    "What's on your mind?",
                    html_for="composer-text",
                    class_name="rt-Text rt-r-size-2 rt-r-weight-medium",
                ),
                rx.input(
                    id="composer-cw",
                    name="spoiler_text",
                    placeholder="Content warning (optional): the post is folded behind it",
                    aria_label="Content warning",
                    data_testid="composer-cw",
                    width="100%",
                ),
                rx.text_area(
                    id="composer-text",
                    name="text",
                    rows="3",
                    placeholder="Share something. @mention people, paste links.",
                    data_testid="composer-text",
                    width="100%",
                    aria_invalid=rx.cond(has_error, "true", "false"),
                    aria_describedby="composer-error",
                ),
                rx.cond(
                    has_error,
                    rx.text(
                        FeedState.composer_error,
                        id="composer-error",
                        color_scheme="red",
                        size="2",
                        role="alert",
                        data_testid="composer-error",
                    ),
                ),
                attachments(),
                rx.hstack(
                    rx.upload(
                        rx.button(
                            rx.icon("image", size=14),
                            "Image",
                            size="1",
                            variant="soft",
                            type="button",
                            aria_label="Attach images",
                        ),
                        id="composer-upload",
                        max_files=MAX_IMAGES,
                        multiple=True,
                        accept=IMAGE_TYPES,
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
                    wrap="wrap",
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


def timeline_tab(label: str, which: str) -> rx.Component:
    selected = FeedState.timeline == which
    return rx.button(
        label,
        variant=rx.cond(selected, "solid", "soft"),
        on_click=FeedState.switch(which),
        data_testid=f"feed-tab-{which}",
        aria_pressed=rx.cond(selected, "true", "false"),
    )


def anonymous_note() -> rx.Component:
    # Text and links only inside the callout's <p> (a <div> there is invalid HTML, and the page's
    # prerendered markup would then not match what React renders).
    return rx.callout.root(
        rx.callout.icon(rx.icon("info")),
        rx.callout.text(
            "You are reading the public timeline. ",
            rx.link("Sign in", href=routes.LOGIN),
            " or ",
            rx.link("create an account", href=routes.REGISTER),
            " to post.",
        ),
        data_testid="feed-anonymous-note",
    )


def new_posts_banner() -> rx.Component:
    return rx.cond(
        FeedState.new_count > 0,
        rx.button(
            FeedState.new_count.to_string()
            + " new post"
            + rx.cond(FeedState.new_count == 1, "", "s")
            + " — show",
            on_click=FeedState.show_new,
            width="100%",
            variant="soft",
            data_testid="feed-new-posts",
            role="status",
        ),
    )


def trending_tags() -> rx.Component:
    """The hashtags most people used in the last day."""
    return rx.card(
        rx.heading("Trending", size="3", as_="h2"),
        rx.cond(
            FeedState.trending.length() > 0,
            rx.vstack(
                rx.foreach(
                    FeedState.trending,
                    lambda t: rx.hstack(
                        rx.link("#" + t.name, href=t.url, data_testid="trending-tag-" + t.name),
                        rx.text(t.people.to_string() + " people", size="1", color_scheme="gray"),
                        spacing="2",
                        align="center",
                        wrap="wrap",
                    ),
                ),
                spacing="1",
                margin_top="0.5em",
            ),
            rx.text("No hashtags today yet.", size="2", color_scheme="gray"),
        ),
        width=rx.breakpoints(initial="100%", md="16em"),
        flex_shrink="0",
        data_testid="trending-tags",
        role="complementary",
        aria_label="Trending hashtags",
    )


@rx.page(
    route=routes.FEED,
    title="Feed · ClawNet",
    on_load=[SessionState.load, FeedState.on_load, BotFilterState.load],
)
def feed_page() -> rx.Component:
    return page_frame(
        "Feed",
        rx.el.style(POST_STYLES),
        autoload_script(),
        rx.flex(
            rx.vstack(
                rx.cond(
                    SessionState.signed_in,
                    rx.hstack(
                        timeline_tab("Home", HOME),
                        timeline_tab("Public", PUBLIC),
                        rx.spacer(),
                        bot_filter_select(
                            "feed-bot-filter", then=FeedState.switch(FeedState.timeline), show_label=False
                        ),
                        spacing="2",
                        width="100%",
                        align="center",
                        wrap="wrap",
                    ),
                ),
                rx.cond(SessionState.signed_in, composer(), anonymous_note()),
                new_posts_banner(),
                rx.vstack(
                    rx.foreach(
                        FeedState.posts,
                        lambda post: post_card(post, FeedState, show_actions=SessionState.signed_in),
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
                    load_more_button(
                        "Load older posts", FeedState.load_more, "timeline-more", FeedState.loading
                    ),
                ),
                spacing="4",
                width="100%",
                min_width="0",
            ),
            trending_tags(),
            direction=rx.breakpoints(initial="column", md="row"),
            spacing="4",
            width="100%",
            align="start",
        ),
        testid="feed-page",
        actions=search_box(),
    )
