"""Every page of the app; importing this package registers them (`@rx.page`)."""

from clawnet.ui.pages import auth, bot_detail, dashboard

__all__ = ["auth", "bot_detail", "dashboard"]
