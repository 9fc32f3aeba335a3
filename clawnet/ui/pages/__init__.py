"""Every page of the app; importing this package registers them (`@rx.page`)."""

from clawnet.ui.pages import admin, auth, dashboard, fleet_lists, settings

__all__ = ["admin", "auth", "dashboard", "fleet_lists", "settings"]
