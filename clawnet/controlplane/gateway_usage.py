"""OpenClaw's usage figures (`usage.cost`), typed: what a gateway counted for one agent over
UTC calendar days. The gateway caches these ~30 s, so they lag ClawNet's own records; the
budget check takes the larger of the two (`controlplane.budgets`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from clawnet.controlplane.gateway_api import GatewayApi, GatewayCaller


@dataclass(frozen=True)
class GatewayUsage:
    cost_usd: float
    tokens: int


def usage_of(answer: Any) -> GatewayUsage:
    totals = (answer or {}).get("totals") if isinstance(answer, dict) else None
    totals = totals if isinstance(totals, dict) else {}
    return GatewayUsage(float(totals.get("totalCost") or 0), int(totals.get("totalTokens") or 0))


class UsageApi:
    def __init__(self, api: GatewayApi | GatewayCaller) -> None:
        self.caller: GatewayCaller = api.caller if isinstance(api, GatewayApi) else api

    async def agent_usage(self, agent_id: str, start: date, end: date) -> GatewayUsage:
        """One agent's cost and tokens from `start` to `end` (inclusive, UTC days)."""
        params = {
            "agentId": agent_id,
            "startDate": start.isoformat(),
            "endDate": end.isoformat(),
            "mode": "specific",
            "timeZone": "UTC",
        }
        return usage_of(await self.caller.call("usage.cost", params, timeout=30))
