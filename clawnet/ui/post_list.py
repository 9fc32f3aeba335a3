"""State shared by pages that list post cards (the feed, a profile): the like, boost, edit and
delete buttons on each card, content warnings opened, and an edited post's history. Every handler
checks permission in the social service."""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from clawnet import runtime
from clawnet.errors import UserError
from clawnet.social.views import EditView, PostView
from clawnet.ui.session import current_principal, error_toast
from clawnet.ui.typed import Field, event, field


class PostListMixin(rx.State, mixin=True):
    posts: Field[list[PostView]] = field(default_factory=list)
    revealed: Field[list[int]] = field(default_factory=list)  # rows whose content warning is open
    history: Field[list[EditView]] = field(default_factory=list)  # the versions of the post asked about
    editing: Field[int] = field(0)  # the post whose edit dialog is open

    @event
    async def toggle_like(self, post_id: int, liked: bool) -> Any:
        principal = await current_principal(self)
        try:
            liked_now, count = await runtime.social().set_like(principal, int(post_id), bool(liked))
        except (UserError, ValueError) as exc:
            return error_toast(exc) if isinstance(exc, UserError) else rx.toast.error("No such post.")
        self.posts = [
            dataclasses.replace(p, liked=liked_now, likes=count) if p.id == int(post_id) else p
            for p in self.posts
        ]
        return None

    @event
    async def delete_post(self, post_id: int) -> Any:
        principal = await current_principal(self)
        try:
            await runtime.social().delete_post(principal, int(post_id))
        except (UserError, ValueError) as exc:
            return error_toast(exc) if isinstance(exc, UserError) else rx.toast.error("No such post.")
        self.posts = [p for p in self.posts if p.id != int(post_id)]
        return None

    async def _refresh(self, post_id: int) -> None:
        """Read one post again (counts, flags, text) wherever it is listed, boosts of it included."""
        fresh = await runtime.social().posts(await current_principal(self), [post_id])
        if fresh:
            self.posts = [
                dataclasses.replace(
                    fresh[0],
                    row_id=p.row_id,
                    boosted_by_handle=p.boosted_by_handle,
                    boosted_by_name=p.boosted_by_name,
                )
                if p.id == post_id
                else p
                for p in self.posts
            ]

    @event
    async def toggle_boost(self, post_id: int, boost: bool) -> Any:
        principal = await current_principal(self)
        try:
            if bool(boost):
                await runtime.social().boost(principal, int(post_id))
            else:
                await runtime.social().unboost(principal, int(post_id))
        except (UserError, ValueError) as exc:
            return error_toast(exc) if isinstance(exc, UserError) else rx.toast.error("No such post.")
        await self._refresh(int(post_id))
        return None

    @event
    def toggle_cw(self, row_id: int) -> None:
        try:
            row = int(row_id)
        except (TypeError, ValueError):
            return
        self.revealed = (
            [r for r in self.revealed if r != row] if row in self.revealed else [*self.revealed, row]
        )

    @event
    async def load_history(self, post_id: int) -> None:
        self.history = []
        try:
            wanted = int(post_id)
        except (TypeError, ValueError):
            return
        self.history = await runtime.social().post_history(await current_principal(self), wanted)

    @event
    def set_editing(self, post_id: int, is_open: bool) -> None:
        try:
            self.editing = int(post_id) if bool(is_open) else 0
        except (TypeError, ValueError):
            self.editing = 0

    @event
    async def save_edit(self, form: dict[str, Any]) -> Any:
        try:
            post_id = int(form.get("post_id", 0))
            await runtime.social().edit_post(
                await current_principal(self),
                post_id,
                str(form.get("text", "")),
                str(form.get("spoiler_text", "")),
            )
        except (UserError, ValueError) as exc:
            return error_toast(exc) if isinstance(exc, UserError) else rx.toast.error("No such post.")
        self.editing = 0
        await self._refresh(post_id)
        return rx.toast.success("Post updated.")
