"""Files a person adds to an import: an agent's persona files (`SOUL.md`, `IDENTITY.md`,
`AGENTS.md`, ... uploaded one by one or as a zip of the workspace), and legacy cron jobs found in
such a zip (`cron/jobs.json`), which become schedules (`import_schedules`). Pure: bytes in, text out.

Which agent a file belongs to: files in a folder named after the agent's id, `workspace-<id>` or
the last folder of the agent's `workspace` in the config; loose files go to the only agent (or
the one whose workspace is OpenClaw's default `workspace` folder).
"""

from __future__ import annotations

import io
import json
import posixpath
import zipfile
from dataclasses import dataclass, field
from typing import Any

from clawnet.bots.import_map import FileAgent
from clawnet.bots.skill_rules import ZIP_ERRORS

PERSONA_FILES = ("AGENTS.md", "SOUL.md", "IDENTITY.md", "USER.md", "TOOLS.md")
MAX_FILE_BYTES = 256 * 1024
MAX_TOTAL_BYTES = 8 * 1024 * 1024
MAX_ENTRIES = 2000


@dataclass
class WorkspaceUploads:
    """Persona files by folder ("" for loose ones), cron jobs found, and what could not be read."""

    files: dict[str, dict[str, str]] = field(default_factory=dict)
    cron_jobs: list[str] = field(default_factory=list)
    cron_sources: list[Any] = field(default_factory=list)  # each cron/jobs.json, parsed
    unreadable: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.files and not self.cron_jobs and not self.unreadable

    def _owner(self, folder: str, agents: list[FileAgent], implicit: bool) -> str | None:
        for agent in agents:
            workspace = str(agent.entry.get("workspace") or "").rstrip("/")
            names = {agent.agent_id, f"workspace-{agent.agent_id}", posixpath.basename(workspace)}
            if folder and folder in names:
                return agent.agent_id
        if len(agents) == 1:
            return agents[0].agent_id
        if not folder or folder == "workspace":
            default = [a for a in agents if not a.entry.get("workspace")]
            return default[0].agent_id if len(default) == 1 else None
        return None

    def persona_for(self, agents: list[FileAgent], implicit: bool) -> dict[str, dict[str, str]]:
        """File agent id -> its persona files."""
        out: dict[str, dict[str, str]] = {}
        for folder, files in self.files.items():
            owner = self._owner(folder, agents, implicit)
            if owner is not None:
                out.setdefault(owner, {}).update(files)
        return out

    def problems(self, agents: list[FileAgent], implicit: bool) -> list[str]:
        out = list(self.unreadable)
        for folder, files in self.files.items():
            if self._owner(folder, agents, implicit) is None:
                where = f"folder '{folder}'" if folder else "the loose files"
                out.append(
                    f"Persona files in {where} ({', '.join(sorted(files))}) match no agent: put each "
                    "agent's files in a folder named after its id."
                )
        return out


def _describe_jobs(data: Any, source: str) -> list[str]:
    jobs = data.get("jobs") if isinstance(data, dict) else data
    out = []
    for job in jobs if isinstance(jobs, list) else []:
        if not isinstance(job, dict):
            continue
        name = str(job.get("name") or job.get("id") or "job")
        schedule = job.get("schedule")
        when = (
            str(schedule.get("expr") or schedule.get("everyMs") or schedule.get("at") or schedule.get("kind"))
            if isinstance(schedule, dict)
            else str(schedule or "")
        )
        agent = str(job.get("agentId") or "")
        out.append(f"{name} ({when})" + (f" for {agent}" if agent else "") + f" from {source}")
    return out


def _add_file(uploads: WorkspaceUploads, path: str, data: bytes) -> None:
    name = posixpath.basename(path)
    parts = [p for p in posixpath.dirname(path).split("/") if p and p != "."]
    if name == "jobs.json" and parts[-1:] == ["cron"]:
        try:
            parsed = json.loads(data.decode("utf-8"))
            uploads.cron_jobs.extend(_describe_jobs(parsed, path))
            uploads.cron_sources.append(parsed)
        except (ValueError, UnicodeDecodeError):
            uploads.unreadable.append(f"{path}: not a JSON list of cron jobs.")
        return
    if name not in PERSONA_FILES:
        return
    if len(data) > MAX_FILE_BYTES:
        uploads.unreadable.append(f"{path}: larger than {MAX_FILE_BYTES // 1024} KB.")
        return
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        uploads.unreadable.append(f"{path}: not UTF-8 text.")
        return
    folder = parts[-1] if parts else ""
    uploads.files.setdefault(folder, {})[name] = text


def read_uploads(uploads: list[tuple[str, bytes]]) -> WorkspaceUploads:
    """Persona files and cron jobs from uploaded files (`.md` files or `.zip` workspaces)."""
    out = WorkspaceUploads()
    for filename, data in uploads:
        if filename.lower().endswith(".zip"):
            try:
                with zipfile.ZipFile(io.BytesIO(data)) as archive:
                    infos = [i for i in archive.infolist() if not i.is_dir()][:MAX_ENTRIES]
                    if sum(i.file_size for i in infos) > MAX_TOTAL_BYTES:
                        out.unreadable.append(f"{filename}: more than 8 MB unpacked.")
                        continue
                    for info in infos:
                        if ".." in info.filename.split("/"):
                            continue
                        _add_file(out, info.filename, archive.read(info))
            except ZIP_ERRORS:
                out.unreadable.append(f"{filename}: not a zip file ClawNet can read (damaged, encrypted?).")
        else:
            _add_file(out, posixpath.basename(filename), data)
    return out
