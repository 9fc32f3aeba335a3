"""Drift: the configuration a gateway runs is not the one ClawNet last applied. Noticed when a
gateway reports `config.changed` that ClawNet did not cause, when a reconnecting gateway's config
hash moved meanwhile, and when a freshly started gateway runs other agents than ClawNet wrote
(OpenClaw restored a backup). In every case the applied state is forgotten and the desired config
is re-applied whole on the next pass, which is asked for at once."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlmodel import Session

from clawnet.controlplane.db_runner import DbRunner
from clawnet.controlplane.links import GatewayLink
from clawnet.controlplane.plan import GatewayPlan
from clawnet.controlplane.protocol import GatewayError
from clawnet.events import EventBus, Kind
from clawnet.models import Gateway, utcnow

log = logging.getLogger(__name__)


class DriftWatch:
    def __init__(self, db: DbRunner, bus: EventBus, kick: Callable[[], None], applying: set[int]) -> None:
        self.db = db
        self.bus = bus
        self.kick = kick
        self.applying = applying  # gateways ClawNet is changing right now (their changes are ours)

    async def runs_what_was_written(self, link: GatewayLink, plan: GatewayPlan) -> bool:
        """A started gateway must run the agents ClawNet wrote. OpenClaw may have restored an older
        backup over the file instead (its config-health guard): then the applied state is
        forgotten, so the next pass (kicked at once) re-applies the whole desired config hot."""
        assert plan.config is not None
        try:
            running = await link.api.config()
        except GatewayError as exc:
            log.warning("gateway %s: could not read back its config: %s", plan.gateway_id, exc)
            return True
        wanted = set((plan.config.get("agents") or {}).get("entries") or {})
        found = set((running.get("agents") or {}).get("entries") or {})
        if wanted == found:
            return True
        message = (
            f"The gateway started with another configuration than ClawNet wrote (agents {sorted(found)} "
            f"instead of {sorted(wanted)}; OpenClaw may have restored a backup); re-applying ClawNet's."
        )
        log.warning("gateway %s: %s", plan.gateway_id, message)

        def forget(s: Session) -> None:
            gw = s.get(Gateway, plan.gateway_id)
            if gw is not None:
                gw.applied_config, gw.applied_config_hash, gw.drift_detected_at = None, "", utcnow()
                s.add(gw)

        await self.db.run(forget)
        self.bus.publish(
            Kind.CONFIG_DRIFT,
            {"expected_hash": plan.config_hash, "remote_hash": "", "action": message},
            gateway_id=plan.gateway_id,
        )
        self.kick()
        return False

    async def check_remote_hash(self, gateway_id: int, remote_hash: str) -> None:
        """On (re)connect: remember the gateway's config hash, or notice it drifted meanwhile."""
        if gateway_id in self.applying or not remote_hash:
            return

        def remember(s: Session) -> str | None:
            gw = s.get(Gateway, gateway_id)
            if gw is None:
                return None
            if not gw.remote_config_hash:
                gw.remote_config_hash = remote_hash
                s.add(gw)
                return ""
            return gw.remote_config_hash

        stored = await self.db.run(remember)
        if stored and stored != remote_hash:
            await self.on_config_changed(gateway_id, remote_hash)

    async def on_config_changed(self, gateway_id: int, remote_hash: str) -> None:
        """A `config.changed` event: if ClawNet did not cause it, the config drifted."""
        if gateway_id in self.applying or not remote_hash:
            return

        def stored_hash(s: Session) -> str:
            gw = s.get(Gateway, gateway_id)
            return gw.remote_config_hash if gw is not None else ""

        expected = await self.db.run(stored_hash)
        if not expected or expected == remote_hash:
            return

        def mark(s: Session) -> None:
            gw = s.get(Gateway, gateway_id)
            if gw is not None:
                gw.drift_detected_at = utcnow()
                gw.applied_config_hash = ""  # forces a full re-apply of the desired config
                gw.applied_config = None
                s.add(gw)

        await self.db.run(mark)
        self.bus.publish(
            Kind.CONFIG_DRIFT,
            {
                "expected_hash": expected,
                "remote_hash": remote_hash,
                "action": "re-applying ClawNet's configuration",
            },
            gateway_id=gateway_id,
        )
        self.kick()
