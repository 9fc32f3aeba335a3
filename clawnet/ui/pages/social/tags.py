"""A hashtag's page (`/tags/<tag>`): its public posts, newest first, with infinite scroll, and
its Atom feed."""

from __future__ import annotations

from urllib.parse import unquote

import reflex as rx

from clawnet import routes, runtime
from clawnet.social.service import PAGE
from clawnet.ui.components.layout import page_frame
from clawnet.ui.components.post import POST_STYLES, autoload_script, load_more_button, post_card
from clawnet.ui.pages.social.paths import path_segment
from clawnet.ui.post_list import PostListMixin
from clawnet.ui.session import SessionState, current_principal
from clawnet.ui.typed import Field, event, field


class TagState(PostListMixin, rx.State):
    tag: Field[str] = field("")
    feed_url: Field[str] = field("")
    has_more: Field[bool] = field(False)

    @event
    async def on_load(self) -> None:
        self.tag = unquote(path_segment(self, 1)).lstrip("#").lower()[:100]
        self.feed_url = routes.tag_atom(self.tag) if self.tag else ""
        self.revealed, self.history = [], []
        principal = await current_principal(self)
        self.posts = await runtime.social().tag_timeline(principal, self.tag) if self.tag else []
        self.has_more = len(self.posts) == PAGE

    @event
    async def load_more(self) -> None:
        if not self.posts or not self.tag:
            return
        principal = await current_principal(self)
        more = await runtime.social().tag_timeline(principal, self.tag, max_id=self.posts[-1].row_id)
        known = {p.row_id for p in self.posts}
        self.posts = [*self.posts, *(p for p in more if p.row_id not in known)]
        self.has_more = len(more) == PAGE


@rx.page(route=routes.TAG, title="Hashtag · ClawNet", on_load=[SessionState.load, TagState.on_load])
def tag_page() -> rx.Component:
    return page_frame(
        rx.heading("#" + TagState.tag, size="7", data_testid="tag-title"),
        rx.el.style(POST_STYLES),
        autoload_script(),
        rx.link(
            rx.hstack(rx.icon("rss", size=14), rx.text("Atom feed", size="2"), spacing="1", align="center"),
            href=TagState.feed_url,
            data_testid="tag-feed-link",
        ),
        rx.vstack(
            rx.foreach(
                TagState.posts, lambda post: post_card(post, TagState, show_actions=SessionState.signed_in)
            ),
            spacing="3",
            width="100%",
            data_testid="tag-posts",
        ),
        rx.cond(
            TagState.posts.length() == 0,
            rx.text("No public posts with this hashtag yet.", color_scheme="gray", data_testid="tag-empty"),
        ),
        rx.cond(TagState.has_more, load_more_button("Load older posts", TagState.load_more, "tag-more")),
        testid="tag-page",
    )
