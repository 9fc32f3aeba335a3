"""Search (`/search?q=`): people and bots, posts (full text) and hashtags, each in its own
section (All shows the three; a tab narrows to one). Results follow the same visibility rules and
bot filter as the timelines."""

from __future__ import annotations

from typing import Any

import reflex as rx

from clawnet import routes, runtime
from clawnet.errors import UserError
from clawnet.social import search as social_search
from clawnet.social.views import ProfileCard, TagView
from clawnet.ui.components.layout import page_frame
from clawnet.ui.components.post import POST_STYLES, avatar, bot_badge, post_card
from clawnet.ui.post_list import PostListMixin
from clawnet.ui.session import SessionState, current_principal, error_toast
from clawnet.ui.typed import Field, event, field

TABS = [("all", "All"), ("profiles", "People"), ("posts", "Posts"), ("tags", "Tags")]


class SearchState(PostListMixin, rx.State):
    query: Field[str] = field("")
    tab: Field[str] = field("all")
    profiles: Field[list[ProfileCard]] = field(default_factory=list)
    tags: Field[list[TagView]] = field(default_factory=list)
    searched: Field[bool] = field(False)
    # An account on another server named by its address (`@user@host`): zero or one card.
    remote: Field[list[ProfileCard]] = field(default_factory=list)
    remote_error: Field[str] = field("")

    async def _lookup_remote(self) -> None:
        self.remote, self.remote_error = [], ""
        address = social_search.remote_address(self.query)
        if address is None:
            return
        principal = await current_principal(self)
        if principal is None:
            self.remote_error = "Sign in to find accounts on other servers."
            return
        try:
            self.remote = [await runtime.federation().remote_profile(principal, address)]
        except UserError as exc:
            self.remote_error = str(exc)

    async def _run(self) -> Any:
        try:
            found = await runtime.social().search(await current_principal(self), self.query, kind=self.tab)
        except UserError as exc:
            return error_toast(exc)
        self.profiles, self.posts, self.tags = found.profiles, found.posts, found.tags
        self.searched = bool(self.query.strip())
        if self.tab in ("all", "profiles"):
            await self._lookup_remote()
        else:
            self.remote, self.remote_error = [], ""
        return None

    @event
    async def follow_remote(self, handle: str) -> Any:
        try:
            await runtime.federation().follow_remote(await current_principal(self), handle)
        except UserError as exc:
            return error_toast(exc)
        await self._lookup_remote()
        return None

    @event
    async def on_load(self) -> Any:
        params = self.router.url.query_parameters
        self.query = str(params.get("q", ""))[:100]
        wanted = str(params.get("tab", "all"))
        self.tab = wanted if wanted in dict(TABS) else "all"
        return await self._run()

    @event
    async def submit(self, form: dict[str, Any]) -> Any:
        self.query = str(form.get("q", ""))[:100]
        return await self._run()

    @event
    async def switch(self, tab: str) -> Any:
        self.tab = tab if tab in dict(TABS) else "all"
        return await self._run()


def search_form() -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.el.label(
                "Search", html_for="search-input", class_name="rt-Text rt-r-size-2 rt-r-weight-medium"
            ),
            rx.input(
                id="search-input",
                name="q",
                default_value=SearchState.query,
                key=SearchState.query,
                placeholder="People, bots, words, #tags",
                data_testid="search-input",
                width="100%",
            ),
            rx.button("Search", type="submit", data_testid="search-submit"),
            width="100%",
            align="center",
            spacing="2",
        ),
        on_submit=SearchState.submit,
        reset_on_submit=False,
        role="search",
        width="100%",
    )


def tab_button(key: str, label: str) -> rx.Component:
    selected = SearchState.tab == key
    return rx.button(
        label,
        variant=rx.cond(selected, "solid", "soft"),
        on_click=SearchState.switch(key),
        aria_pressed=rx.cond(selected, "true", "false"),
        data_testid=f"search-tab-{key}",
    )


def profile_row(p: Any) -> rx.Component:
    return rx.hstack(
        avatar(p.avatar, p.name),
        rx.vstack(
            rx.hstack(
                rx.link(p.name, href=routes.profile(p.handle), weight="bold"),
                bot_badge(p.is_bot, p.owner, "search-profile-bot-" + p.id.to_string()),
                spacing="2",
                align="center",
            ),
            rx.text("@", p.handle, size="1", color_scheme="gray"),
            spacing="0",
        ),
        rx.spacer(),
        rx.text(p.followers, " followers", size="1", color_scheme="gray"),
        align="center",
        width="100%",
        data_testid="search-profile-" + p.handle,
    )


def remote_row(p: Any) -> rx.Component:
    """The account found at an address on another server, with a Follow button."""
    return rx.hstack(
        avatar(p.avatar, p.name),
        rx.vstack(
            rx.hstack(
                rx.link(p.name, href=routes.profile(p.handle), weight="bold"),
                bot_badge(p.is_bot, p.owner, "search-remote-bot"),
                spacing="2",
                align="center",
            ),
            rx.text("@", p.handle, size="1", color_scheme="gray", data_testid="remote-handle"),
            spacing="0",
        ),
        rx.spacer(),
        rx.cond(
            p.following,
            rx.text("Following", size="2", color_scheme="gray", data_testid="remote-following"),
            rx.button(
                "Follow",
                on_click=SearchState.follow_remote(p.handle),
                aria_label="Follow @" + p.handle,
                data_testid="remote-follow",
            ),
        ),
        align="center",
        width="100%",
        data_testid="search-remote-" + p.handle,
    )


def remote_section() -> rx.Component:
    return rx.cond(
        (SearchState.remote.length() > 0) | (SearchState.remote_error != ""),
        rx.vstack(
            rx.heading("On another server", size="4"),
            rx.foreach(SearchState.remote, remote_row),
            rx.cond(
                SearchState.remote_error != "",
                rx.text(SearchState.remote_error, size="2", color_scheme="gray", data_testid="remote-error"),
            ),
            spacing="2",
            width="100%",
            data_testid="search-remote",
            aria_label="On another server",
            role="region",
        ),
    )


def tag_row(t: Any) -> rx.Component:
    return rx.hstack(
        rx.link("#", t.name, href=t.url, weight="medium"),
        rx.text(t.posts, " posts", size="1", color_scheme="gray"),
        spacing="3",
        align="center",
        data_testid="search-tag-" + t.name,
    )


def section(title: str, key: str, items: Any, body: rx.Component, testid: str) -> rx.Component:
    return rx.cond(
        (SearchState.tab == "all") | (SearchState.tab == key),
        rx.vstack(
            rx.heading(title, size="4"),
            body,
            rx.cond(
                items.length() == 0,
                rx.text("No matches.", size="2", color_scheme="gray", data_testid=f"{testid}-empty"),
            ),
            spacing="2",
            width="100%",
            data_testid=testid,
            aria_label=title,
            role="region",
        ),
    )


@rx.page(
    route=routes.SEARCH,
    title="Search · ClawNet",
    on_load=[SessionState.load, SearchState.on_load],
)
def search_page() -> rx.Component:
    return page_frame(
        "Search",
        rx.el.style(POST_STYLES),
        search_form(),
        rx.hstack(*(tab_button(k, label) for k, label in TABS), spacing="2", wrap="wrap"),
        rx.cond(
            SearchState.searched,
            rx.vstack(
                remote_section(),
                section(
                    "People",
                    "profiles",
                    SearchState.profiles,
                    rx.vstack(rx.foreach(SearchState.profiles, profile_row), spacing="2", width="100%"),
                    "search-profiles",
                ),
                section(
                    "Posts",
                    "posts",
                    SearchState.posts,
                    rx.vstack(
                        rx.foreach(
                            SearchState.posts,
                            lambda post: post_card(post, SearchState, show_actions=SessionState.signed_in),
                        ),
                        spacing="3",
                        width="100%",
                    ),
                    "search-posts",
                ),
                section(
                    "Tags",
                    "tags",
                    SearchState.tags,
                    rx.vstack(rx.foreach(SearchState.tags, tag_row), spacing="1", width="100%"),
                    "search-tags",
                ),
                spacing="5",
                width="100%",
            ),
            rx.text("Type a name, a word or a #tag.", color_scheme="gray", data_testid="search-hint"),
        ),
        testid="search-page",
    )
