"""Import -> export -> import yields the same bots (secrets aside, re-entered); the preview lists
what is not carried over; `clawnet import` and `clawnet export` do the same from a shell."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import json5
import pytest
from sqlmodel import Session, col, select

from clawnet import db
from clawnet.bots.providers import ensure_local_echo_provider
from clawnet.bots.service import BotsService
from clawnet.bots.store import stored_credentials
from clawnet.cli import main
from clawnet.enums import Role
from clawnet.events import EventBus
from clawnet.models import Binding, Bot, BotChannel, BotSkill, ModelProvider, Schedule
from clawnet.security.permissions import Principal
from clawnet.settings import get_settings
from tests.conftest import _reset_process_caches
from tests.factories import make_user

FIXTURES = Path(__file__).parents[1] / "fixtures" / "openclaw_configs"
KEYS = {"anthropic": "sk-ant", "openai": "sk-oa", "custom-proxy": "k1", "minimax": "k2", "lmstudio": "k3"}
ROUND_TRIP = (
    "03_multi_agent_bindings",
    "07_defaults_inheritance",
    "08_group_require_mention",
    "10_tools_allow_deny",
    "12_signal_and_discord_accounts",
)


def snapshot(session: Session) -> dict[str, tuple]:
    """Every bot as comparable data: all ClawNet keeps of an import except secrets and row ids."""
    providers = {p.id: p.name for p in session.exec(select(ModelProvider)).all()}
    out = {}
    for bot in session.exec(select(Bot)).all():
        channels = sorted(
            (c.type, c.dm_policy, tuple(c.allow_from), c.group_policy, tuple(c.group_allow_from),
             c.mention_policy, tuple(sorted(c.group_mentions.items())), c.enabled)
            for c in session.exec(select(BotChannel).where(BotChannel.bot_id == bot.id))
        )  # fmt: skip
        rules = session.exec(
            select(Binding).where(Binding.bot_id == bot.id).order_by(col(Binding.priority).desc())
        ).all()
        out[bot.agent_id] = (
            bot.name, providers.get(bot.provider_id), bot.model_id, tuple(bot.model_fallbacks), bot.emoji,
            bot.identity_theme, bot.tools_profile, tuple(bot.tools_allow), tuple(bot.tools_allow_only),
            tuple(bot.tools_deny), bot.session_scope, bot.dm_scope, bot.reset_mode, bot.reset_at_hour,
            bot.reset_idle_minutes, tuple(channels),
            tuple((b.channel, b.account_id, b.peer_kind, b.peer_id, b.guild_id, b.team_id, tuple(b.roles)) for b in rules),
        )  # fmt: skip
    return out


def _fresh_installation(monkeypatch: pytest.MonkeyPatch, where: Path) -> None:
    monkeypatch.setenv("CLAWNET_DATA_DIR", str(where))
    _reset_process_caches()
    db.migrate()


def _with_secrets(exported: str, secrets: dict[str, dict[str, str]]) -> str:
    """The export with each redacted channel secret typed in again (agent id -> "type.field")."""
    config = json5.loads(exported)
    for ctype, section in (config.get("channels") or {}).items():
        for account_id, account in (section.get("accounts") or {}).items():
            for key, value in list(account.items()):
                if value == "__CLAWNET_REDACTED__":
                    account[key] = secrets[account_id][f"{ctype}.{key}"]
    return json.dumps(config)


async def test_import_export_import_yields_the_same_bots(migrated, monkeypatch, tmp_path):
    service = BotsService(get_settings(), EventBus())
    with db.session_scope() as s:
        actor = Principal.of(make_user(s, Role.ADMIN))
    for stem in ROUND_TRIP:
        result = await service.import_config(
            actor, (FIXTURES / f"{stem}.json5").read_text(), provider_keys=KEYS
        )
        assert result.errors == [], (stem, result.errors)
    with db.session_scope() as s:
        before = snapshot(s)
        assert len(before) == 10 and sum(1 for v in before.values() if v[-2]) == 5  # five with channels
        secrets = {b.agent_id: stored_credentials(s, b.id) for b in s.exec(select(Bot)).all() if b.id}
    exported = await service.export_config(actor)

    _fresh_installation(monkeypatch, tmp_path / "second")
    service = BotsService(get_settings(), EventBus())
    with db.session_scope() as s:
        actor = Principal.of(make_user(s, Role.ADMIN))
    preview = await service.import_config(actor, _with_secrets(exported, secrets), dry_run=True)
    assert preview.unsupported == []  # ClawNet's own export carries over whole
    assert {n.name for n in preview.needs if not n.has_key} == {"anthropic", "openai", "custom-proxy"}
    again = await service.import_config(actor, _with_secrets(exported, secrets), provider_keys=KEYS)
    assert again.errors == []
    with db.session_scope() as s:
        assert snapshot(s) == before


async def test_preview_lists_unsupported_keys_and_asks_for_keys_before_writing(session):
    service = BotsService(get_settings(), EventBus())
    actor = Principal.of(make_user(session, Role.ADMIN))
    session.commit()
    raw = (FIXTURES / "05_fallbacks_minimax.json5").read_text()
    preview = await service.import_config(actor, raw, dry_run=True)
    assert preview.errors == []
    assert [(n.name, n.has_key, n.key_hint) for n in preview.needs] == [
        ("anthropic", False, "auth profile 'anthropic:api'"),
        ("minimax", False, "${MINIMAX_API_KEY}"),
    ]
    assert "agents.entries.writer.workspace" not in preview.unsupported
    refused = await service.import_config(actor, raw)  # no keys: nothing written
    assert any("API key of model provider 'anthropic'" in e for e in refused.errors)
    session.expire_all()
    assert session.exec(select(Bot)).all() == [] and session.exec(select(ModelProvider)).all() == []
    done = await service.import_config(actor, raw, provider_keys={"anthropic": "a", "minimax": "m"})
    assert done.errors == [] and len(done.bot_ids) == 1


def test_clawnet_import_and_export_from_the_command_line(migrated, tmp_path, capsys):
    with db.session_scope() as s:
        make_user(s, Role.ADMIN, email="ops@example.com")
    config = FIXTURES / "06_builtin_providers.json5"
    assert main(["import", str(config)]) == 1  # Anthropic's key missing: preview, then refused
    out = capsys.readouterr()
    assert "KEY NEEDED: --key anthropic=" in out.out and "Nothing was imported" in out.err
    assert main(["import", str(config), "--yes", "--key", "anthropic=sk-ant", "--as", "ops@example.com"]) == 0
    assert "Imported 1 bots." in capsys.readouterr().out
    target = tmp_path / "fleet.json5"
    assert main(["export", "--to", str(target)]) == 0
    exported = json5.loads(target.read_text())
    assert set(exported["agents"]["entries"]) == {"analyst"}
    assert exported["channels"]["telegram"]["accounts"]["analyst"]["botToken"] == "__CLAWNET_REDACTED__"


async def test_cron_jobs_in_a_workspace_zip_become_the_bots_schedules(migrated):
    service = BotsService(get_settings(), EventBus())
    with db.session_scope() as s:
        actor = Principal.of(make_user(s, Role.ADMIN))
    jobs = {
        "jobs": [
            {
                "name": "digest",
                "agentId": "home",
                "schedule": {"kind": "cron", "expr": "0 8 * * 1-5", "tz": "Europe/Berlin"},
                "payload": {"kind": "agentTurn", "message": "Summarise yesterday."},
            },
            {  # names no agent: OpenClaw's default agent (the first) runs it
                "name": "ping",
                "schedule": {"kind": "every", "everyMs": 900000},
                "payload": {"kind": "agentTurn", "message": "ping"},
            },
            {
                "name": "once",
                "schedule": {"kind": "at", "at": "2027-01-01T00:00:00Z"},
                "payload": {"kind": "agentTurn", "message": "x"},
            },
            {
                "name": "elsewhere",
                "agentId": "nobody",
                "schedule": {"kind": "every", "everyMs": 900000},
                "payload": {"kind": "agentTurn", "message": "x"},
            },
        ]
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("cron/jobs.json", json.dumps(jobs))
    config = (
        '{agents: {defaults: {model: "echo/echo-1"}, entries: {home: {name: "Home"}, work: {name: "Work"}}}}'
    )
    with db.session_scope() as s:
        ensure_local_echo_provider(s)
    preview = await service.import_config(actor, config, dry_run=True, uploads=[("ws.zip", buf.getvalue())])
    assert preview.errors == []
    assert [line.split(" (")[0] for line in preview.cron_jobs] == ["digest", "ping"]
    assert any("once" in u for u in preview.unsupported)
    assert any("elsewhere" in u and "nobody" in u for u in preview.unsupported)
    with db.session_scope() as s:
        assert s.exec(select(Schedule)).all() == []  # a preview writes nothing

    result = await service.import_config(actor, config, uploads=[("ws.zip", buf.getvalue())])
    assert result.errors == []
    with db.session_scope() as s:
        rows = sorted(
            (
                s.get(Bot, row.bot_id).agent_id,
                row.name,
                row.kind,
                row.cron_expr,
                row.timezone,
                row.every_seconds,
            )
            for row in s.exec(select(Schedule)).all()
        )
    assert rows == [
        ("home", "digest", "cron", "0 8 * * 1-5", "Europe/Berlin", 0),
        ("home", "ping", "every", "", "", 900),
    ]


async def test_skill_allowlists_become_the_bots_skill_choices(migrated):
    service = BotsService(get_settings(), EventBus())
    with db.session_scope() as s:
        actor = Principal.of(make_user(s, Role.ADMIN))
        ensure_local_echo_provider(s)
    config = """{agents: {
      defaults: {model: "echo/echo-1", skills: ["github", "weather"]},  // shared baseline
      entries: {main: {name: "Generalist"}, docs: {name: "Docs", skills: ["docs-search"]},
                locked: {name: "Locked", skills: []}},
    }}"""
    preview = await service.import_config(actor, config, dry_run=True)
    assert preview.errors == []
    assert preview.unsupported == ["agents.entries.locked.skills"]  # "no skills" has no place yet
    assert (await service.import_config(actor, config)).errors == []
    with db.session_scope() as s:
        chosen = sorted(
            (s.get(Bot, row.bot_id).name, row.skill, row.enabled) for row in s.exec(select(BotSkill)).all()
        )
        exported = await service.export_config(actor)
    assert chosen == [
        ("Docs", "docs-search", True),
        ("Generalist", "github", True),
        ("Generalist", "weather", True),
    ]
    entries = json5.loads(exported)["agents"]["entries"]
    assert {e.get("name"): e.get("skills") for e in entries.values()} == {
        "Generalist": ["github", "weather"],
        "Docs": ["docs-search"],
        "Locked": None,
    }


async def test_an_operator_imports_onto_existing_providers_but_cannot_add_or_widen_one(session):
    service = BotsService(get_settings(), EventBus())
    actor = Principal.of(make_user(session, Role.OPERATOR))
    ensure_local_echo_provider(session)
    session.commit()
    raw = (FIXTURES / "05_fallbacks_minimax.json5").read_text()
    refused = await service.import_config(actor, raw, provider_keys={"anthropic": "a", "minimax": "m"})
    assert any("'anthropic' is not in ClawNet yet; only admins" in e for e in refused.errors)
    widen = '{agents: {defaults: {model: "echo/echo-2"}, entries: {helper: {name: "Helper"}}}}'
    assert any(
        "has no model echo-2; only admins" in e for e in (await service.import_config(actor, widen)).errors
    )
    fits = '{agents: {defaults: {model: "echo/echo-1"}, entries: {helper: {name: "Helper"}}}}'
    assert (await service.import_config(actor, fits)).errors == []
    session.expire_all()
    [echo] = session.exec(select(ModelProvider)).all()
    assert [m["id"] for m in echo.models] == ["echo-1"]
