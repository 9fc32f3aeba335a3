"""Every page of the app; importing this package registers them (`@rx.page`)."""

from clawnet.ui.pages import auth, dashboard, feed, social, wizard

__all__ = ["auth", "dashboard", "feed", "social", "wizard"]
