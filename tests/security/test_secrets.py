"""Secrets stay secret: nothing in ClawNet's data folder holds one in plaintext, and no update sent
over the event WebSocket carries one, even to an admin looking at every page."""

from __future__ import annotations

import stat

from tests.security.test_handler_permissions import all_handlers, arguments, leaked, path_for
from tests.security.world import TELEGRAM_TOKEN
from tests.support.reflex_client import ReflexClient

# Handlers that only read or select (safe to call as an admin without destroying the world).
READERS = ("on_load", "load", "start", "edit_", "select_", "open_", "set_tab", "export", "switch", "show_new")


def test_no_plaintext_secret_in_any_file_of_the_data_folder(world):
    data_dir = world.server.data_dir
    files = [p for p in data_dir.rglob("*") if p.is_file() and p.name != "clawnet-server.log"]
    assert any(p.name == "clawnet.db" for p in files)
    secrets = {label: value.encode() for label, value in world.secrets().items() if value}
    for path in files:
        data = path.read_bytes()
        found = [label for label, value in secrets.items() if value in data]
        assert not found, f"{path.relative_to(data_dir)} holds {found} in plaintext"
    key_file = data_dir / "keys.json"
    assert key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) & 0o077 == 0, f"{key_file.name} is readable by others"


def test_the_server_log_holds_no_secret(world):
    log = world.server.log_path.read_text(errors="replace")
    assert TELEGRAM_TOKEN not in log
    assert not leaked(world, [log])


async def test_an_admin_reading_every_page_receives_no_secret(world):
    client = ReflexClient(world.server.url, world.cookies["ada"])
    await client.connect()
    calls = 0
    try:
        for state, name, handler in all_handlers():
            if not name.startswith(READERS):
                continue
            args = arguments(handler, world)
            if args is None:
                continue
            if name == "set_tab":
                tabs = ["overview", "channels", "sessions", "budget", "configuration", "logs", "analytics"]
            else:
                tabs = [None]
            for tab in tabs:
                if tab:
                    args = {"tab": tab}
                full, path = f"{state.get_full_name()}.{name}", path_for(state, world)
                if handler.is_background:
                    await client.call(full, args, path=path, settle_s=0.4)
                else:
                    await client.call_done(full, args, path=path)
                calls += 1
        assert calls >= 20
        # The admin saw the victim's bot, its channel and the provider: the data is there...
        seen = str(client.updates)
        assert "Victim Bot" in seen and "Olga" in seen
    finally:
        await client.close()
    # ...but no secret came with it.
    assert not leaked(world, client.updates), leaked(world, client.updates)
