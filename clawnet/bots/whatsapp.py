"""WhatsApp pairing in plain words: what the gateway's `web.login.start` / `web.login.wait`
answers (from @openclaw/whatsapp, which drives WhatsApp Web through Baileys) mean for the person
holding the phone.

Facts from the pinned plugin (2026.9.6) and its Baileys: the first QR code lives 60 s, each
rotated one 20 s, until WhatsApp's handful of codes runs out ("QR refs attempts ended"); the
plugin drops a login after 3 minutes ("The login QR expired"). `web.login.wait`, given the code
on screen, answers early with the new one when it rotates. A start that cannot reach WhatsApp
answers `ok` with no QR and a message ("Failed to get QR: ... Timed out waiting for WhatsApp QR"):
that is a failure too. A gateway without the plugin refuses with INVALID_REQUEST "web login
provider is not available"."""

from __future__ import annotations

import re

from clawnet.bots.views import PairingStep
from clawnet.controlplane.gateway_api import WebLogin

FIRST_QR_VALID_S = 60
NEXT_QR_VALID_S = 20
LOGIN_VALID_S = 180
QR_WAIT_S = 30  # how long the gateway may take to get the first code from WhatsApp
WAIT_STEP_S = 25  # one `web.login.wait`; a rotation answers sooner

NO_PLUGIN = (
    "This gateway has no WhatsApp support installed, so no QR code can be made. On the gateway "
    "host run `openclaw plugins install @openclaw/whatsapp`, then restart the bot."
)
UNREACHABLE_AS = (
    "WhatsApp could not be reached from the gateway host{}, so no QR code could be made. Check that "
    "machine's internet access, then press Pair again."
)
UNREACHABLE = UNREACHABLE_AS.format("")
# What the plugin's failures say when WhatsApp Web cannot be reached (Node's network errors, the
# WebSocket's, Baileys' "Connection Closed/Failure"); seen: "WhatsApp login failed: WebSocket
# Error (getaddrinfo ENOTFOUND web.whatsapp.com)", "... (connect ECONNREFUSED 127.0.0.1:1)".
NETWORK_WORDS = (
    "enotfound",
    "eai_again",
    "econnrefused",
    "econnreset",
    "etimedout",
    "ehostunreach",
    "enetunreach",
    "websocket error",
    "connection closed",
    "connection failure",
)
EXPIRED = "The QR code expired before it was scanned. Press Pair again for a new one."
LINKED = "WhatsApp is linked: the bot now answers on this phone's WhatsApp."


def started(login: WebLogin) -> PairingStep:
    """The answer of `web.login.start`."""
    if login.connected:
        return PairingStep("linked", "WhatsApp was already linked: the bot uses that link again.")
    if login.qr_data_url.startswith("data:image/"):
        return PairingStep(
            "qr",
            "Scan this code with WhatsApp on the phone: Settings → Linked devices → Link a device.",
            login.qr_data_url,
            FIRST_QR_VALID_S,
            login.login_key,
        )
    text = login.message
    if "already linked" in text.lower():
        return PairingStep(
            "linked", f"{text.split('. ')[0]}. Press “Link another phone” to replace that link."
        )
    return PairingStep("failed", failure(text) or "The gateway did not return a QR code.")


def waited(login: WebLogin, shown_qr: str) -> PairingStep:
    """The answer of `web.login.wait` while `shown_qr` is on screen."""
    if login.connected:
        return PairingStep("linked", LINKED)
    if login.qr_data_url.startswith("data:image/") and login.qr_data_url != shown_qr:
        return PairingStep(
            "qr",
            "WhatsApp made a new code: scan this one.",
            login.qr_data_url,
            NEXT_QR_VALID_S,
            login.login_key,
        )
    text = login.message.lower()
    if text.startswith("still waiting") or text.startswith("qr refreshed"):
        return PairingStep("waiting", "", shown_qr, 0, login.login_key)
    return PairingStep("failed", failure(login.message) or "WhatsApp did not confirm the link.")


def failure(message: str) -> str:
    """A failure message of the plugin in plain words ("" when it gave none)."""
    text = message.lower()
    if not text:
        return ""
    if "expired" in text or "refs attempts ended" in text or "no active whatsapp login" in text:
        return EXPIRED
    if "timed out waiting for whatsapp qr" in text or "failed to get qr" in text:
        return UNREACHABLE
    if any(w in text for w in NETWORK_WORDS):
        detail = message.split("failed: ", 1)[-1].strip().rstrip(".")
        detail = re.sub(r"^WebSocket Error \((.*)\)$", r"\1", detail)  # the network's own words
        return UNREACHABLE_AS.format(f" ({detail})" if detail else "")
    if "logged out" in text or "401" in text:
        return "WhatsApp ended the link (the phone logged this device out). Press Pair again."
    return f"WhatsApp pairing failed: {message.rstrip('.')}."
