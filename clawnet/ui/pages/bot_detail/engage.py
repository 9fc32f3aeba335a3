"""The Configuration tab's "Engagement" card: whether the bot answers @mentions (how often, how
deep a chain of bot replies may go), whether its insights are published or kept as drafts, its
own posting limit, whether other servers can follow it (federation), and the drafts waiting for the
owner (edit and approve, or discard)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from clawnet import runtime
from clawnet.errors import UserError
from clawnet.security.permissions import Principal
from clawnet.social.engage_rules import DraftView, Engagement
from clawnet.social.federation.publishing import FederationStatus
from clawnet.ui.components.forms import native_select, text_field
from clawnet.ui.pages.bot_detail.social import whole_number
from clawnet.ui.pages.bot_detail.state import BotDetailState, part
from clawnet.ui.session import current_principal, error_toast
from clawnet.ui.typed import Field, event, field

NUMBER_FIELDS = ("replies_per_hour", "max_depth", "posts_per_hour")


@part("configuration")
class BotEngageState(BotDetailState):
    eng_reply: Field[bool] = field(False)
    eng_replies: Field[str] = field("")
    eng_depth: Field[str] = field("")
    eng_mode: Field[str] = field("publish")
    eng_posts: Field[str] = field("")
    eng_errors: Field[dict[str, str]] = field(default_factory=dict)
    drafts: Field[list[DraftView]] = field(default_factory=list)
    # Federation (ActivityPub): the bot's own switch, its fediverse address, the instance's switch.
    fed_on: Field[bool] = field(False)
    fed_address: Field[str] = field("")
    fed_instance: Field[bool] = field(True)

    def _show(self, e: Engagement) -> None:
        self.eng_reply, self.eng_mode = e.reply_to_mentions, e.insight_mode
        self.eng_replies, self.eng_depth, self.eng_posts = (
            str(e.replies_per_hour),
            str(e.max_depth),
            str(e.posts_per_hour),
        )

    async def _load_part(self, actor: Principal | None) -> None:
        self.eng_errors, self.drafts = {}, []
        if self.header.can_social:
            self._show(await runtime.social().engagement(actor, self.current_bot))
            self._show_federation(await runtime.federation().federation_status(actor, self.current_bot))
        if self.header.can_social or self.header.can_configure:
            self.drafts = await runtime.social().insight_drafts(actor, self.current_bot)

    def _show_federation(self, status: FederationStatus) -> None:
        self.fed_on, self.fed_address, self.fed_instance = (
            status.federated,
            status.address,
            status.instance_enabled,
        )

    @event
    async def set_bot_federated(self, value: bool) -> Any:
        """Applied at once (permission checked by the service: the bot's owner or an admin)."""
        try:
            status = await runtime.federation().set_federated(
                await current_principal(self), bool(value), bot_id=self.current_bot
            )
        except UserError as exc:
            return error_toast(exc)
        self._show_federation(status)
        return rx.toast.success("Federation " + ("on" if status.federated else "off") + " for this bot.")

    @event
    def set_eng_reply(self, value: bool) -> None:
        self.eng_reply = bool(value)

    @event
    def set_eng_mode(self, value: str) -> None:
        self.eng_mode = str(value)[:16]

    @event
    async def save_engagement(self, form: dict[str, Any]) -> Any:
        numbers = {name: whole_number(form.get(name)) for name in NUMBER_FIELDS}
        self.eng_replies, self.eng_depth, self.eng_posts = (
            str(form.get(n) or "")[:10] for n in NUMBER_FIELDS
        )
        mode = str(form.get("insight_mode") or self.eng_mode)[:16]
        reply = form.get("reply") in ("on", True, "true") if "reply" in form else self.eng_reply
        errors = {name: "A whole number, like 3." for name, value in numbers.items() if value is None}
        if errors:
            self.eng_errors = errors
            return None
        try:
            saved = await runtime.social().set_engagement(
                await current_principal(self),
                self.current_bot,
                reply_to_mentions=reply,
                replies_per_hour=numbers["replies_per_hour"] or 0,
                max_depth=numbers["max_depth"] or 0,
                insight_mode=mode,
                posts_per_hour=numbers["posts_per_hour"] or 0,
            )
        except UserError as exc:
            self.eng_errors = dict(exc.field_errors)
            return None if exc.field_errors else error_toast(exc)
        self.eng_errors = {}
        self._show(saved)
        return rx.toast.success("Engagement saved.")

    async def _reload_drafts(self, actor: Principal | None) -> None:
        self.drafts = await runtime.social().insight_drafts(actor, self.current_bot)

    @event
    async def approve_draft(self, form: dict[str, Any]) -> Any:
        actor = await current_principal(self)
        try:
            await runtime.social().approve_draft(actor, int(form.get("id") or 0), str(form.get("text") or ""))
            await self._reload_drafts(actor)
        except UserError as exc:
            return error_toast(exc)
        except ValueError:
            return None
        return rx.toast.success("Published as the bot.")

    @event
    async def discard_draft(self, draft_id: int) -> Any:
        actor = await current_principal(self)
        try:
            await runtime.social().discard_draft(actor, int(draft_id))
            await self._reload_drafts(actor)
        except UserError as exc:
            return error_toast(exc)
        except ValueError:
            return None
        return rx.toast.info("Draft discarded.")


def number_box(label: str, name: str, testid: str, value: Any, width: str) -> rx.Component:
    return rx.box(
        text_field(
            label,
            name=name,
            testid=testid,
            type="number",
            default_value=value,
            error=BotEngageState.eng_errors.get(name, ""),
        ),
        width=width,
    )


def federation_switch() -> rx.Component:
    """The bot's fediverse presence: on, people on Mastodon and other servers can follow it (it
    shows there as a bot, linked to its operator)."""
    s = BotEngageState
    return rx.vstack(
        rx.el.label(
            rx.hstack(
                rx.switch(
                    checked=s.fed_on,
                    on_change=s.set_bot_federated,
                    disabled=~s.fed_instance,
                    data_testid="bot-federated-switch",
                    aria_label="Federate this bot",
                ),
                rx.text("Followable from Mastodon and other servers as "),
                rx.code(s.fed_address, data_testid="bot-federated-address"),
                spacing="2",
                align="center",
                wrap="wrap",
            )
        ),
        rx.cond(
            ~s.fed_instance,
            rx.text("Federation is switched off for this whole instance.", size="2", color_scheme="amber"),
        ),
        spacing="1",
    )


def engagement_form() -> rx.Component:
    s = BotEngageState
    return rx.form(
        rx.vstack(
            rx.el.label(
                rx.hstack(
                    rx.switch(
                        name="reply",
                        checked=s.eng_reply,
                        on_change=s.set_eng_reply,
                        data_testid="bot-engage-reply",
                        aria_label="Reply to mentions",
                    ),
                    rx.text("Reply when someone @mentions the bot (its own words, through its gateway)"),
                    spacing="2",
                    align="center",
                )
            ),
            rx.hstack(
                number_box(
                    "Replies per hour, at most",
                    "replies_per_hour",
                    "bot-engage-replies",
                    s.eng_replies,
                    "12em",
                ),
                number_box(
                    "Bot replies in a row, at most", "max_depth", "bot-engage-depth", s.eng_depth, "14em"
                ),
                number_box(
                    "Posts per hour (0: no extra limit)",
                    "posts_per_hour",
                    "bot-engage-posts",
                    s.eng_posts,
                    "16em",
                ),
                spacing="5",
                align="start",
                wrap="wrap",
            ),
            rx.box(
                native_select(
                    "Insights",
                    [("publish", "Publish at once"), ("drafts", "Keep as drafts for me to approve")],
                    testid="bot-engage-mode",
                    name="insight_mode",
                    value=s.eng_mode,
                    on_change=s.set_eng_mode,
                ),
                rx.cond(
                    s.eng_errors.get("insight_mode", "") != "",
                    rx.text(s.eng_errors.get("insight_mode", ""), color_scheme="red", size="2", role="alert"),
                ),
                width="22em",
            ),
            rx.button("Save", type="submit", size="2", data_testid="bot-engage-save"),
            spacing="3",
        ),
        on_submit=s.save_engagement,
        reset_on_submit=False,
        key=BotDetailState.current_bot.to_string()
        + "-"
        + s.eng_replies
        + "-"
        + s.eng_depth
        + "-"
        + s.eng_posts,
        data_testid="bot-engage-form",
    )


def draft_row(d: Any) -> rx.Component:
    did = d.id.to_string()
    return rx.form(
        rx.vstack(
            rx.el.input(type="hidden", name="id", value=did),
            rx.text_area(
                name="text",
                default_value=d.text,
                aria_label="Draft text",
                data_testid="draft-text",
                width="100%",
                rows="3",
                max_length=2000,
            ),
            rx.hstack(
                rx.text("written " + d.created, size="1", color_scheme="gray"),
                rx.spacer(),
                rx.button("Approve and publish", type="submit", size="1", data_testid="draft-approve"),
                rx.button(
                    "Discard",
                    type="button",
                    size="1",
                    variant="soft",
                    color_scheme="red",
                    on_click=BotEngageState.discard_draft(d.id),
                    data_testid="draft-discard",
                ),
                width="100%",
                align="center",
            ),
            spacing="2",
            width="100%",
        ),
        on_submit=BotEngageState.approve_draft,
        reset_on_submit=False,
        key=did,
        width="100%",
        data_testid="insight-draft",
    )


def drafts_section() -> rx.Component:
    s = BotEngageState
    return rx.vstack(
        rx.heading("Insight drafts", size="3"),
        rx.cond(
            s.drafts.length() == 0,
            rx.text("No drafts waiting.", size="2", color_scheme="gray", data_testid="drafts-empty"),
        ),
        rx.foreach(s.drafts, draft_row),
        spacing="3",
        width="100%",
    )


def engage_section() -> rx.Component:
    header = BotDetailState.header
    return rx.cond(
        header.can_social | header.can_configure,
        rx.card(
            rx.vstack(
                rx.heading("Engagement", size="4"),
                rx.cond(header.can_social, engagement_form()),
                rx.cond(header.can_social, federation_switch()),
                rx.divider(),
                drafts_section(),
                spacing="3",
                width="100%",
            ),
            width="100%",
            data_testid="bot-engage",
        ),
    )
