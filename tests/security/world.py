"""A running ClawNet with something worth attacking: an owner ("olga", an operator) with a bot that
has encrypted channel credentials, a model provider with an API key, a gateway, a wizard draft, an
API token, a post with a comment and a session; and one account for each role that may not touch
them. Built straight in the server's database with ClawNet's own services."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.support.aio import run_async
from tests.support.server import ClawNetServer

TELEGRAM_TOKEN = "7654321:AAF-plaintext-telegram-secret-do-not-leak"
PROVIDER_KEY = "sk-plaintext-provider-secret-do-not-leak"
GATEWAY_TOKEN = "gw-plaintext-gateway-secret-do-not-leak"
PASSWORD = "world-password-123"
WEBHOOK_SECRET = "whsec_plaintext-alert-webhook-secret-do-not-leak"
APPROVED_SENDER = "555"  # on olga's bot's Telegram allowlist, approved through an access request


@dataclass
class World:
    server: ClawNetServer
    cookies: dict[str, str] = field(default_factory=dict)  # account name -> Cookie header
    session_tokens: dict[str, str] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)
    api_token: str = ""

    @property
    def db_path(self) -> Path:
        return self.server.data_dir / "clawnet.db"

    def secrets(self) -> dict[str, str]:
        """Every plaintext secret that must never reach a browser or the database file."""
        return {
            "telegram token": TELEGRAM_TOKEN,
            "provider API key": PROVIDER_KEY,
            "gateway token": GATEWAY_TOKEN,
            "alert webhook secret": WEBHOOK_SECRET,
            "bot API token": self.api_token,
            **{f"session token of {name}": token for name, token in self.session_tokens.items()},
        }


@contextlib.contextmanager
def server_process_env(server: ClawNetServer) -> Iterator[None]:
    """Point this process's ClawNet settings (database, key file) at the server's data folder."""
    from clawnet import db
    from clawnet.security import crypto
    from clawnet.settings import get_settings

    saved = {k: os.environ.get(k) for k in ("CLAWNET_DATA_DIR", "DATABASE_URL")}
    os.environ["CLAWNET_DATA_DIR"] = str(server.data_dir)
    if server.database_url.startswith("sqlite"):
        os.environ.pop("DATABASE_URL", None)
    else:
        os.environ["DATABASE_URL"] = server.database_url
    get_settings.cache_clear()
    db.dispose_engines()
    crypto.set_key_ring(None)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()
        db.dispose_engines()
        crypto.set_key_ring(None)


ACCOUNTS = {  # name -> role
    "ada": "admin",
    "olga": "operator",  # the victim: owns everything worth attacking
    "otto": "operator",  # an operator with no relation to olga's bot
    "vera": "viewer",  # assigned to olga's bot: may look, may not act
    "mia": "member",
}


def build_world(server: ClawNetServer) -> World:
    from sqlmodel import select

    from clawnet.accounts import registration, sign_in
    from clawnet.db import session_scope
    from clawnet.models import (
        AccessRequest,
        Alert,
        AlertSettings,
        ApprovalRequest,
        ApprovedSender,
        Bot,
        BotApiToken,
        BotAssignment,
        BotChannel,
        BotDraft,
        BotSession,
        Gateway,
        ModelProvider,
        Profile,
        Schedule,
        User,
    )
    from clawnet.security import secret_fields
    from clawnet.security.permissions import Principal
    from clawnet.settings import get_settings
    from clawnet.social import api_tokens
    from clawnet.social.service import SocialService

    world = World(server)
    with server_process_env(server):
        from clawnet.events import EventBus

        social = SocialService(get_settings(), EventBus())
        with session_scope() as s:
            for name, role in ACCOUNTS.items():
                user = registration.register(
                    s, email=f"{name}@example.com", display_name=name.title(), password=PASSWORD, handle=name
                )
                user.role = role
                s.add(user)
                s.flush()
                assert user.id is not None
                world.ids[name] = user.id
                issued = sign_in.redeem_login_ticket(s, sign_in.issue_login_ticket(s, user))
                world.session_tokens[name] = issued.token
                world.cookies[name] = f"clawnet_session={issued.token}"
            olga = s.get(User, world.ids["olga"])
            assert olga is not None
            provider = ModelProvider(
                name="olga-openai",
                display_name="Olga's OpenAI",
                kind="openai",
                base_url="http://127.0.0.1:9/v1",
                api_key_enc=secret_fields.PROVIDER_API_KEY.seal(PROVIDER_KEY),
                models=[{"id": "gpt-test", "name": "gpt-test"}],
            )
            gateway = Gateway(
                name="olga-remote",
                kind="remote",
                owner_id=olga.id,
                url="ws://127.0.0.1:9",
                token_enc=secret_fields.GATEWAY_TOKEN.seal(GATEWAY_TOKEN),
                desired_status="stopped",
            )
            s.add(provider)
            s.add(gateway)
            s.flush()
            bot = Bot(
                owner_id=world.ids["olga"],
                name="Victim Bot",
                agent_id="victim",
                persona="Olga's private persona",
                desired_status="stopped",
                actual_status="stopped",
            )
            s.add(bot)
            s.flush()
            assert bot.id is not None
            s.add(
                BotChannel(
                    bot_id=bot.id,
                    type="telegram",
                    credentials_enc=secret_fields.seal_json(
                        secret_fields.CHANNEL_CREDENTIALS, {"botToken": TELEGRAM_TOKEN}
                    ),
                    allow_from=[APPROVED_SENDER],
                )
            )
            # A stranger waiting for olga's decision, and one she let in.
            now = datetime.now(UTC)
            access_request = AccessRequest(
                gateway_id=gateway.id,
                bot_id=bot.id,
                channel="telegram",
                account_id="victim",
                request_id="opaque-request-id",
                sender_id="666",
                sender_name="Stranger",
                requested_at=now,
                last_seen_at=now,
                expires_at=now + timedelta(days=3650),
            )
            s.add(access_request)
            # A command olga's bot waits for her to approve.
            approval = ApprovalRequest(
                gateway_id=gateway.id,
                bot_id=bot.id,
                kind="exec",
                approval_id="opaque-approval-id",
                agent_id="victim",
                command="rm -rf /srv/victim",
                decisions=["allow-once", "allow-always", "deny"],
                requested_at=now,
                expires_at=now + timedelta(days=3650),
            )
            s.add(approval)
            s.add(
                ApprovedSender(
                    bot_id=bot.id, channel="telegram", sender_id=APPROVED_SENDER, sender_name="Friend"
                )
            )
            s.add(
                Profile(
                    handle="victim", display_name="Victim Bot", is_bot=True, user_id=olga.id, bot_id=bot.id
                )
            )
            s.add(BotAssignment(user_id=world.ids["vera"], bot_id=bot.id))
            draft = BotDraft(
                user_id=world.ids["olga"],
                name="Olga's draft",
                data_enc=secret_fields.seal_json(secret_fields.DRAFT_DATA, {}),
            )
            session_row = BotSession(bot_id=bot.id, key="agent:victim:main", preview="private chat")
            schedule = Schedule(
                bot_id=bot.id,
                key="victim-schedule",
                name="Olga's brief",
                kind="every",
                every_seconds=3600,
                message="private brief",
            )
            # A budget alert: only the budgets' events resolve it (the monitor leaves it alone).
            alert = Alert(
                owner_id=olga.id, rule="budget", subject="budget:owner:daily:cost:80", title="Olga's alert"
            )
            alert_settings = AlertSettings(
                owner_id=olga.id,
                webhook_url="https://hooks.example/olga",
                webhook_secret_enc=secret_fields.ALERT_WEBHOOK_SECRET.seal(WEBHOOK_SECRET),
            )
            s.add(draft)
            s.add(session_row)
            s.add(schedule)
            s.add(alert)
            s.add(alert_settings)
            s.flush()
            world.api_token = api_tokens.create_token(s, Principal.of(olga), bot.id, "olga's script")
            world.ids.update(
                bot=bot.id,
                provider=provider.id or 0,
                gateway=gateway.id or 0,
                draft=draft.id or 0,
                session=session_row.id or 0,
                access_request=access_request.id or 0,
                approval=approval.id or 0,
                schedule=schedule.id or 0,
                alert=alert.id or 0,
            )
            world.ids["token"] = s.exec(select(BotApiToken.id)).one() or 0
        with session_scope() as s:
            olga_user = s.get(User, world.ids["olga"])
            assert olga_user is not None
            olga_principal = Principal.of(olga_user)
        world.ids["post"] = run_async(social.create_post(olga_principal, "Olga's post", "followers"))
        world.ids["comment"] = run_async(social.comment(olga_principal, world.ids["post"], "Olga's comment"))
        with session_scope() as s:
            profile = s.exec(select(Profile).where(Profile.handle == "olga")).one()
            world.ids["olga_profile"] = profile.id or 0
    return world


# What an attacker must not be able to change. Columns that legitimately move when others act
# (counters, last-seen times, live status) are left out.
VOLATILE = {
    "updated_at",
    "last_login_at",
    "last_seen_at",
    "last_used_at",
    "like_count",
    "reply_count",
    "followers_count",
    "following_count",
    "posts_count",
    "actual_status",
    "status",
    "status_detail",
    "last_error",
    "last_activity_at",
    # A caller's own two-factor setup in progress (start_setup writes it for the caller only);
    # turning two-factor on for anyone shows in totp_enabled_at, which is compared.
    "totp_secret_enc",
}


def _rows(conn: sqlite3.Connection, table: str, where: str = "", args: tuple = ()) -> list[tuple]:
    columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
    keep = [c for c in columns if c not in VOLATILE]
    query = f"SELECT {', '.join(keep)} FROM {table} {where} ORDER BY 1"  # noqa: S608 (test-built names)
    return [tuple(r) for r in conn.execute(query, args)]


def fingerprint(world: World) -> dict[str, list[tuple]]:
    """The victim's data and the installation's privileged data, as rows."""
    ids = world.ids
    conn = sqlite3.connect(f"file:{world.db_path}?mode=ro", uri=True, timeout=30)
    try:
        print_ = {
            "users": _rows(conn, "users"),
            "bot_assignments": _rows(conn, "bot_assignments"),
            "model_providers": _rows(conn, "model_providers"),
            "gateways": _rows(conn, "gateways", "WHERE id = ?", (ids["gateway"],)),
            "bots": _rows(conn, "bots", "WHERE id = ?", (ids["bot"],)),
            "foreign bots": _rows(conn, "bots", "WHERE owner_id NOT IN (?, ?)", (ids["otto"], ids["ada"])),
            "bot_channels": _rows(conn, "bot_channels", "WHERE bot_id = ?", (ids["bot"],)),
            "access_requests": _rows(conn, "access_requests", "WHERE bot_id = ?", (ids["bot"],)),
            "approved_senders": _rows(conn, "approved_senders", "WHERE bot_id = ?", (ids["bot"],)),
            "approval_requests": _rows(conn, "approval_requests", "WHERE bot_id = ?", (ids["bot"],)),
            "bindings": _rows(conn, "bindings", "WHERE bot_id = ?", (ids["bot"],)),
            "bot_sessions": _rows(conn, "bot_sessions", "WHERE bot_id = ?", (ids["bot"],)),
            "schedules": _rows(conn, "schedules", "WHERE bot_id = ?", (ids["bot"],)),
            "budgets": _rows(conn, "budgets", "WHERE bot_id = ? OR owner_id = ?", (ids["bot"], ids["olga"])),
            "bot_pauses": _rows(conn, "bot_pauses", "WHERE bot_id = ?", (ids["bot"],)),
            "bot_drafts": _rows(conn, "bot_drafts", "WHERE user_id = ?", (ids["olga"],)),
            "bot_api_tokens": _rows(conn, "bot_api_tokens"),
            "rate_limits": _rows(conn, "rate_limits"),
            "olga's profiles": _rows(conn, "profiles", "WHERE user_id = ?", (ids["olga"],)),
            "olga's posts": _rows(
                conn,
                "posts",
                "WHERE author_id IN (SELECT id FROM profiles WHERE user_id = ?)",
                (ids["olga"],),
            ),
            "olga's comments": _rows(
                conn,
                "comments",
                "WHERE author_id IN (SELECT id FROM profiles WHERE user_id = ?)",
                (ids["olga"],),
            ),
            "olga's follows": _rows(
                conn,
                "follows",
                "WHERE follower_id IN (SELECT id FROM profiles WHERE user_id = ?)",
                (ids["olga"],),
            ),
            "olga's sessions": _rows(conn, "login_sessions", "WHERE user_id = ?", (ids["olga"],)),
            "olga's alerts": _rows(conn, "alerts", "WHERE owner_id = ?", (ids["olga"],)),
            "olga's alert settings": _rows(conn, "alert_settings", "WHERE owner_id = ?", (ids["olga"],)),
            "backup_settings": _rows(conn, "backup_settings"),
            "backup_runs": _rows(conn, "backup_runs"),
        }
    finally:
        conn.close()
    return print_


def diff(before: dict[str, list[tuple]], after: dict[str, list[tuple]]) -> dict[str, tuple[list, list]]:
    """table -> (rows gone or changed, rows new or changed)."""
    out = {}
    for table, rows in before.items():
        old, new = set(rows), set(after.get(table, []))
        if old != new:
            out[table] = (sorted(old - new, key=repr), sorted(new - old, key=repr))
    return out
