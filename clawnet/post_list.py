"""State shared by pages that list post cards (the feed, a profile): who is looking, and the
like and delete buttons on each card. Every handler checks permission in the social service."""

from __future__ import annotations

from typing import Any

import reflex as rx

from clawnet import runtime
from clawnet.db import session_scope
from clawnet.security.permissions import PermissionDenied
from clawnet.social import profiles
from clawnet.social.service import SocialError
from clawnet.state import current_principal


async def viewer_profile(state: rx.State) -> tuple[Any, int]:
    """The signed-in principal (or None) and their person profile id (0 when anonymous)."""
    principal = await current_principal(state)
    if principal is None:
        return None, 0
    with session_scope() as session:
        profile = profiles.person_profile_of(session, principal.user_id)
    return principal, (profile.id or 0) if profile else 0


class PostListMixin(rx.State, mixin=True):
    posts: list[dict[str, str]] = []

    @rx.event
    async def toggle_like(self, post_id: str, liked: bool):
        principal, _ = await viewer_profile(self)
        try:
            liked_now, count = runtime.social().set_like(principal, int(post_id), bool(liked))
        except (SocialError, PermissionDenied, ValueError) as exc:
            return rx.toast.error(str(exc) or "Not allowed.")
        self.posts = [
            {**p, "liked": "yes" if liked_now else "", "likes": str(count)} if p["id"] == post_id else p
            for p in self.posts
        ]
        return None

    @rx.event
    async def delete_post(self, post_id: str):
        principal, _ = await viewer_profile(self)
        try:
            runtime.social().delete_post(principal, int(post_id))
        except (SocialError, PermissionDenied, ValueError) as exc:
            return rx.toast.error(str(exc) or "Not allowed.")
        self.posts = [p for p in self.posts if p["id"] != post_id]
        return None
