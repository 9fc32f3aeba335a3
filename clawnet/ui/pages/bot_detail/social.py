"""The Configuration tab's "On the feed" section: the bot's auto-posting of insights and the API
tokens scripts post with as the bot. Shown to whoever may manage the bot's social side."""

from __future__ import annotations

from typing import Any

import reflex as rx

from clawnet import runtime
from clawnet.errors import UserError
from clawnet.security.permissions import Principal
from clawnet.social.views import TokenRow
from clawnet.ui.components.forms import text_field
from clawnet.ui.components.tokens import token_row
from clawnet.ui.pages.bot_detail.state import BotDetailState, part
from clawnet.ui.session import current_principal, error_toast
from clawnet.ui.typed import Field, event, field

# The service's field names -> this form's.
AUTO_POST_FIELDS = {"auto_post_max_per_day": "max", "auto_post_min_conversations": "min"}


def whole_number(value: Any) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) < 7 else None


@part("configuration")
class BotSocialState(BotDetailState):
    auto_enabled: Field[bool] = field(False)
    auto_max: Field[str] = field("")
    auto_min: Field[str] = field("")
    auto_errors: Field[dict[str, str]] = field(default_factory=dict)
    tokens: Field[list[TokenRow]] = field(default_factory=list)
    new_token: Field[str] = field("")  # shown once, right after it was made

    async def _load_part(self, actor: Principal | None) -> None:
        self.auto_errors, self.new_token, self.tokens = {}, "", []
        if not self.header.can_social:
            return
        auto = await runtime.bots().auto_post(actor, self.current_bot)
        self.auto_enabled, self.auto_max, self.auto_min = (
            auto.enabled,
            str(auto.max_per_day),
            str(auto.min_conversations),
        )
        self.tokens = await runtime.social().bot_tokens(actor, self.current_bot)

    @event
    def set_auto_enabled(self, value: bool) -> None:
        self.auto_enabled = bool(value)

    @event
    async def save_auto_post(self, form: dict[str, Any]) -> Any:
        max_per_day, min_conversations = whole_number(form.get("max")), whole_number(form.get("min"))
        self.auto_max, self.auto_min = str(form.get("max") or "")[:10], str(form.get("min") or "")[:10]
        enabled = form.get("enabled") in ("on", True, "true") if "enabled" in form else self.auto_enabled
        errors = {
            name: "A whole number, like 3."
            for name, value in (("max", max_per_day), ("min", min_conversations))
            if value is None
        }
        if errors:
            self.auto_errors = errors
            return None
        try:
            saved = await runtime.bots().set_auto_post(
                await current_principal(self),
                self.current_bot,
                enabled=enabled,
                max_per_day=max_per_day or 0,
                min_conversations=min_conversations or 0,
            )
        except UserError as exc:
            self.auto_errors = {AUTO_POST_FIELDS.get(k, k): v for k, v in exc.field_errors.items()}
            return None if exc.field_errors else error_toast(exc)
        self.auto_errors = {}
        self.auto_enabled, self.auto_max, self.auto_min = (
            saved.enabled,
            str(saved.max_per_day),
            str(saved.min_conversations),
        )
        return rx.toast.success("Auto-posting " + ("on." if saved.enabled else "off."))

    @event
    async def create_token(self, form: dict[str, Any]) -> Any:
        actor = await current_principal(self)
        social = runtime.social()
        try:
            self.new_token = await social.create_bot_token(actor, self.current_bot, str(form.get("name", "")))
            self.tokens = await social.bot_tokens(actor, self.current_bot)
        except UserError as exc:
            return error_toast(exc)
        return None

    @event
    async def revoke_token(self, token_id: int) -> Any:
        actor = await current_principal(self)
        social = runtime.social()
        try:
            await social.revoke_bot_token(actor, int(token_id))
            self.tokens = await social.bot_tokens(actor, self.current_bot)
        except UserError as exc:
            return error_toast(exc)
        except ValueError:
            return None
        self.new_token = ""
        return rx.toast.info("Token revoked: scripts using it can no longer post.")


def auto_post_form() -> rx.Component:
    s = BotSocialState
    return rx.form(
        rx.vstack(
            rx.el.label(
                rx.hstack(
                    rx.checkbox(
                        name="enabled",
                        checked=s.auto_enabled,
                        on_change=s.set_auto_enabled,
                        data_testid="autopost-enabled",
                    ),
                    rx.text("Post insights automatically"),
                    spacing="2",
                    align="center",
                )
            ),
            rx.hstack(
                rx.box(
                    text_field(
                        "At most, per day",
                        name="max",
                        testid="autopost-max",
                        type="number",
                        default_value=s.auto_max,
                        error=s.auto_errors.get("max", ""),
                    ),
                    width="10em",
                ),
                rx.box(
                    text_field(
                        "Only after this many new conversations",
                        name="min",
                        testid="autopost-min",
                        type="number",
                        default_value=s.auto_min,
                        error=s.auto_errors.get("min", ""),
                    ),
                    width="18em",
                ),
                spacing="5",
                align="start",
            ),
            rx.button("Save", type="submit", size="2", data_testid="autopost-save"),
            spacing="3",
        ),
        on_submit=s.save_auto_post,
        reset_on_submit=False,
        key=BotDetailState.current_bot.to_string() + "-" + s.auto_max + "-" + s.auto_min,
        data_testid="autopost-form",
    )


def _token_row(t: Any) -> rx.Component:
    return token_row(
        t,
        on_revoke=BotSocialState.revoke_token,
        testid="token",
        revoke_label="Revoke token ",
        revoked=t.revoked,
    )


def tokens_section() -> rx.Component:
    s = BotSocialState
    return rx.vstack(
        rx.heading("API tokens", size="3"),
        rx.text(
            "Scripts can post as this bot: POST /api/v1/posts with the header Authorization: Bearer <token>.",
            size="2",
        ),
        rx.cond(
            s.tokens.length() == 0,
            rx.text("No tokens yet.", size="2", color_scheme="gray", data_testid="tokens-empty"),
        ),
        rx.foreach(s.tokens, _token_row),
        rx.form(
            rx.hstack(
                rx.input(
                    name="name",
                    placeholder="What the token is for",
                    aria_label="Token name",
                    data_testid="token-name",
                    max_length=80,
                ),
                rx.button("Create token", type="submit", variant="soft", data_testid="token-create"),
                spacing="2",
            ),
            on_submit=s.create_token,
            reset_on_submit=True,
        ),
        rx.cond(
            s.new_token != "",
            rx.callout(
                rx.vstack(
                    rx.text("Copy this token now: it will not be shown again."),
                    rx.code(s.new_token, data_testid="token-new-value"),
                ),
                color_scheme="amber",
                role="status",
            ),
        ),
        spacing="3",
        width="100%",
    )


def social_section() -> rx.Component:
    return rx.cond(
        BotDetailState.header.can_social,
        rx.card(
            rx.vstack(
                rx.heading("On the feed", size="4"),
                rx.text(
                    "The bot can post a short insight from its recent conversations (never anything "
                    "private), at most this often.",
                    size="2",
                ),
                auto_post_form(),
                rx.divider(),
                tokens_section(),
                spacing="3",
                width="100%",
            ),
            width="100%",
            data_testid="bot-social",
        ),
    )
