"""One API token in a list: its prefix, what it is for, when it was made and last used, and a
Revoke button (or a "revoked" badge). Used by Settings' personal access tokens (`pat-*`) and a
bot's API tokens (`token-*`), each with its own revoke handler."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx


def token_row(
    t: Any,
    *,
    on_revoke: Callable[[Any], Any],
    testid: str,
    revoke_label: str,
    title: Any = None,
    badge: rx.Component | None = None,
    revoked: Any = None,
    wrap: bool = False,
) -> rx.Component:
    """`t` is a row Var with `id`, `name`, `prefix`, `created` and `last_used`. The row is
    `<testid>-row-<id>`, its button `<testid>-revoke-<id>`, named `revoke_label + name`; `title`
    (default: the name) and an optional `badge` follow the prefix; if `revoked` is given, a
    revoked token shows a `<testid>-revoked-<id>` badge instead of the button."""
    tid = t.id.to_string()
    button = rx.button(
        "Revoke",
        size="1",
        variant="soft",
        color_scheme="red",
        on_click=on_revoke(t.id),
        data_testid=f"{testid}-revoke-" + tid,
        aria_label=revoke_label + t.name,
    )
    children: list[rx.Component] = [
        rx.code(t.prefix),
        rx.text(t.name if title is None else title, weight="medium"),
    ]
    if badge is not None:
        children.append(badge)
    children += [
        rx.text("made " + t.created + " · used " + t.last_used, size="1", color_scheme="gray"),
        button
        if revoked is None
        else rx.cond(
            revoked, rx.badge("revoked", color_scheme="gray", data_testid=f"{testid}-revoked-" + tid), button
        ),
    ]
    layout: dict[str, Any] = {"wrap": "wrap"} if wrap else {}
    return rx.hstack(*children, spacing="3", align="center", data_testid=f"{testid}-row-" + tid, **layout)
