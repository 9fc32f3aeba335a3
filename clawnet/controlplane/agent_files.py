"""Files a local gateway's agents live on: each bot's persona files and state folder (linked into
the gateway's state), the check of a gateway's config file, and deleting a bot's data once asked
and no gateway names it any more."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import json5
from sqlmodel import Session, select

from clawnet.controlplane import openclaw_config as oc
from clawnet.controlplane.paths import bot_paths, gateway_paths
from clawnet.controlplane.persona import workspace_files
from clawnet.files import write_file_atomically
from clawnet.models import AgentTombstone, Bot, Gateway
from clawnet.settings import Settings

DELETE_MARKER = ".delete-requested"


def config_file_problem(path: Path) -> str | None:
    """What is wrong with a gateway's config file on disk, or None."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return "it is missing"
    except (OSError, UnicodeDecodeError) as exc:
        return f"it cannot be read: {exc}"
    try:
        data = json.loads(text)  # what OpenClaw writes back: fast to check
    except ValueError:
        try:
            data = json5.loads(text)  # what people may write (comments, trailing commas)
        except ValueError as exc:
            return f"it is not valid JSON5: {str(exc)[:120]}"
    if not isinstance(data, dict) or not isinstance(data.get("gateway"), dict):
        return "it has no gateway section"
    return None


def prepare_agent_files(settings: Settings, gateway_id: int, agents: tuple[oc.AgentSpec, ...]) -> None:
    """Before a local gateway sees its agents: write each bot's persona files (atomically), and
    point `<gateway state>/agents/<id>` at the bot's own state folder. Links of bots that left
    this gateway are removed, so it never touches a state folder another gateway now uses."""
    agents_root = gateway_paths(settings, gateway_id).state / "agents"
    agents_root.mkdir(parents=True, exist_ok=True)
    wanted = {a.agent_id for a in agents}
    for entry in agents_root.iterdir():
        if entry.is_symlink() and entry.name not in wanted:
            entry.unlink()
    for agent in agents:
        paths = bot_paths(settings, agent.agent_id)
        for folder in (paths.root, paths.workspace, paths.state):
            folder.mkdir(parents=True, exist_ok=True)
            folder.chmod(0o700)
        link_agent_state(agents_root / agent.agent_id, paths.state)
        for name, content in workspace_files(agent).items():
            target = paths.workspace / name
            try:
                if target.read_text() == content:
                    continue
            except FileNotFoundError:
                pass
            write_file_atomically(target, content, mode=0o600)


def link_agent_state(link: Path, target: Path) -> None:
    """Make `link` a symlink to `target`. A real folder already there (state an older setup
    kept inside the gateway) is moved into `target` first, so nothing is lost."""
    if link.is_symlink():
        if link.resolve() == target.resolve():
            return
        link.unlink()
    elif link.exists():
        if any(target.iterdir()):
            raise RuntimeError(f"Both {link} and {target} hold agent state; move one aside by hand.")
        target.rmdir()
        link.rename(target)
    link.symlink_to(target, target_is_directory=True)


def unlink_agent_state(settings: Settings, gateway_id: int, agent_id: str) -> None:
    link = gateway_paths(settings, gateway_id).state / "agents" / agent_id
    if link.is_symlink():
        link.unlink()


def record_tombstone(session: Session, *, gateway_id: int, agent_id: str) -> None:
    """Remember that `gateway_id` deleted `agent_id` (see AgentTombstone)."""
    exists = session.exec(
        select(AgentTombstone).where(
            AgentTombstone.agent_id == agent_id, AgentTombstone.gateway_id == gateway_id
        )
    ).first()
    bot_gone = session.exec(select(Bot.id).where(Bot.agent_id == agent_id)).first() is None
    if exists is None:
        session.add(AgentTombstone(agent_id=agent_id, gateway_id=gateway_id, bot_deleted=bot_gone))
    elif bot_gone and not exists.bot_deleted:
        exists.bot_deleted = True
        session.add(exists)


def request_data_deletion(settings: Settings, agent_id: str) -> None:
    """Mark a deleted bot's data folder for deletion; the reconciler deletes it once no gateway
    config names the agent any more (`purge_deleted_bot_data`)."""
    folder = bot_paths(settings, agent_id).root
    folder.mkdir(parents=True, exist_ok=True)
    (folder / DELETE_MARKER).write_text(str(time.time()))


def purge_deleted_bot_data(settings: Settings, session: Session) -> list[str]:
    """Delete the data folders of deleted bots whose deletion was asked for, once no gateway
    config still names them."""
    root = settings.data_dir / "bots"
    if not root.exists():
        return []
    live_agents = set(session.exec(select(Bot.agent_id)).all())
    for gw in session.exec(select(Gateway)).all():
        live_agents |= set(((gw.applied_config or {}).get("agents") or {}).get("entries", {}) or {})
    purged = []
    for folder in root.iterdir():
        if (folder / DELETE_MARKER).exists() and folder.name not in live_agents:
            shutil.rmtree(folder, ignore_errors=True)
            purged.append(folder.name)
    return purged
