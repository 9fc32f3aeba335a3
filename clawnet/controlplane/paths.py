"""Where the control plane keeps things on disk: each gateway's folder and each bot's own data.

Each gateway gets `<gateways_dir>/gw-<id>/` (its config, state, a private HOME and its logs). A
bot's data lives outside any gateway's folder, in `<data>/bots/<agent id>/`, so the bot can move
between gateways.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from clawnet.settings import Settings


@dataclass(frozen=True)
class GatewayPaths:
    root: Path

    @property
    def config(self) -> Path:
        return self.root / "openclaw.json5"

    @property
    def state(self) -> Path:
        return self.root / "state"

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def log_dir(self) -> Path:
        return self.root / "logs"

    @property
    def log_file(self) -> Path:
        """OpenClaw's structured log (`logging.file`), one JSON object per line."""
        return self.log_dir / "openclaw.log"

    @property
    def stdout(self) -> Path:
        return self.log_dir / "stdout.log"

    @property
    def workspace_root(self) -> Path:
        return self.root / "workspaces"

    def create(self) -> None:
        for folder in (self.root, self.state, self.home, self.log_dir, self.workspace_root):
            folder.mkdir(parents=True, exist_ok=True)
            folder.chmod(0o700)


def gateway_paths(settings: Settings, gateway_id: int) -> GatewayPaths:
    return GatewayPaths(settings.gateways_dir / f"gw-{gateway_id}")


@dataclass(frozen=True)
class BotPaths:
    """A bot's own data, outside any gateway's folder so the bot can move between gateways:
    its workspace (persona files) and OpenClaw's per-agent state (its sessions database).

    OpenClaw keeps an agent's state at `<gateway state>/agents/<agent id>/`; ClawNet makes that
    path a symlink to `state` here (see `link_agent_state`)."""

    root: Path

    @property
    def workspace(self) -> Path:
        return self.root / "workspace"

    @property
    def state(self) -> Path:
        return self.root / "state"


def bot_paths(settings: Settings, agent_id: str) -> BotPaths:
    return BotPaths(settings.data_dir / "bots" / agent_id)
