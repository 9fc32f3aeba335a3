"""The `connect` request ClawNet sends a gateway, with or without a device identity.

On direct loopback OpenClaw lets a shared-token backend client (`gateway-client`/`backend`) in
without a device; that is the path for the gateways ClawNet runs. Every other connection carries
ClawNet's signed device identity (see `device_identity` for the exact payload), and an unapproved
device is answered NOT_PAIRED with details.code PAIRING_REQUIRED and details.requestId.
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from clawnet.controlplane.device_identity import DeviceStore

PROTOCOL_VERSION = 4
CLIENT_ID = "gateway-client"
CLIENT_VERSION = "0.1.0"
CLIENT_MODE = "backend"
CLIENT_PLATFORM = "linux"
ROLE = "operator"
OPERATOR_SCOPES = ["operator.admin", "operator.read", "operator.write"]
# "approvals": the gateway delivers exec and plugin approval requests to this connection (the
# inbox answers them); without a client that declares it, OpenClaw expires them at once.
CLIENT_CAPS = ["approvals"]


def host_is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost."""
    host = host.strip().strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_is_loopback(url: str) -> bool:
    try:
        return host_is_loopback(urlsplit(url).hostname or "")
    except ValueError:
        return False


def pairing_message(request_id: str, device_id: str) -> str:
    """What the operator must do, in plain words, when a gateway has not approved ClawNet."""
    target = request_id or device_id
    return (
        "This gateway has not approved ClawNet yet: on the gateway host run "
        f"`openclaw devices approve {target}`"
        + ("" if request_id else " (see `openclaw devices list` for the request id)")
    )


def device_identity_required(code: str, message: str) -> bool:
    return code == "DEVICE_IDENTITY_REQUIRED" or "device identity required" in message.lower()


def connect_params(
    token: str,
    challenge: dict[str, Any],
    *,
    url: str,
    store: DeviceStore | None,
    use_device_token: bool = False,
) -> tuple[dict[str, Any], str | None]:
    """`connect.params`, and the device id when a device identity is sent (`store` given).
    `use_device_token`: authenticate with the device token this gateway issued instead of the
    shared token (OpenClaw's one retry after AUTH_TOKEN_MISMATCH). Raises ValueError for a
    challenge without a usable nonce and ts."""
    params: dict[str, Any] = {
        "minProtocol": PROTOCOL_VERSION,
        "maxProtocol": PROTOCOL_VERSION,
        "client": {
            "id": CLIENT_ID,
            "version": CLIENT_VERSION,
            "platform": CLIENT_PLATFORM,
            "mode": CLIENT_MODE,
        },
        "role": ROLE,
        "scopes": OPERATOR_SCOPES,
        "caps": CLIENT_CAPS,
        "auth": {"token": token},
    }
    if store is None:
        return params, None
    identity = store.identity()
    nonce, ts = challenge.get("nonce"), challenge.get("ts")
    if not isinstance(nonce, str) or not nonce or not isinstance(ts, int) or isinstance(ts, bool) or ts < 0:
        raise ValueError(f"malformed connect.challenge: {str(challenge)[:200]}")
    auth_token = token
    if use_device_token:
        auth_token = store.device_token(url, identity.device_id, ROLE) or token
        params["auth"] = {"token": auth_token}
    params["device"] = identity.connect_device(
        client_id=CLIENT_ID,
        client_mode=CLIENT_MODE,
        role=ROLE,
        scopes=OPERATOR_SCOPES,
        token=auth_token,
        nonce=nonce,
        signed_at_ms=ts,  # the challenge's ts, as OpenClaw requires
        platform=CLIENT_PLATFORM,
    )
    return params, identity.device_id


def scopes_withheld(hello_payload: dict[str, Any]) -> bool:
    """True when hello-ok granted fewer scopes than asked. OpenClaw admits a device-less operator
    that is not on its direct loopback (e.g. behind a TCP tunnel) but clears its scopes; ClawNet
    then reconnects with its device identity."""
    granted = (hello_payload.get("auth") or {}).get("scopes")
    return isinstance(granted, list) and not set(OPERATOR_SCOPES) <= {str(s) for s in granted}
