"""Every public event handler of every ClawNet State, found by introspection (a new handler is
covered without editing this file), is called over the app's own WebSocket protocol by each role
that may not act on the victim's things, and by an anonymous client, with arguments aimed at them.
After each call the victim's rows and the installation's privileged rows must be unchanged, and no
update sent to the client may carry a secret.

A positive control runs the same argument builder as the victim, to prove the calls reach the
handlers with arguments that would work: otherwise "nothing changed" would prove nothing."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import pkgutil
import time
from typing import Any

import pytest
import reflex as rx
from reflex.state import BaseState

import clawnet.ui.pages
from tests.security.world import APPROVED_SENDER, World, diff, fingerprint
from tests.support.reflex_client import ReflexClient

# Uploads arrive over HTTP (Reflex's /_upload route), not as WebSocket events; they are covered by
# test_uploads_refuse_anonymous_callers below.
UPLOAD_PARAM = "files"


def clawnet_states() -> list[type[BaseState]]:
    for module in pkgutil.iter_modules(clawnet.ui.pages.__path__):
        importlib.import_module(f"clawnet.ui.pages.{module.name}")
    importlib.import_module("clawnet.ui.notify")
    importlib.import_module("clawnet.ui.access_count")
    importlib.import_module("clawnet.ui.inbox_count")
    importlib.import_module("clawnet.ui.alert_count")
    found: list[type[BaseState]] = []

    def walk(cls: type[BaseState]) -> None:
        for sub in cls.get_substates():
            if sub.__module__.startswith("clawnet"):
                found.append(sub)
            walk(sub)

    walk(rx.State)
    return found


def all_handlers() -> list[tuple[type[BaseState], str, Any]]:
    out = []
    for state in clawnet_states():
        for name, handler in sorted(state.event_handlers.items()):
            out.append((state, name, handler))
    return out


def _order(name: str) -> int:
    """Setters and selectors first, so actions later in the sweep act on what they chose."""
    if name.startswith(("set", "select", "open", "edit", "go", "use", "toggle_channel", "add_chip")):
        return 0
    if name in {"on_load", "load", "start", "watch"}:
        return 1
    return 2


def arguments(handler: Any, world: World) -> dict[str, Any] | None:
    """Arguments aimed at the victim's things, by parameter name; None for upload handlers."""
    ids = world.ids
    by_name: dict[str, Any] = {
        "bot_id": str(ids["bot"]),
        "post_id": str(ids["post"]),
        "comment_id": str(ids["comment"]),
        "user_id": str(ids["olga"]),
        "token_id": str(ids["token"]),
        "provider_id": str(ids["provider"]),
        "gateway_id": str(ids["gateway"]),
        "draft_id": str(ids["draft"]),
        "session_id": str(ids["session"]),
        "request_id": str(ids["access_request"]),
        "approval": str(ids["approval"]),
        "schedule_id": str(ids["schedule"]),
        "alert_id": str(ids["alert"]),
        "sender_id": APPROVED_SENDER,
        "role": "admin",
        "currently": "active",
        "target": 5,
        "list_name": "allow",
        "ctype": "telegram",
        "key": "botToken",
        "field": "persona",
        "kind": "openai",
        "tab": "channels",
        "level": "debug",
        "channel": "telegram",
        "timeline": "home",
        "tool": "exec",
        "name": "support",
        "var_name": "bot_id",
        "value": str(ids["bot"]),
        "what": "delete",  # session actions: the most harmful one
    }
    form = {
        "bot_id": str(ids["bot"]),
        "name": "Pwned",
        "persona": "pwned",
        "email": "olga@example.com",
        "password": "attacker-password-1",
        "password2": "attacker-password-1",
        "display_name": "Pwned",
        "handle": "pwned",
        "bio": "pwned",
        "text": "pwned",
        "message": "hello",
        "enabled": "on",
        "max": "9",
        "min": "1",
        "delete_data": "on",
        "confirm": "Victim Bot",
        "url": "ws://127.0.0.1:9",
        "token": "attacker-token",
        "api_key": "sk-attacker",
        "kind": "openai",
        "base_url": "http://127.0.0.1:9/v1",
        "provider_id": str(ids["provider"]),
        "post_id": str(ids["post"]),
        "parent_id": str(ids["comment"]),
        "visibility": "public",
        "role": "admin",
        "config": "{agents: {entries: {pwn: {name: 'Pwn'}}}}",
        "q": "",
        "label": "pwned",
        "reply": "pwned",
        "day_cost": "0.01",  # budgets: a limit that would pause the victim's bot
    }
    args: dict[str, Any] = {}
    for param in list(inspect.signature(handler.fn).parameters.values())[1:]:
        if param.name == UPLOAD_PARAM:
            return None
        annotation = str(param.annotation)
        if "dict" in annotation:
            args[param.name] = dict(form)
        elif "bool" in annotation:
            args[param.name] = True
        else:
            args[param.name] = by_name.get(param.name, str(ids["bot"]))
    return args


def path_for(state: type[BaseState], world: World) -> str:
    module = state.__module__
    if module.endswith("bot_detail") or ".bot_detail." in module:
        return f"/bots/{world.ids['bot']}"
    if module.startswith("clawnet.ui.pages.settings."):
        return "/settings"
    if state.__name__ == "ProfileState":
        return "/u/olga"
    if state.__name__ == "PostState":
        return f"/posts/{world.ids['post']}"
    return {
        "WizardState": "/bots/new",
        "SettingsState": "/settings",
        "AdminState": "/admin",
        "FeedState": "/feed",
        "NotificationsState": "/notifications",
        "AccessState": "/access",
        "InboxState": "/inbox",
        "AlertsState": "/alerts",
        "BotsListState": "/bots",
        "SessionsListState": "/sessions",
        "LoginState": "/login",
        "RegisterState": "/register",
    }.get(state.__name__, "/")


def leaked(world: World, updates: list[dict[str, Any]]) -> list[str]:
    text = json.dumps(updates)
    return [label for label, secret in world.secrets().items() if secret and secret in text]


async def sweep(world: World, cookie: str, who: str) -> tuple[list[str], int]:
    """Call every handler as `who`; return the violations found and how many calls were made."""
    client = ReflexClient(world.server.url, cookie)
    await client.connect()
    problems: list[str] = []
    calls = 0
    try:
        baseline = fingerprint(world)
        handlers = sorted(all_handlers(), key=lambda h: (_order(h[1]), h[0].__name__, h[1]))
        for state, name, handler in handlers:
            args = arguments(handler, world)
            if args is None:
                continue
            full = f"{state.get_full_name()}.{name}"
            if handler.is_background:
                updates = await client.call(full, args, path=path_for(state, world), settle_s=0.6)
            else:
                updates = await client.call_done(full, args, path=path_for(state, world))
            calls += 1
            if changed := diff(baseline, fingerprint(world)):
                problems.append(
                    f"{who} changed {sorted(changed)} with {state.__name__}.{name}({str(args)[:120]}): {str(changed)[:600]}"
                )
                baseline = fingerprint(world)
            if secrets := leaked(world, updates):
                problems.append(f"{who} received {secrets} from {state.__name__}.{name}")
        quiet_since, count = time.monotonic(), len(client.updates)
        deadline = quiet_since + 60
        while time.monotonic() - quiet_since < 3 and time.monotonic() < deadline:  # late updates
            await asyncio.sleep(0.2)
            if len(client.updates) != count:
                quiet_since, count = time.monotonic(), len(client.updates)
        if secrets := leaked(world, client.updates):
            problems.append(f"{who} received {secrets} in late updates")
        if changed := diff(baseline, fingerprint(world)):
            problems.append(f"{who} changed {sorted(changed)} with a background handler: {changed}")
    finally:
        await client.close()
    return problems, calls


def test_introspection_finds_the_handlers_of_every_page():
    names = {(s.__name__, n) for s, n, _ in all_handlers()}
    assert len(names) >= 100, len(names)
    for expected in [("DashboardState", "stop_bot"), ("AdminState", "change_role"), ("FeedState", "submit")]:
        assert expected in names


@pytest.mark.parametrize("who", ["anonymous", "mia", "vera", "otto"])
async def test_every_handler_refuses_a_caller_who_may_not_act(world, who):
    cookie = "" if who == "anonymous" else world.cookies[who]
    log_before = world.server.log_path.stat().st_size
    problems, calls = await sweep(world, cookie, who)
    assert calls >= 100, calls
    assert not problems, "\n".join(problems)
    # Refused cleanly: no handler of ours crashed on a caller without rights (a missing principal,
    # say). Reflex's own generic `setvar` raises for a var name a state does not have: not ours.
    with world.server.log_path.open("rb") as log:
        log.seek(log_before)
        tracebacks = log.read().decode(errors="replace").split("Traceback (most recent call last)")[1:]
    crashes = [t for t in tracebacks if "SETTER_PREFIX" not in t[:4000]]
    assert not crashes, crashes[0][:3000]


async def test_the_sweep_changes_the_victims_data_when_the_owner_runs_it(world):
    """The positive control: the same arguments, sent by the owner, do act. Runs after the role
    sweeps (module order), as it changes what they guard."""
    client = ReflexClient(world.server.url, world.cookies["olga"])
    await client.connect()
    try:
        by_name = {(s.__name__, n): (s, h) for s, n, h in all_handlers()}
        changed_tables: set[str] = set()
        start = fingerprint(world)
        for state_name, name in [
            ("BotDetailState", "on_load"),
            ("BotSocialState", "save_auto_post"),
            ("BotSocialState", "revoke_token"),
            ("MyProfileState", "save_profile"),
            ("WizardState", "discard_draft"),
            ("FeedState", "delete_post"),
            ("BotAccessState", "revoke"),
            ("BotSchedulesState", "pause"),
            ("BotBudgetState", "save_budget"),
            ("AlertsState", "acknowledge"),
        ]:
            state, handler = by_name[(state_name, name)]
            before = fingerprint(world)
            await client.call(
                f"{state.get_full_name()}.{name}",
                arguments(handler, world),
                path=path_for(state, world),
                settle_s=0.5,
            )
            changed_tables |= set(diff(before, fingerprint(world)))
        expected = {
            "bots",
            "bot_api_tokens",
            "olga's profiles",
            "bot_drafts",
            "olga's posts",
            "approved_senders",
            "schedules",
            "budgets",
            "olga's alerts",
        }
        deadline = time.monotonic() + 60  # a write may land after its handler's settle window
        while not expected <= changed_tables and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            changed_tables |= set(diff(start, fingerprint(world)))
    finally:
        await client.close()
    assert expected <= changed_tables
