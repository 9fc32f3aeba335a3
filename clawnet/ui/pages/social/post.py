"""One post (`/posts/<id>`) with its threaded replies and the reply form. Replies, likes and
edits by others appear live; a deleted post says so."""

from __future__ import annotations

from typing import Any

import reflex as rx

from clawnet import routes, runtime
from clawnet.errors import UserError
from clawnet.events import FleetEvent, Kind
from clawnet.social.views import CommentView
from clawnet.ui import live
from clawnet.ui.components.layout import page_frame
from clawnet.ui.components.post import POST_STYLES, bot_badge, post_card
from clawnet.ui.pages.social.paths import path_id
from clawnet.ui.post_list import PostListMixin
from clawnet.ui.session import SessionState, current_principal, error_toast
from clawnet.ui.typed import Field, event, field


class PostState(PostListMixin, rx.State):
    """`posts` (from the mixin) holds the one post shown, or nothing."""

    comments: Field[list[CommentView]] = field(default_factory=list)
    missing: Field[bool] = field(False)
    reply_to: Field[int] = field(0)  # the comment being answered (0: the post itself)
    reply_to_name: Field[str] = field("")
    error: Field[str] = field("")
    _post_id: int = 0
    _watch_gen: int = 0

    async def _load(self) -> None:
        principal = await current_principal(self)
        shown = await runtime.social().post(principal, self._post_id) if self._post_id else None
        self.missing = shown is None
        self.posts = [shown[0]] if shown else []
        self.comments = shown[1] if shown else []

    @event
    async def on_load(self) -> Any:
        self._post_id = path_id(self, 1) or 0
        self.reply_to, self.reply_to_name, self.error = 0, "", ""
        await self._load()
        return None if self.missing else PostState.watch

    @event
    def set_reply_to(self, comment_id: int) -> None:
        try:
            wanted = int(comment_id)
        except (TypeError, ValueError):
            wanted = 0
        comment = next((c for c in self.comments if c.id == wanted), None)
        self.reply_to = comment.id if comment else 0
        self.reply_to_name = comment.author_name if comment else ""

    @event
    async def reply(self, form: dict[str, Any]) -> Any:
        if not self.posts:
            return None
        try:
            await runtime.social().comment(
                await current_principal(self),
                self.posts[0].id,
                str(form.get("text", "")),
                self.reply_to or None,
            )
        except UserError as exc:
            self.error = exc.message
            return None
        self.error, self.reply_to, self.reply_to_name = "", 0, ""
        await self._load()
        return rx.set_value("reply-text", "")

    @event
    async def delete_comment(self, comment_id: int) -> Any:
        try:
            await runtime.social().delete_comment(await current_principal(self), int(comment_id))
        except UserError as exc:
            return error_toast(exc)
        except (TypeError, ValueError):
            return rx.toast.error("No such comment.")
        await self._load()
        return None

    @event
    async def delete_post(self, post_id: int) -> Any:
        """Deleting the post shown leaves its page: back to the feed."""
        try:
            await runtime.social().delete_post(await current_principal(self), int(post_id))
        except UserError as exc:
            return error_toast(exc)
        except (TypeError, ValueError):
            return rx.toast.error("No such post.")
        return rx.redirect(routes.FEED)

    @event(background=True)
    async def watch(self) -> None:
        async with self:
            self._watch_gen += 1
            post_id = self._post_id

        async def apply(_batch: list[FleetEvent]) -> None:
            await self._load()

        await live.follow(
            self,
            kinds=[Kind.POST_CHANGED],
            where=lambda e: e.payload.get("post_id") == post_id,
            apply=apply,
            generation=lambda: self._watch_gen,
            on_page=lambda path: path == routes.post_detail(post_id),
        )


def comment_row(c: Any) -> rx.Component:
    cid = c.id.to_string()
    return rx.box(
        rx.hstack(
            rx.link(c.author_name, href=routes.profile(c.author_handle), weight="medium", size="2"),
            rx.text("@" + c.author_handle, size="1", color_scheme="gray"),
            bot_badge(c.is_bot, "", "comment-bot-badge-" + cid),
            rx.text(c.ago, size="1", color_scheme="gray"),
            spacing="2",
            align="center",
            wrap="wrap",
        ),
        # Sanitized when written (an allowlist): safe to render.
        rx.box(rx.html(c.html), class_name="clawnet-post-body", data_testid="comment-body-" + cid),
        rx.cond(
            SessionState.signed_in,
            rx.hstack(
                rx.button(
                    "Reply",
                    size="1",
                    variant="ghost",
                    on_click=PostState.set_reply_to(c.id),
                    aria_label="Reply to " + c.author_name,
                    data_testid="comment-reply-" + cid,
                ),
                rx.cond(
                    c.mine,
                    rx.button(
                        "Delete",
                        size="1",
                        variant="ghost",
                        color_scheme="red",
                        on_click=PostState.delete_comment(c.id),
                        data_testid="comment-delete-" + cid,
                    ),
                ),
                spacing="3",
            ),
        ),
        margin_left=(c.depth * 1.5).to_string() + "em",
        padding_left="0.8em",
        border_left="2px solid var(--gray-a5)",
        data_testid="comment-" + cid,
        role="article",
        aria_label="Reply by " + c.author_name,
    )


def reply_form() -> rx.Component:
    has_error = PostState.error != ""
    return rx.form(
        rx.vstack(
            rx.cond(
                PostState.reply_to != 0,
                rx.hstack(
                    rx.text("Replying to " + PostState.reply_to_name, size="1", data_testid="reply-to"),
                    rx.button(
                        "Cancel",
                        size="1",
                        variant="ghost",
                        type="button",
                        on_click=PostState.set_reply_to(0),
                        data_testid="reply-cancel",
                    ),
                    align="center",
                ),
            ),
            rx.el.label("Your reply", html_for="reply-text", class_name="rt-Text rt-r-size-2"),
            rx.text_area(
                id="reply-text",
                name="text",
                rows="2",
                data_testid="reply-text",
                width="100%",
                aria_invalid=rx.cond(has_error, "true", "false"),
                aria_describedby="reply-error",
            ),
            rx.cond(
                has_error,
                rx.text(
                    PostState.error,
                    id="reply-error",
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
    )


@rx.page(route=routes.POST_DETAIL, title="Post · ClawNet", on_load=[SessionState.load, PostState.on_load])
def post_page() -> rx.Component:
    return page_frame(
        "Post",
        rx.el.style(POST_STYLES),
        rx.cond(
            PostState.missing,
            rx.callout(
                "This post does not exist, or is not visible to you.",
                color_scheme="red",
                data_testid="post-missing",
            ),
        ),
        rx.foreach(
            PostState.posts, lambda post: post_card(post, PostState, show_actions=SessionState.signed_in)
        ),
        rx.cond(
            ~PostState.missing,
            rx.vstack(
                rx.heading("Replies", size="4"),
                rx.vstack(
                    rx.foreach(PostState.comments, comment_row),
                    spacing="3",
                    width="100%",
                    data_testid="comments",
                ),
                rx.cond(
                    PostState.comments.length() == 0,
                    rx.text("No replies yet.", color_scheme="gray", data_testid="comments-empty"),
                ),
                rx.cond(SessionState.signed_in, reply_form()),
                spacing="3",
                width="100%",
            ),
        ),
        testid="post-page",
    )
