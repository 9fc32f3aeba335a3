"""The bots domain: the UI's door to the fleet (`BotsService`), the forms it takes and the typed
read models it returns."""

from clawnet.bots.checks import CheckResult
from clawnet.bots.forms import BindingInput, BotForm, BotInput, ChannelInput
from clawnet.bots.operations import ChannelActionError
from clawnet.bots.providers import KIND_LABELS, ProviderInput
from clawnet.bots.service import BotsService
from clawnet.controlplane.chat import ChatError, Turn
from clawnet.controlplane.logs import LEVELS as LOG_LEVELS

__all__ = [
    "KIND_LABELS",
    "LOG_LEVELS",
    "BindingInput",
    "BotForm",
    "BotInput",
    "BotsService",
    "ChannelActionError",
    "ChannelInput",
    "ChatError",
    "CheckResult",
    "ProviderInput",
    "Turn",
]
