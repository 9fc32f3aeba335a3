"""Every page of the app; importing this package registers them (`@rx.page`)."""

from clawnet.ui.pages import (
    access,
    account_links,
    admin,
    alerts,
    auth,
    bot_detail,
    dashboard,
    feed,
    fleet_lists,
    inbox,
    settings,
    social,
    wizard,
)

__all__ = [
    "access",
    "account_links",
    "admin",
    "alerts",
    "auth",
    "bot_detail",
    "dashboard",
    "feed",
    "fleet_lists",
    "inbox",
    "settings",
    "social",
    "wizard",
]
