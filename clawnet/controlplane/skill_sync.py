"""Custom skills, re-applied: after each reconcile pass of a running gateway, every custom skill
its bots have in ClawNet's database is installed in the bot's workspace through the gateway's
own upload and verification (`gateway_skills.install_archive`), unless the gateway already
reports it there. What was installed is remembered per gateway process, so a quiet pass costs
one database read; a (re)started gateway is checked again.

OpenClaw has no method that removes a workspace skill: a custom skill deleted in ClawNet leaves
the bot's allowlist, and on a local gateway its folder is deleted from the bot's workspace
(`remove_local_skill`).
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlmodel import Session, col, select

from clawnet.controlplane.db_runner import DbRunner
from clawnet.controlplane.gateway_api import GatewayApi
from clawnet.controlplane.gateway_skills import install_archive, skill_status
from clawnet.controlplane.paths import bot_paths
from clawnet.controlplane.protocol import GatewayError
from clawnet.events import EventBus, Kind
from clawnet.models import Bot
from clawnet.models.skills import CustomSkill
from clawnet.settings import Settings

log = logging.getLogger(__name__)
WORKSPACE_SOURCE = "openclaw-workspace"


@dataclass(frozen=True)
class _Wanted:
    skill_id: int
    agent_id: str
    name: str
    sha256: str


def _wanted(session: Session, bot_ids: list[int]) -> list[_Wanted]:
    rows = session.exec(
        select(CustomSkill.id, Bot.agent_id, CustomSkill.name, CustomSkill.sha256)
        .join(Bot, col(Bot.id) == col(CustomSkill.bot_id))
        .where(col(CustomSkill.bot_id).in_(bot_ids))
    ).all()
    return [_Wanted(int(i or 0), a, n, h) for i, a, n, h in rows]


def _archive(session: Session, skill_id: int) -> bytes | None:
    row = session.get(CustomSkill, skill_id)
    return row.archive if row is not None else None


def uploads_allowed(config: Mapping[str, Any] | None) -> bool:
    """Whether a config lets the gateway install uploaded archives (only then is it worth asking:
    a pass whose plan predates a bot's first custom skill waits for the next)."""
    install = ((config or {}).get("skills") or {}).get("install") or {}
    return install.get("allowUploadedArchives") is True


class SkillSync:
    def __init__(self, db: DbRunner, bus: EventBus) -> None:
        self.db = db
        self.bus = bus
        self._installed: dict[int, set[tuple[str, str, str]]] = {}

    def forget(self, gateway_id: int) -> None:
        """The gateway's process changed: check its custom skills again."""
        self._installed.pop(gateway_id, None)

    async def sync(self, gateway_id: int, api: GatewayApi, bots: Mapping[str, int]) -> list[str]:
        """Install the missing custom skills of these bots (agent id -> bot id); the names
        installed. Each bot that got one is announced (`fleet.changed`): its pages reload."""
        if not bots:
            return []
        wanted = await self.db.run(lambda s: _wanted(s, list(bots.values())))
        done = self._installed.setdefault(gateway_id, set())
        todo = [w for w in wanted if (w.agent_id, w.name, w.sha256) not in done]
        installed: list[str] = []
        reports: dict[str, set[str]] = {}
        for w in todo:
            if w.agent_id not in reports:
                report = await skill_status(api, w.agent_id)
                reports[w.agent_id] = {s.name for s in report.skills if s.source == WORKSPACE_SOURCE}
            if w.name not in reports[w.agent_id] or (w.agent_id, w.name) in {(a, n) for a, n, _ in done}:
                archive = await self.db.run(partial(_archive, skill_id=w.skill_id))
                if archive is None:
                    continue
                try:
                    await install_archive(api, w.agent_id, w.name, archive)
                except GatewayError as exc:
                    if exc.retryable or exc.code in ("UNAVAILABLE", "TIMEOUT"):
                        raise  # tried again on the next pass
                    # Refused: not again until it is uploaded anew or the gateway restarts.
                    log.warning(
                        "gateway %s refused custom skill %s of %s: %s", gateway_id, w.name, w.agent_id, exc
                    )
                    done.add((w.agent_id, w.name, w.sha256))
                    continue
                installed.append(w.name)
                bot_id = bots.get(w.agent_id)
                self.bus.publish(Kind.FLEET_CHANGED, {"bot_id": bot_id, "skill": w.name}, bot_id=bot_id)
            done.add((w.agent_id, w.name, w.sha256))
        return installed


def remove_local_skill(settings: Settings, agent_id: str, name: str) -> None:
    """Delete a custom skill's folder from a local bot's workspace (the bot's own folder)."""
    folder = bot_paths(settings, agent_id).workspace / "skills" / name
    if folder.is_dir() and not folder.is_symlink():
        shutil.rmtree(folder, ignore_errors=True)
