"""Settings, "Your profile": display name, bio and avatar, and whether other servers (Mastodon
and the rest of the fediverse) see it (everyone who is signed in)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from clawnet import routes, runtime
from clawnet.errors import UserError
from clawnet.ui.components.forms import field_error, form_error_banner, text_area_field, text_field
from clawnet.ui.components.post import avatar
from clawnet.ui.session import current_principal
from clawnet.ui.typed import Field, event, field

MAX_AVATAR_BYTES = 2 * 2**20
REFUSED = "Choose a PNG, JPEG, GIF or WebP image of at most 2 MB."
AVATAR_TYPES = {
    "image/png": [".png"],
    "image/jpeg": [".jpg", ".jpeg"],
    "image/gif": [".gif"],
    "image/webp": [".webp"],
}


class MyProfileState(rx.State):
    handle: Field[str] = field("")
    display_name: Field[str] = field("")
    bio: Field[str] = field("")
    avatar_url: Field[str] = field("")
    errors: Field[dict[str, str]] = field(default_factory=dict)
    error: Field[str] = field("")
    # Federation: the profile's own switch, the instance's, and its fediverse address.
    federated: Field[bool] = field(True)
    federation_enabled: Field[bool] = field(True)
    fediverse_address: Field[str] = field("")
    # The uploaded avatar's media path stays on the server; only its URL goes to the browser.
    _avatar_path: str = ""

    @event
    async def load(self) -> None:
        self.errors, self.error = {}, ""
        principal = await current_principal(self)
        me = await runtime.social().my_profile(principal)
        if me is None:
            self.handle = self.display_name = self.bio = self.avatar_url = self._avatar_path = ""
            self.fediverse_address = ""
            return
        self.handle, self.display_name, self.bio = me.handle, me.display_name, me.bio
        self.avatar_url, self._avatar_path = me.avatar_url, me.avatar_path
        status = await runtime.federation().federation_status(principal)
        self.federated, self.federation_enabled = status.federated, status.instance_enabled
        self.fediverse_address = status.address

    @event
    async def set_federated(self, on: bool) -> Any:
        try:
            status = await runtime.federation().set_federated(await current_principal(self), on)
        except UserError as exc:
            self.error = exc.message
            return None
        self.federated = status.federated
        return rx.toast.success(
            "Other servers can find and follow your profile."
            if on
            else "Your profile is no longer federated."
        )

    @event
    async def save_profile(self, form: dict[str, Any]) -> Any:
        name, bio = str(form.get("display_name", "")), str(form.get("bio", ""))
        try:
            await runtime.social().update_profile(
                await current_principal(self), display_name=name, bio=bio, avatar_path=self._avatar_path
            )
        except UserError as exc:
            self.errors, self.error = exc.field_errors, exc.message
            return None
        self.errors, self.error = {}, ""
        self.display_name, self.bio = name.strip(), bio
        return rx.toast.success("Profile saved.")

    @event
    async def upload_avatar(self, files: list[rx.UploadFile]) -> Any:
        if not files:
            return None
        try:
            path, url = await runtime.social().upload_avatar(
                await current_principal(self), await files[0].read()
            )
        except UserError as exc:
            self.errors, self.error = {"avatar": exc.message}, exc.message
            return None
        self._avatar_path, self.avatar_url = path, url
        self.errors, self.error = {}, ""
        return None

    @event
    def remove_avatar(self) -> None:
        self._avatar_path = self.avatar_url = ""

    @event
    def avatar_refused(self) -> None:
        """The upload field refused a file before sending it (wrong type or too big)."""
        self.error = REFUSED
        self.errors = {"avatar": REFUSED}

    @rx.var
    def name_error(self) -> str:
        return self.errors.get("display_name", "")

    @rx.var
    def bio_error(self) -> str:
        return self.errors.get("bio", "")

    @rx.var
    def avatar_error(self) -> str:
        return self.errors.get("avatar", "")


def avatar_picker() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            avatar(MyProfileState.avatar_url, MyProfileState.display_name, "4em"),
            rx.upload(
                rx.button("Choose an avatar", variant="soft", size="2", type="button"),
                id="profile-avatar-upload",
                max_files=1,
                accept=AVATAR_TYPES,
                max_size=MAX_AVATAR_BYTES,
                on_drop=MyProfileState.upload_avatar(rx.upload_files(upload_id="profile-avatar-upload")),
                on_drop_rejected=lambda _rejected: MyProfileState.avatar_refused(),
                border="none",
                padding="0",
                aria_label="Choose an avatar",
                data_testid="profile-avatar-upload",
            ),
            rx.cond(
                MyProfileState.avatar_url != "",
                rx.button(
                    "Remove",
                    variant="ghost",
                    size="2",
                    type="button",
                    on_click=MyProfileState.remove_avatar,
                    aria_label="Remove the avatar",
                    data_testid="profile-avatar-remove",
                ),
            ),
            align="center",
            spacing="3",
        ),
        rx.text("PNG, JPEG, GIF or WebP, up to 2 MB.", size="1", color_scheme="gray"),
        field_error(MyProfileState.avatar_error, "profile-avatar-upload"),
        spacing="1",
    )


def federation_block() -> rx.Component:
    s = MyProfileState
    return rx.vstack(
        rx.el.label(
            rx.hstack(
                rx.switch(
                    checked=s.federated,
                    on_change=MyProfileState.set_federated,
                    disabled=~s.federation_enabled,
                    data_testid="federated-switch",
                    aria_label="Federate my profile",
                ),
                rx.text("Federate my profile"),
                align="center",
                spacing="2",
            )
        ),
        rx.text(
            "Your fediverse address is ",
            rx.code(s.fediverse_address, data_testid="federated-address"),
            ": people on Mastodon and other servers can find it, follow you and see your public posts.",
            " Turned off, other servers can no longer find or fetch your profile and posts, and nothing",
            " new is sent to them.",
            size="2",
            color_scheme="gray",
        ),
        rx.cond(
            ~s.federation_enabled,
            rx.text(
                "Federation is switched off for this whole instance by its admin.",
                size="2",
                color_scheme="amber",
                data_testid="federation-instance-off",
            ),
        ),
        spacing="1",
        width="100%",
        max_width="36em",
        data_testid="settings-federation",
    )


def profile_section() -> rx.Component:
    return rx.vstack(
        rx.heading("Your profile", size="4", id="profile"),
        rx.form(
            rx.vstack(
                avatar_picker(),
                text_field(
                    "Display name",
                    name="display_name",
                    testid="profile-display-name",
                    error=MyProfileState.name_error,
                    default_value=MyProfileState.display_name,
                    key=MyProfileState.display_name,
                ),
                text_area_field(
                    "Bio",
                    name="bio",
                    testid="profile-bio-text",
                    error=MyProfileState.bio_error,
                    hint="Plain text, up to 1,000 characters; links become clickable.",
                    default_value=MyProfileState.bio,
                    key=MyProfileState.bio,
                    rows="3",
                ),
                form_error_banner(MyProfileState.error, "profile-error"),
                rx.hstack(
                    rx.button("Save profile", type="submit", data_testid="profile-save"),
                    rx.link(
                        "View my profile",
                        href=routes.profile(MyProfileState.handle),
                        data_testid="profile-view",
                    ),
                    align="center",
                    spacing="4",
                ),
                spacing="3",
                width="100%",
                max_width="36em",
            ),
            on_submit=MyProfileState.save_profile,
            reset_on_submit=False,
            width="100%",
            aria_label="Your profile",
        ),
        rx.cond(MyProfileState.handle != "", federation_block()),
        spacing="3",
        width="100%",
        data_testid="settings-profile",
    )
