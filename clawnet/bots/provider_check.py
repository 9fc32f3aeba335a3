"""Test connection for a model provider's key: list its models with the key, the way the gateway
will authenticate (OpenAI and compatible endpoints: `GET {base}/models` with a Bearer key;
Anthropic: `GET {base}/v1/models` with `x-api-key` and `anthropic-version`), and say whether
the models the provider lists in ClawNet are offered."""

from __future__ import annotations

from clawnet.bots.checks import CheckResult, Unreachable, call
from clawnet.controlplane.openclaw_config import DEFAULT_BASE_URL
from clawnet.enums import ProviderKind

ANTHROPIC_VERSION = "2023-06-01"
SHOWN_MISSING = 5


async def test_provider_key(
    kind: ProviderKind, name: str, base_url: str, api_key: str, model_ids: list[str]
) -> CheckResult:
    """`name` is how the page calls the provider ("OpenAI", "Acme")."""
    base = (base_url.strip() or DEFAULT_BASE_URL.get(kind, "")).rstrip("/")
    if not base.startswith(("http://", "https://")):
        return CheckResult(False, "Give the base URL first, like https://api.example.com/v1.")
    api_key = api_key.strip()
    if kind is ProviderKind.ANTHROPIC:
        url = f"{base}/models" if base.endswith("/v1") else f"{base}/v1/models"
        headers = {"x-api-key": api_key, "anthropic-version": ANTHROPIC_VERSION}
    else:
        url = f"{base}/models"
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    if not api_key and kind in (ProviderKind.OPENAI, ProviderKind.ANTHROPIC):
        return CheckResult(False, f"Type the API key first: {name} needs one.")
    try:
        answer = await call(name, "GET", url, headers=headers)
    except Unreachable as exc:
        return CheckResult(False, str(exc))
    if answer.status in (401, 403):
        return CheckResult(
            False, f"{name} refused the key (HTTP {answer.status}): it is wrong, revoked or lacks access."
        )
    if answer.status == 404:
        return CheckResult(
            False, f"{name} has no model list at {url}: check the base URL (it usually ends in /v1)."
        )
    if answer.status == 429:
        return CheckResult(False, f"{name} accepted the connection but asks to slow down (HTTP 429).")
    listed = answer.data.get("data")
    if answer.status != 200 or not isinstance(listed, list):
        error = answer.data.get("error")
        detail = error.get("message") if isinstance(error, dict) else error
        return CheckResult(False, f"{name} answered HTTP {answer.status}: {detail or 'no model list'}.")
    offered = {str(m.get("id")) for m in listed if isinstance(m, dict)}
    missing = [m for m in model_ids if m not in offered]
    if offered and missing:
        shown = ", ".join(missing[:SHOWN_MISSING]) + ("…" if len(missing) > SHOWN_MISSING else "")
        return CheckResult(False, f"The key works, but {name} does not offer: {shown}. Check the model ids.")
    return CheckResult(True, f"Connected: the key works and {name} offers {len(offered)} models.")
