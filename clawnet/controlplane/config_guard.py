"""A running local gateway's config file, checked on every reconcile pass: one that stays missing
or unreadable is refused and rebuilt from the database (OpenClaw would refuse to start on it after
its next restart)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from clawnet.controlplane import openclaw_config as oc
from clawnet.controlplane.agent_files import config_file_problem
from clawnet.controlplane.paths import gateway_paths
from clawnet.controlplane.plan import GatewayPlan
from clawnet.controlplane.tasks import TaskSet
from clawnet.events import EventBus, Kind
from clawnet.files import write_file_atomically
from clawnet.settings import Settings

log = logging.getLogger(__name__)

CONFIG_RECHECK_S = 2.0  # a config file must read bad this long before it is rebuilt


class ConfigFileGuard:
    def __init__(self, settings: Settings, bus: EventBus, tasks: TaskSet, kick: Callable[[], None]) -> None:
        self.settings = settings
        self.bus = bus
        self.tasks = tasks
        self.kick = kick
        self._bad_since: dict[int, float] = {}  # gateway -> when its file first read bad
        self._good: dict[int, tuple[int, int]] = {}  # gateway -> (mtime, size) of its last good read

    def check(self, plan: GatewayPlan) -> None:
        """A running gateway's config file that stays missing or unreadable (a full disk, a bad
        hand edit, a crash of another tool) is refused and rebuilt from the database: OpenClaw
        would refuse to start on it after its next restart. One bad read is not enough (OpenClaw
        rewrites the file itself after a hot change, and a read can meet it half-written): the
        problem must still be there a little later. Valid hand edits are drift, handled when
        OpenClaw reports `config.changed`. Never while a change is being applied."""
        assert plan.config is not None
        gid = plan.gateway_id
        path = gateway_paths(self.settings, gid).config
        try:
            stat = path.stat()
            signature: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            signature = None
        if signature is not None and self._good.get(gid) == signature:
            return  # unchanged since it last read well: no need to parse it on every pass
        problem = config_file_problem(path)
        if problem is None:
            self._bad_since.pop(gid, None)
            if signature is not None:
                self._good[gid] = signature
            return
        first_seen = self._bad_since.setdefault(gid, time.monotonic())
        if time.monotonic() - first_seen < CONFIG_RECHECK_S:
            self.tasks.spawn(self._kick_later(CONFIG_RECHECK_S), f"config-recheck-{gid}")
            return
        self._bad_since.pop(gid, None)
        write_file_atomically(path, oc.render(plan.config), mode=0o600)  # the whole desired config
        message = f"Refused the config file {path.name} ({problem}); rebuilt it from the database."
        log.warning("gateway %s: %s", gid, message)
        self.bus.publish(
            Kind.CONFIG_DRIFT,
            {"expected_hash": plan.applied_hash, "remote_hash": "", "action": message},
            gateway_id=gid,
        )

    async def _kick_later(self, delay_s: float) -> None:
        await asyncio.sleep(delay_s)
        self.kick()
