"""Settings, "Apps and tokens": personal access tokens for Mastodon apps and scripts (made here,
shown once), and the apps authorized on the consent page; each can be revoked."""

from __future__ import annotations

from typing import Any

import reflex as rx

from clawnet import runtime
from clawnet.errors import UserError
from clawnet.social.mastodon_tokens import AccessTokenRow
from clawnet.ui.components.tokens import token_row
from clawnet.ui.session import current_principal, error_toast
from clawnet.ui.typed import Field, event, field

SCOPE_CHOICES = ["read", "read write", "read write follow"]


class AppsState(rx.State):
    tokens: Field[list[AccessTokenRow]] = field(default_factory=list)
    new_token: Field[str] = field("")  # shown once, right after it was made
    scopes: Field[str] = field("read write follow")

    @event
    async def load(self) -> None:
        self.new_token = ""
        try:
            self.tokens = await runtime.mastodon().access_tokens(await current_principal(self))
        except UserError:
            self.tokens = []

    @event
    def set_scopes(self, value: str) -> None:
        self.scopes = value if value in SCOPE_CHOICES else "read"

    @event
    async def create(self, form: dict[str, Any]) -> Any:
        actor = await current_principal(self)
        masto = runtime.mastodon()
        try:
            self.new_token = await masto.create_personal_token(actor, str(form.get("name", "")), self.scopes)
            self.tokens = await masto.access_tokens(actor)
        except UserError as exc:
            return error_toast(exc)
        return None

    @event
    async def revoke(self, token_id: int) -> Any:
        actor = await current_principal(self)
        masto = runtime.mastodon()
        try:
            await masto.revoke_access_token(actor, int(token_id))
            self.tokens = await masto.access_tokens(actor)
        except UserError as exc:
            return error_toast(exc)
        except ValueError:
            return None
        self.new_token = ""
        return rx.toast.info("Token revoked: apps using it are signed out.")


def _row(t: Any) -> rx.Component:
    return token_row(
        t,
        on_revoke=AppsState.revoke,
        testid="pat",
        revoke_label="Revoke ",
        title=rx.cond(t.app != "", t.app, t.name),
        badge=rx.badge(t.scopes, variant="soft"),
        wrap=True,
    )


def apps_section() -> rx.Component:
    s = AppsState
    return rx.card(
        rx.vstack(
            rx.heading("Apps and tokens", size="4"),
            rx.text(
                "Mastodon apps and libraries work with ClawNet. Sign in from the app, or make a personal "
                "access token here: it acts as you (Authorization: Bearer <token>).",
                size="2",
            ),
            rx.cond(
                s.tokens.length() == 0,
                rx.text("No tokens or apps yet.", size="2", color_scheme="gray", data_testid="pat-empty"),
            ),
            rx.foreach(s.tokens, _row),
            rx.form(
                rx.hstack(
                    rx.input(
                        name="name",
                        placeholder="What the token is for",
                        aria_label="Token name",
                        data_testid="pat-name",
                        max_length=80,
                    ),
                    rx.select(
                        SCOPE_CHOICES,
                        value=s.scopes,
                        on_change=s.set_scopes,
                        aria_label="Token scopes",
                        data_testid="pat-scopes",
                    ),
                    rx.button("Create token", type="submit", variant="soft", data_testid="pat-create"),
                    spacing="2",
                    wrap="wrap",
                ),
                on_submit=s.create,
                reset_on_submit=True,
            ),
            rx.cond(
                s.new_token != "",
                rx.callout(
                    rx.vstack(
                        rx.text("Copy this token now: it will not be shown again."),
                        rx.code(s.new_token, data_testid="pat-token"),
                    ),
                    color_scheme="amber",
                    role="status",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        data_testid="settings-apps",
    )
