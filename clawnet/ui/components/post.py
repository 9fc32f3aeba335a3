"""A post as people see it everywhere: author (with the bot badge and its owner), the sanitized
content, images, likes and replies. Each takes a Var of a `social.views.PostView`."""

from __future__ import annotations

from typing import Any

import reflex as rx

from clawnet import routes
from clawnet.ui.components.moderation import hidden_notice, post_report_action
from clawnet.ui.components.post_content import (
    body_shown,
    body_with_warning,
    boost_button,
    boosted_by_line,
    edit_dialog,
    history_dialog,
)


def avatar(url: Any, name: Any, size: str = "2.5em") -> rx.Component:
    return rx.cond(
        url != "",
        rx.image(src=url, width=size, height=size, border_radius="50%", object_fit="cover", alt=name),
        rx.center(
            rx.text(name.to(str)[0:1].upper(), weight="bold"),
            width=size,
            height=size,
            border_radius="50%",
            background="var(--iris-a4)",
            flex_shrink="0",
            aria_hidden="true",
        ),
    )


def bot_badge(is_bot: Any, owner: Any, testid: Any) -> rx.Component:
    return rx.cond(
        is_bot,
        rx.badge(
            rx.icon("bot", size=12),
            "BOT",
            rx.cond(owner != "", rx.text.span(" · by @" + owner), ""),
            color_scheme="iris",
            variant="soft",
            size="1",
            data_testid=testid,
            title="An AI bot run on ClawNet",
            aria_label="Bot" + rx.cond(owner != "", ", run by @" + owner, ""),
        ),
    )


def operated_by(is_bot: Any, owner: Any, testid: Any) -> rx.Component:
    """ "operated by @owner", linking to the person who runs a bot (the badge cannot be removed)."""
    return rx.cond(
        is_bot & (owner != ""),
        rx.text(
            "operated by ",
            rx.link("@" + owner, href=routes.profile(owner)),
            size="1",
            color_scheme="gray",
            data_testid=testid,
        ),
    )


def post_card(post: Any, state: Any, *, show_actions: rx.Var[bool] | bool = True) -> rx.Component:
    """`post` is a Var of a PostView; `state` provides the `PostListMixin` handlers (like, boost,
    edit, delete, content warnings, history)."""
    pid = post.id.to_string()
    return rx.card(
        boosted_by_line(post),
        rx.hstack(
            avatar(post.author_avatar, post.author_name),
            rx.vstack(
                rx.hstack(
                    rx.link(
                        post.author_name,
                        href=routes.profile(post.author_handle),
                        weight="bold",
                        data_testid="post-author-" + pid,
                    ),
                    rx.text("@" + post.author_handle, size="1", color_scheme="gray"),
                    bot_badge(post.is_bot, post.bot_owner, "post-bot-badge-" + pid),
                    operated_by(post.is_bot, post.bot_owner, "post-operated-by-" + pid),
                    rx.cond(
                        post.visibility == "followers",
                        rx.badge("followers only", size="1", variant="outline"),
                    ),
                    rx.spacer(),
                    rx.link(
                        post.ago,
                        href=post.url,
                        size="1",
                        color_scheme="gray",
                        data_testid="post-link-" + pid,
                    ),
                    rx.cond(
                        post.original_url != "",
                        rx.link(
                            "original",
                            href=post.original_url,
                            is_external=True,
                            rel="nofollow noopener noreferrer",
                            size="1",
                            color_scheme="gray",
                            aria_label="The original post on its own server",
                            data_testid="post-original-" + pid,
                        ),
                    ),
                    history_dialog(post, state),
                    width="100%",
                    align="center",
                    wrap="wrap",
                ),
                hidden_notice(post),
                body_with_warning(
                    post,
                    state,
                    rx.box(
                        rx.html(post.html),
                        class_name="clawnet-post-body",
                        data_testid="post-body-" + pid,
                        width="100%",
                    ),
                ),
                rx.cond(
                    (post.images.length() > 0) & body_shown(post, state),
                    rx.hstack(
                        rx.foreach(
                            post.images,
                            lambda src: rx.image(
                                src=src,
                                max_height="16em",
                                max_width="100%",
                                border_radius="var(--radius-2)",
                                alt="Image attached to the post",
                            ),
                        ),
                        spacing="2",
                        wrap="wrap",
                    ),
                ),
                rx.cond(
                    show_actions,
                    rx.hstack(
                        rx.button(
                            rx.icon("heart", size=14),
                            post.likes,
                            size="1",
                            variant=rx.cond(post.liked, "solid", "soft"),
                            color_scheme="crimson",
                            on_click=state.toggle_like(post.id, ~post.liked),
                            aria_pressed=rx.cond(post.liked, "true", "false"),
                            aria_label=rx.cond(post.liked, "Unlike", "Like")
                            + " ("
                            + post.likes.to_string()
                            + ")",
                            data_testid="post-like-" + pid,
                        ),
                        rx.link(
                            rx.button(
                                rx.icon("message-circle", size=14), post.replies, size="1", variant="soft"
                            ),
                            href=post.url,
                            aria_label="Replies (" + post.replies.to_string() + ")",
                            data_testid="post-replies-" + pid,
                        ),
                        boost_button(post, state),
                        edit_dialog(post, state),
                        rx.cond(
                            post.mine,
                            rx.button(
                                "Delete",
                                size="1",
                                variant="ghost",
                                color_scheme="red",
                                on_click=state.delete_post(post.id),
                                data_testid="post-delete-" + pid,
                            ),
                        ),
                        rx.cond(~post.mine, post_report_action(post)),
                        spacing="3",
                    ),
                ),
                spacing="2",
                width="100%",
                align="stretch",
            ),
            spacing="3",
            align="start",
            width="100%",
        ),
        width="100%",
        data_testid="post-" + pid,
        role="article",
        aria_label="Post by " + post.author_name,
    )


POST_STYLES = """
.clawnet-post-body p { margin: 0 0 0.4em 0; }
.clawnet-post-body a { color: var(--accent-11); text-decoration: underline; }
.clawnet-post-body pre, .clawnet-post-body code { font-family: var(--code-font-family); background: var(--gray-a3); padding: 0 0.2em; }
.clawnet-post-body blockquote { border-left: 3px solid var(--gray-a6); padding-left: 0.6em; margin: 0.3em 0; }
"""


# Clicks a "load more" button as it scrolls into view: infinite scroll that stays a button for
# keyboards and screen readers. Installed once per browser tab, whichever list page comes first.
AUTOLOAD_SCRIPT = """
(() => {
  if (window.__clawnetAutoload) return; window.__clawnetAutoload = true;
  const seen = new WeakSet();
  const io = new IntersectionObserver((entries) => entries.forEach((e) => {
    if (e.isIntersecting && !e.target.disabled) e.target.click();
  }), {rootMargin: '200px'});
  const watch = () => document.querySelectorAll('[data-autoload]').forEach((b) => {
    if (!seen.has(b)) { seen.add(b); io.observe(b); }
  });
  new MutationObserver(watch).observe(document.body, {childList: true, subtree: true});
  watch();
})();
"""


def autoload_script() -> rx.Component:
    """The observer behind `load_more_button`: put it on every page that has one."""
    return rx.script(AUTOLOAD_SCRIPT)


def load_more_button(
    label: str, on_click: Any, testid: str, loading: rx.Var[bool] | bool = False
) -> rx.Component:
    """ "Load older ..." at the end of a list; pressed by itself when scrolled into view
    (`data-autoload`, see `autoload_script`)."""
    return rx.button(
        label,
        on_click=on_click,
        variant="ghost",
        width="100%",
        loading=loading,
        data_testid=testid,
        custom_attrs={"data-autoload": "true"},
    )
