"""OpenClaw's skill methods, typed: what a gateway offers one agent (`skills.status`) and the
private-archive upload (`skills.upload.begin/chunk/commit`, then `skills.install` with
`source: "upload"`), which verifies size and SHA-256 and installs into the agent's workspace
`skills/<slug>` folder. The upload needs `skills.install.allowUploadedArchives` in the config
(`openclaw_config` writes it when a bot of the gateway has a custom skill).
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from clawnet.controlplane.gateway_api import GatewayApi

CHUNK_BYTES = 256 * 1024  # well under the protocol's ~4 MB decoded limit per chunk
REQUIREMENT_KINDS = ("bins", "anyBins", "env", "config", "os")


@dataclass(frozen=True)
class GatewaySkill:
    """One skill as the gateway reports it for one agent."""

    name: str
    description: str
    emoji: str
    source: str  # openclaw-bundled | openclaw-extra | openclaw-workspace | openclaw-managed ...
    eligible: bool  # its requirements are met on the gateway's host
    visible: bool  # the agent's model sees it (eligible, not disabled, not filtered out)
    blocked_by_agent: bool  # the agent's allowlist leaves it out
    disabled: bool  # switched off gateway-wide (`skills.entries.<key>.enabled: false`)
    requirements: tuple[str, ...]  # e.g. "bin op", "env OPENAI_API_KEY", "os darwin"
    missing: tuple[str, ...]


@dataclass(frozen=True)
class SkillReport:
    agent_id: str
    agent_filter: tuple[str, ...] | None  # the allowlist the gateway applies, None: none
    skills: tuple[GatewaySkill, ...]

    def visible_names(self) -> list[str]:
        return [s.name for s in self.skills if s.visible]

    def find(self, name: str) -> GatewaySkill | None:
        return next((s for s in self.skills if s.name == name), None)


def _needs(block: Any) -> tuple[str, ...]:
    block = block if isinstance(block, dict) else {}
    words = {"bins": "bin", "anyBins": "one of", "env": "env", "config": "config", "os": "os"}
    out: list[str] = []
    for kind in REQUIREMENT_KINDS:
        values = [str(v) for v in block.get(kind) or []]
        if kind == "anyBins" and values:
            out.append(f"{words[kind]} {'/'.join(values)}")
        else:
            out.extend(f"{words[kind]} {v}" for v in values)
    return tuple(out)


def gateway_skill(row: dict[str, Any]) -> GatewaySkill:
    return GatewaySkill(
        name=str(row.get("name") or ""),
        description=str(row.get("description") or ""),
        emoji=str(row.get("emoji") or ""),
        source=str(row.get("source") or ""),
        eligible=bool(row.get("eligible")),
        visible=bool(row.get("modelVisible")),
        blocked_by_agent=bool(row.get("blockedByAgentFilter")),
        disabled=bool(row.get("disabled")),
        requirements=_needs(row.get("requirements")),
        missing=_needs(row.get("missing")),
    )


def skill_report(answer: Any) -> SkillReport:
    answer = answer if isinstance(answer, dict) else {}
    flt = answer.get("agentSkillFilter")
    return SkillReport(
        agent_id=str(answer.get("agentId") or ""),
        agent_filter=tuple(str(s) for s in flt) if isinstance(flt, list) else None,
        skills=tuple(gateway_skill(r) for r in answer.get("skills") or [] if isinstance(r, dict)),
    )


async def skill_status(api: GatewayApi, agent_id: str, *, timeout: float = 30) -> SkillReport:
    """Every skill the gateway knows, with its requirements and whether `agent_id` may use it."""
    answer = await api.caller.call("skills.status", {"agentId": agent_id}, timeout=timeout, connect_wait=0)
    return skill_report(answer)


async def install_archive(api: GatewayApi, agent_id: str, slug: str, archive: bytes) -> str:
    """Upload a skill zip and install it into the agent's workspace (replacing one of the same
    slug). Returns the folder it went to. Raises GatewayError when the gateway refuses it."""
    sha = hashlib.sha256(archive).hexdigest()
    begun = await api.caller.call(
        "skills.upload.begin",
        {
            "kind": "skill-archive",
            "slug": slug,
            "sizeBytes": len(archive),
            "sha256": sha,
            "force": True,
            "idempotencyKey": uuid.uuid4().hex,
        },
        timeout=30,
    )
    upload_id = str((begun or {}).get("uploadId") or "")
    for offset in range(0, len(archive), CHUNK_BYTES):
        chunk = archive[offset : offset + CHUNK_BYTES]
        await api.caller.call(
            "skills.upload.chunk",
            {"uploadId": upload_id, "offset": offset, "dataBase64": base64.b64encode(chunk).decode()},
            timeout=60,
        )
    await api.caller.call("skills.upload.commit", {"uploadId": upload_id, "sha256": sha}, timeout=30)
    installed = await api.caller.call(
        "skills.install",
        {
            "source": "upload",
            "agentId": agent_id,
            "uploadId": upload_id,
            "slug": slug,
            "force": True,
            "sha256": sha,
        },
        timeout=120,
    )
    return str((installed or {}).get("targetDir") or "")
