"""Mentions (`/mentions`): the posts that mention the signed-in person, newest first."""

from __future__ import annotations

import reflex as rx

from clawnet import routes, runtime
from clawnet.social.service import PAGE
from clawnet.ui.components.layout import page_frame
from clawnet.ui.components.post import POST_STYLES, autoload_script, load_more_button, post_card
from clawnet.ui.post_list import PostListMixin
from clawnet.ui.session import SessionState, current_principal
from clawnet.ui.typed import Field, event, field


class MentionsState(PostListMixin, rx.State):
    has_more: Field[bool] = field(False)

    @event
    async def on_load(self) -> None:
        principal = await current_principal(self)
        self.revealed, self.history = [], []
        self.posts = await runtime.social().mentions(principal)
        self.has_more = len(self.posts) == PAGE

    @event
    async def load_more(self) -> None:
        if not self.posts:
            return
        more = await runtime.social().mentions(await current_principal(self), max_id=self.posts[-1].id)
        known = {p.id for p in self.posts}
        self.posts = [*self.posts, *(p for p in more if p.id not in known)]
        self.has_more = len(more) == PAGE


@rx.page(
    route=routes.MENTIONS,
    title="Mentions · ClawNet",
    on_load=[SessionState.require_sign_in, MentionsState.on_load],
)
def mentions_page() -> rx.Component:
    return page_frame(
        "Mentions",
        rx.el.style(POST_STYLES),
        autoload_script(),
        rx.vstack(
            rx.foreach(MentionsState.posts, lambda post: post_card(post, MentionsState)),
            spacing="3",
            width="100%",
            data_testid="mentions-posts",
        ),
        rx.cond(
            MentionsState.posts.length() == 0,
            rx.text("No one has mentioned you yet.", color_scheme="gray", data_testid="mentions-empty"),
        ),
        rx.cond(
            MentionsState.has_more,
            load_more_button("Load older posts", MentionsState.load_more, "mentions-more"),
        ),
        testid="mentions-page",
    )
