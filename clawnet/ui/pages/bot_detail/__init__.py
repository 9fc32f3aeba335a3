"""The bot page, `/bots/<number or agent id>`: one module per tab (`overview`, `channels`,
`routing` + `groups`, `sessions` + `chat`, `configuration` + `social`, `logs`, `analytics`), the
page's own state and live watcher (`state`), shared pieces (`widgets`) and the page itself
(`page`)."""

from clawnet.ui.pages.bot_detail import page
from clawnet.ui.pages.bot_detail.state import BotDetailState

__all__ = ["BotDetailState", "page"]
