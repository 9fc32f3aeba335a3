"""OpenClaw's channel plugins (Discord, Slack, WhatsApp, Signal) in the gateways ClawNet runs.

Telegram ships inside OpenClaw; the other four channels are plugins. A gateway loads a plugin's
code only when its own state database holds an install record of OpenClaw's own (npm source, pinned
version, integrity): a plugin found through `plugins.load.paths` or installed with `--link` is
loaded but refused ("PluginTrustRefusalError ... only available for trusted plugins"), and a channel
without its plugin silently never connects.

`scripts/bootstrap.sh` therefore installs each plugin once, with OpenClaw's own installer, into a
template state folder (`.tools/openclaw-plugins/<id>/state`). Before ClawNet starts a gateway that
needs plugins it copies their install records into the gateway's state database (seeding a fresh
state from a template), while the gateway is stopped. The gateway then loads the plugin files from
the template folder, offline, with no per-gateway copy (each plugin is 40-80 MB).

Verified against OpenClaw 2026.9.6: the records live in the `plugins.installedIndex` row of
`state/openclaw.sqlite` (`config_machine_state`), under `index.installRecords`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from contextlib import closing
from pathlib import Path
from typing import Any

from clawnet.controlplane.openclaw_config import CHANNEL_PLUGIN_IDS

_INDEX_KEY = "plugins.installedIndex"
_DB = Path("state") / "openclaw.sqlite"


class PluginsUnavailable(Exception):
    """A gateway needs a plugin that is not installed here."""


def plugins_in(config: Mapping[str, Any]) -> set[str]:
    """The channel plugins a generated config enables."""
    entries = (config.get("plugins") or {}).get("entries") or {}
    known = set(CHANNEL_PLUGIN_IDS.values())
    return {pid for pid, entry in entries.items() if pid in known and (entry or {}).get("enabled")}


def _template_db(plugins_dir: Path, plugin_id: str) -> Path:
    return plugins_dir / plugin_id / "state" / _DB


def _read_index(conn: sqlite3.Connection) -> dict[str, Any] | None:
    row = conn.execute(
        "SELECT value_json FROM config_machine_state WHERE state_key = ?", (_INDEX_KEY,)
    ).fetchone()
    return json.loads(row[0]) if row else None


def template_records(plugins_dir: Path, plugin_id: str) -> dict[str, Any]:
    """The install record bootstrap left for one plugin, or PluginsUnavailable."""
    db = _template_db(plugins_dir, plugin_id)
    missing = PluginsUnavailable(
        f"The OpenClaw plugin '{plugin_id}' is not installed here: run scripts/bootstrap.sh (or `make setup`)."
    )
    if not db.exists():
        raise missing
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)) as conn:
        value = _read_index(conn)
    record = ((value or {}).get("index") or {}).get("installRecords", {}).get(plugin_id)
    if not record or record.get("source") != "npm":
        raise missing
    return {plugin_id: record}


def installed_in(state_dir: Path) -> set[str]:
    """The plugins with an install record in a gateway's state."""
    db = state_dir / _DB
    if not db.exists():
        return set()
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)) as conn:
        try:
            value = _read_index(conn)
        except sqlite3.Error:
            return set()
    return set(((value or {}).get("index") or {}).get("installRecords", {}))


def ensure_installed(plugins_dir: Path, state_dir: Path, plugin_ids: Iterable[str]) -> list[str]:
    """Give a stopped gateway's state the install records of `plugin_ids`. Returns the ids added.

    A state that never ran gets a copy of the first plugin's template database (OpenClaw's schema
    with its record); records are then merged into the index row. Raises PluginsUnavailable when
    bootstrap did not install one of them."""
    wanted = sorted(set(plugin_ids))
    if not wanted:
        return []
    records: dict[str, Any] = {}
    for pid in wanted:
        records.update(template_records(plugins_dir, pid))
    db = state_dir / _DB
    seeded = not db.exists()
    if seeded:
        db.parent.mkdir(parents=True, exist_ok=True)
        db.parent.chmod(0o700)
        template = _template_db(plugins_dir, wanted[0])
        with (
            closing(sqlite3.connect(f"file:{template}?mode=ro", uri=True)) as src,
            closing(sqlite3.connect(db)) as dst,
        ):
            src.backup(dst)
        db.chmod(0o600)
    added: list[str] = []
    with closing(sqlite3.connect(db, timeout=30)) as conn, conn:
        value = _read_index(conn)
        if value is None:
            # A state database without an index row yet: take the template's whole row.
            with closing(
                sqlite3.connect(f"file:{_template_db(plugins_dir, wanted[0])}?mode=ro", uri=True)
            ) as src:
                value = _read_index(src) or {}
            value.setdefault("index", {})["installRecords"] = {}
            have: dict[str, Any] = {}
        else:
            have = value.setdefault("index", {}).setdefault("installRecords", {})
        for pid, record in records.items():
            current = have.get(pid)
            if seeded or current is None or current.get("installPath") != record.get("installPath"):
                have[pid] = record
                added.append(pid)
        if added:
            value["index"]["installRecords"] = have
            conn.execute(
                "INSERT INTO config_machine_state (state_key, value_json, updated_at_ms) VALUES (?, ?, "
                "CAST(strftime('%s','now') AS INTEGER) * 1000) ON CONFLICT(state_key) DO UPDATE SET "
                "value_json = excluded.value_json, updated_at_ms = excluded.updated_at_ms",
                (_INDEX_KEY, json.dumps(value)),
            )
    return added
