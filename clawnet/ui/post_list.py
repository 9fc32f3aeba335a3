"""State shared by pages that list post cards (the feed, a profile): the like and delete buttons
on each card. Every handler checks permission in the social service."""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from clawnet import runtime
from clawnet.errors import UserError
from clawnet.social.views import PostView
from clawnet.ui.session import current_principal, error_toast
from clawnet.ui.typed import Field, event, field


class PostListMixin(rx.State, mixin=True):
    posts: Field[list[PostView]] = field(default_factory=list)

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
