"""The bot setup wizard, one module per step: `basics`, `channels`, `access`, `advanced` and
`review` (with the launch), around the shared `state` (one `BotForm`), `spec` (what the steps
show, written once) and `widgets`; `page` puts them on `/bots/new`."""

from clawnet.ui.pages.wizard import page
from clawnet.ui.pages.wizard.access import WizardAccess
from clawnet.ui.pages.wizard.advanced import WizardAdvanced
from clawnet.ui.pages.wizard.basics import WizardBasics
from clawnet.ui.pages.wizard.channels import WizardChannels
from clawnet.ui.pages.wizard.review import WizardLaunch
from clawnet.ui.pages.wizard.state import WizardState

__all__ = [
    "WizardAccess",
    "WizardAdvanced",
    "WizardBasics",
    "WizardChannels",
    "WizardLaunch",
    "WizardState",
    "page",
]
