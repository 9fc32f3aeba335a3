"""Importing a 50-agent openclaw.json: how long the preview and the import take.

Writes a config the way OpenClaw's docs write a fleet: 50 agents in `agents.entries` inheriting
`agents.defaults.model` (Anthropic, built in, with an OpenAI fallback), each with a Telegram
account, a binding, a listed group with its own mention setting, an identity and a tool policy,
plus some keys ClawNet does not carry. In a fresh installation (its own data folder), times:
- the preview (`import_config(dry_run=True)`: parse, map, validate every bot, roll back),
- the import (`import_config`: the same, written, placed on gateways, audited),
- building the generated gateway config for the 50 bots, and `openclaw config validate` on it.
Each preview and import runs `--runs` times (default 5; every import into a fresh data folder).

    .venv/bin/python bench/import_50_agents.py [--agents 50] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import _fleet  # noqa: F401 (puts the project on sys.path, as for every bench script)
from sqlmodel import select

from clawnet import db
from clawnet.bots.service import BotsService
from clawnet.controlplane.openclaw_cli import validate_config
from clawnet.controlplane.plan import load_plan
from clawnet.enums import Role
from clawnet.events import EventBus
from clawnet.models import Bot
from clawnet.security.permissions import Principal
from clawnet.settings import get_settings
from tests.conftest import _reset_process_caches
from tests.factories import make_user


def fleet_config(n: int) -> str:
    entries, accounts, bindings = {}, {}, []
    for i in range(1, n + 1):
        agent = f"agent{i:02d}"
        entries[agent] = {
            "name": f"Agent {i}",
            "workspace": f"~/.openclaw/workspace-{agent}",
            "identity": {"name": f"Agent {i}", "theme": "helpful", "emoji": "🤖"},
            "tools": {"profile": "messaging", "deny": ["browser"]},
        }
        accounts[agent] = {
            "botToken": f"{100000000 + i}:AAH0f2l4xmPBtFakeTokenForBench_{i:06d}",
            "dmPolicy": "allowlist",
            "allowFrom": [str(111111111 + i)],
            "groupPolicy": "allowlist",
            "groups": {f"-100{2000000000 + i}": {"requireMention": i % 2 == 0}},
        }
        bindings.append({"agentId": agent, "match": {"channel": "telegram", "accountId": agent}})
    config = {
        "auth": {"profiles": {"anthropic:default": {"provider": "anthropic", "mode": "api_key"}}},
        "agents": {
            "defaults": {
                "model": {"primary": "anthropic/claude-sonnet-4-6", "fallbacks": ["openai/gpt-5.4"]},
                "thinkingDefault": "low",
            },
            "entries": entries,
        },
        "channels": {"telegram": {"accounts": accounts}},
        "bindings": bindings,
        "session": {"dmScope": "per-channel-peer", "reset": {"mode": "idle", "idleMinutes": 120}},
        "messages": {"ackReaction": "👀"},
    }
    return "// A fleet, as OpenClaw's docs write one\n" + json.dumps(config, indent=2)


def fresh_installation(root: Path) -> tuple[BotsService, Principal]:
    os.environ["CLAWNET_DATA_DIR"] = str(root)
    _reset_process_caches()
    db.migrate()
    with db.session_scope() as s:
        actor = Principal.of(make_user(s, Role.ADMIN))
    return BotsService(get_settings(), EventBus()), actor


def summary(name: str, values: list[float]) -> str:
    return f"{name}: median {statistics.median(values) * 1000:.0f} ms, max {max(values) * 1000:.0f} ms over {len(values)}"


async def main(agents: int, runs: int) -> None:
    raw = fleet_config(agents)
    keys = {"anthropic": "sk-ant-bench", "openai": "sk-bench"}
    previews, imports = [], []
    with tempfile.TemporaryDirectory(prefix="clawnet-bench-import-") as tmp:
        for run in range(runs):
            service, actor = fresh_installation(Path(tmp) / f"run{run}")
            start = time.perf_counter()
            preview = await service.import_config(actor, raw, dry_run=True)
            previews.append(time.perf_counter() - start)
            assert preview.errors == [], preview.errors[:3]
            start = time.perf_counter()
            result = await service.import_config(actor, raw, provider_keys=keys)
            imports.append(time.perf_counter() - start)
            assert result.errors == [] and len(result.bot_ids) == agents, result.errors[:3]
        settings = get_settings()
        start = time.perf_counter()
        with db.session_scope() as s:
            gateways = sorted({b.gateway_id for b in s.exec(select(Bot)).all() if b.gateway_id})
            configs = [p.config for g in gateways if (p := load_plan(s, settings, g)) and p.config]
        built = time.perf_counter() - start
        start = time.perf_counter()
        checks = [await validate_config(settings, c) for c in configs]
        validated = time.perf_counter() - start
    print(f"{agents}-agent config ({len(raw) // 1024} KB), {len(preview.unsupported)} keys not carried over:")
    print("  " + summary("preview", previews))
    print("  " + summary("import (apply)", imports))
    print(f"  gateway configs built: {len(configs)} in {built * 1000:.0f} ms")
    print(
        f"  openclaw config validate: {'all valid' if all(c.valid for c in checks) else 'INVALID'} "
        f"in {validated:.1f} s"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.agents, args.runs))
