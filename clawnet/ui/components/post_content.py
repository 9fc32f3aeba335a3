"""The parts of a post card for boosts, content warnings and edits: the "boosted by" line, the
body folded behind its warning, the boost button, and the edit and history dialogs. Each takes
a Var of a `social.views.PostView` and a state with the `PostListMixin` handlers."""

from __future__ import annotations

from typing import Any

import reflex as rx

from clawnet import routes


def boosted_by_line(post: Any) -> rx.Component:
    return rx.cond(
        post.boosted_by_handle != "",
        rx.hstack(
            rx.icon("repeat-2", size=14, aria_hidden="true"),
            rx.text("Boosted by ", size="1", color_scheme="gray"),
            rx.link("@" + post.boosted_by_handle, href=routes.profile(post.boosted_by_handle), size="1"),
            spacing="1",
            align="center",
            data_testid="post-boosted-by-" + post.row_id.to_string(),
        ),
    )


def body_shown(post: Any, state: Any) -> Any:
    """Whether the post's body (and images) show: no warning, or the reader opened it."""
    return (post.spoiler_text == "") | state.revealed.contains(post.row_id)


def body_with_warning(post: Any, state: Any, body: rx.Component) -> rx.Component:
    """The body as is, or folded behind its content warning with a Show/Hide button."""
    rid = post.row_id.to_string()
    shown = state.revealed.contains(post.row_id)
    return rx.cond(
        post.spoiler_text != "",
        rx.vstack(
            rx.hstack(
                rx.icon("triangle-alert", size=14, aria_hidden="true"),
                rx.text(post.spoiler_text, weight="medium", data_testid="post-cw-text-" + rid),
                rx.button(
                    rx.cond(shown, "Hide", "Show"),
                    size="1",
                    variant="soft",
                    on_click=state.toggle_cw(post.row_id),
                    aria_expanded=rx.cond(shown, "true", "false"),
                    aria_label=rx.cond(shown, "Hide the post", "Show the post") + ": " + post.spoiler_text,
                    data_testid="post-cw-toggle-" + rid,
                ),
                spacing="2",
                align="center",
                wrap="wrap",
            ),
            rx.cond(shown, body),
            spacing="2",
            width="100%",
        ),
        body,
    )


def boost_button(post: Any, state: Any) -> rx.Component:
    """Boost or unboost; only public posts can be boosted."""
    return rx.cond(
        post.visibility == "public",
        rx.button(
            rx.icon("repeat-2", size=14),
            post.boosts,
            size="1",
            variant=rx.cond(post.boosted, "solid", "soft"),
            color_scheme="green",
            on_click=state.toggle_boost(post.id, ~post.boosted),
            aria_pressed=rx.cond(post.boosted, "true", "false"),
            aria_label=rx.cond(post.boosted, "Unboost", "Boost") + " (" + post.boosts.to_string() + ")",
            data_testid="post-boost-" + post.id.to_string(),
        ),
    )


def history_dialog(post: Any, state: Any) -> rx.Component:
    """The "edited" marker: opens the post's versions, the oldest first."""
    return rx.cond(
        post.edited,
        rx.dialog.root(
            rx.dialog.trigger(
                rx.button(
                    "edited",
                    size="1",
                    variant="ghost",
                    color_scheme="gray",
                    on_click=state.load_history(post.id),
                    aria_label="Edited: show the history",
                    data_testid="post-edited-" + post.id.to_string(),
                )
            ),
            rx.dialog.content(
                rx.dialog.title("Edit history"),
                rx.vstack(
                    rx.foreach(
                        state.history,
                        lambda v: rx.card(
                            rx.text(
                                rx.cond(v.current, "Current version", "Earlier version") + " · " + v.ago,
                                size="1",
                                color_scheme="gray",
                            ),
                            rx.cond(v.spoiler_text != "", rx.text("CW: " + v.spoiler_text, size="2")),
                            rx.box(rx.html(v.html), class_name="clawnet-post-body"),
                            width="100%",
                            data_testid="post-history-item",
                        ),
                    ),
                    spacing="2",
                    width="100%",
                ),
                rx.dialog.close(
                    rx.button("Close", variant="soft", margin_top="1em", data_testid="post-history-close")
                ),
                data_testid="post-history",
            ),
        ),
    )


def edit_dialog(post: Any, state: Any) -> rx.Component:
    """Edit one's own post (its text and content warning); the old version stays in its history."""
    pid = post.id.to_string()
    return rx.cond(
        post.mine & (post.boosted_by_handle == ""),
        rx.dialog.root(
            rx.dialog.trigger(rx.button("Edit", size="1", variant="ghost", data_testid="post-edit-" + pid)),
            rx.dialog.content(
                rx.dialog.title("Edit post"),
                rx.form(
                    rx.vstack(
                        rx.el.input(type="hidden", name="post_id", value=pid),
                        rx.el.label("Content warning", html_for="edit-cw-" + pid),
                        rx.input(
                            id="edit-cw-" + pid,
                            name="spoiler_text",
                            default_value=post.spoiler_text,
                            width="100%",
                            data_testid="post-edit-cw",
                        ),
                        rx.el.label("Text", html_for="edit-text-" + pid),
                        rx.text_area(
                            id="edit-text-" + pid,
                            name="text",
                            default_value=post.text,
                            rows="4",
                            width="100%",
                            data_testid="post-edit-text",
                        ),
                        rx.hstack(
                            rx.dialog.close(rx.button("Cancel", type="button", variant="soft")),
                            rx.button("Save", type="submit", data_testid="post-edit-save"),
                            justify="end",
                            width="100%",
                        ),
                        spacing="2",
                        width="100%",
                    ),
                    on_submit=state.save_edit,
                    reset_on_submit=False,
                ),
            ),
            # Open while this post is the one being edited: a failed save keeps it open.
            open=state.editing == post.id,
            on_open_change=lambda is_open: state.set_editing(post.id, is_open),
        ),
    )
