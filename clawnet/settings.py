"""ClawNet's settings: one typed object read from the environment.

Every knob lives here, with its default and its environment variable, so there is one place to
look. `get_settings()` reads the process environment once; `load_settings(env)` builds an object
from any mapping (tests use it). Invalid values raise `SettingsError` naming the variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent


# The real services' addresses (what an empty `discord_api_url` / `slack_api_url` means).
DISCORD_API_URL = "https://discord.com/api/v10"
SLACK_API_URL = "https://slack.com/api/"
WEB = ("https://", "http://")


class SettingsError(ValueError):
    """A setting from the environment is missing or malformed."""


def _default_warm_spares() -> int:
    """One spare gateway (~1 GB idle) on a machine with 8 GiB of memory or more, none below."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return 0
    return 1 if total >= 8 * 1024**3 else 0


def gateway_heap_for(agents: int) -> int:
    """A gateway's V8 heap limit in MB for `agents` agents. Its live heap is ~280 MB plus ~0.7 MB
    an agent (measured); without a limit V8 lets garbage pile up to ~4 GB before collecting."""
    return max(1024, 768 + 2 * agents)


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}.") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}.")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}.")


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    value = _int(env, name, default, minimum=1)
    if value > 65535:
        raise SettingsError(f"{name} must be a TCP port (1-65535), got {value}.")
    return value


def _url(env: Mapping[str, str], name: str, schemes: tuple[str, ...]) -> str:
    """An optional address ("" when unset) that must use one of `schemes`."""
    value = (env.get(name) or "").strip()
    if value and not value.startswith(schemes):
        raise SettingsError(f"{name} must start with {' or '.join(schemes)}, got {value!r}.")
    return value


def normalize_database_url(url: str, data_dir: Path) -> str:
    """Validate DATABASE_URL: SQLite (absolute path) or PostgreSQL.

    A relative SQLite path would resolve against whatever directory a process started in,
    so it is made absolute against the data folder.
    """
    url = url.strip()
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        if path in {"", ":memory:"}:
            raise SettingsError(
                "DATABASE_URL: an in-memory SQLite database cannot be shared between ClawNet's "
                "processes; give a file path."
            )
        if not path.startswith("/"):
            path = str((data_dir / path).resolve())
        return f"sqlite:///{path}"
    if url.startswith(("postgresql://", "postgres://")):
        # psycopg 3 is the driver we install.
        rest = url.split("://", 1)[1]
        return f"postgresql+psycopg://{rest}"
    if url.startswith("postgresql+psycopg://"):
        return url
    scheme = url.split(":", 1)[0] if ":" in url else url
    raise SettingsError(
        f"DATABASE_URL scheme {scheme!r} is not supported: use sqlite:///<absolute path> or "
        "postgresql://user:password@host/db."
    )


@dataclass(frozen=True)
class Settings:
    """Everything configurable about a ClawNet installation."""

    data_dir: Path
    database_url: str
    # Secrets: an explicit key (base64, 32 bytes) or a key file generated in the data folder.
    secret_key: str | None
    previous_secret_keys: tuple[str, ...]
    key_file: Path
    # The web app.
    host: str
    frontend_port: int
    backend_port: int
    public_url: str
    cookie_secure: bool
    login_session_days: int
    # Login throttle: failed tries allowed per window, per account and per client.
    login_max_failures: int
    login_failure_window_s: int
    # OpenClaw.
    openclaw_bin: Path
    node_bin_dir: Path
    gateways_dir: Path
    gateway_base_port: int
    gateway_port_spacing: int
    pool_capacity: int
    gateway_heap_mb: int  # V8 old-space limit of a gateway process (0: Node's own default)
    warm_spares: int  # idle gateways kept started, ready to take over a new or crashed pool
    stop_gateways_on_exit: bool
    echo_llm_port: int  # the built-in "local echo" model provider
    telegram_api_root: str  # Bot API base URL (a fake one in tests)
    # Social limits.
    post_max_chars: int
    posts_per_window: int
    posts_window_s: int
    follows_per_day: int
    media_max_bytes: int
    # Which process runs the control plane: "embedded" (inside the web backend) or "external".
    controller_mode: str = "embedded"
    # Where bootstrap installed OpenClaw's channel plugins (one template state folder per plugin).
    openclaw_plugins_dir: Path = PROJECT_ROOT / ".tools/openclaw-plugins"
    # Service addresses of the plugin channels, for tests against fakes on loopback only; empty =
    # the real service (DISCORD_API_URL, SLACK_API_URL below). Gateways get them as the variables
    # the plugins read; the credential tests ("Test connection") call them too.
    discord_api_url: str = ""
    slack_api_url: str = ""
    whatsapp_web_socket_url: str = ""
    # `/metrics` (Prometheus): off (404) unless a scrape token is set; the scraper sends
    # `Authorization: Bearer <token>`.
    metrics_token: str = ""
    # Outgoing email (clawnet.mail): no host means "not configured".
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_tls: str = "none"  # none | starttls | ssl
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = ""
    smtp_timeout_s: int = 20
    # How often the control plane evaluates the alert rules (it also does on status events).
    alert_check_s: int = 10
    # Whether alert webhooks may point at loopback, private, link-local or other internal
    # addresses (off: such URLs are refused when saved and when delivering).
    alert_webhook_allow_private: bool = False
    # Rate limits on costly actions (chat, start/stop, imports, session changes, API calls); off
    # only for benchmarks that measure throughput. The limits themselves are set in Settings.
    rate_limits_enabled: bool = True
    # A new local gateway (~1 GB) only starts while this much memory is free; below it, a new pool
    # goes to the remote gateway with the most room, if one has room.
    local_gateway_min_free_mb: int = 1200
    # Federation (ActivityPub): on by default; off, no profile is an actor and the inbox refuses.
    # `federation_allow_private` lets it fetch from and deliver to loopback or private addresses
    # (tests, a LAN); off, such hosts are refused (no requests into the internal network).
    federation_enabled: bool = True
    federation_allow_private: bool = False
    # The first retry of a failed delivery, in seconds; later ones grow from it (x5, x30, x120,
    # x360, then every x720: 1 min, 5 min, 30 min, 2 h, 6 h, 12 h by default).
    federation_retry_s: int = 60

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @property
    def federation_host(self) -> str:
        """This instance's host for ActivityPub ids and `user@host` addresses (from the public URL)."""
        return urlsplit(self.public_url).netloc


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build settings from `env` (default: the process environment)."""
    env = os.environ if env is None else env
    data_dir = Path(env.get("CLAWNET_DATA_DIR") or PROJECT_ROOT / "data").expanduser().resolve()
    database_url = normalize_database_url(
        env.get("DATABASE_URL") or f"sqlite:///{data_dir / 'clawnet.db'}", data_dir
    )
    spacing = _int(env, "CLAWNET_GATEWAY_PORT_SPACING", 120, minimum=120)
    frontend_port = _port(env, "CLAWNET_PORT", 3000)
    # Agents per pooled gateway, from bench/pool_size.py on 2 cores: 100 agents kept warm turns,
    # `status` and OpenClaw's health answers quick; at 200 its event loop was saturated.
    pool_capacity = _int(env, "CLAWNET_POOL_CAPACITY", 100, minimum=1)
    host = env.get("CLAWNET_HOST", "127.0.0.1")
    controller_mode = env.get("CLAWNET_CONTROLLER", "embedded")
    if controller_mode not in {"embedded", "external"}:
        raise SettingsError(f"CLAWNET_CONTROLLER must be 'embedded' or 'external', got {controller_mode!r}.")
    previous = tuple(
        k.strip() for k in (env.get("CLAWNET_PREVIOUS_SECRET_KEYS") or "").split(",") if k.strip()
    )
    slack_api_url = _url(env, "CLAWNET_SLACK_API_URL", WEB)  # Slack's client joins "<method>"
    slack_api_url = slack_api_url.rstrip("/") + "/" if slack_api_url else ""
    smtp_tls = (env.get("CLAWNET_SMTP_TLS") or "none").strip().lower()
    if smtp_tls not in {"none", "starttls", "ssl"}:
        raise SettingsError(f"CLAWNET_SMTP_TLS must be none, starttls or ssl, got {smtp_tls!r}.")
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        secret_key=(env.get("CLAWNET_SECRET_KEY") or None),
        previous_secret_keys=previous,
        key_file=Path(env.get("CLAWNET_KEY_FILE") or data_dir / "keys.json"),
        host=host,
        frontend_port=frontend_port,
        backend_port=_port(env, "CLAWNET_BACKEND_PORT", 8000),
        public_url=env.get("CLAWNET_PUBLIC_URL") or f"http://localhost:{frontend_port}",
        cookie_secure=_bool(env, "CLAWNET_COOKIE_SECURE", False),
        login_session_days=_int(env, "CLAWNET_LOGIN_SESSION_DAYS", 14, minimum=1),
        login_max_failures=_int(env, "CLAWNET_LOGIN_MAX_FAILURES", 25, minimum=1),
        login_failure_window_s=_int(env, "CLAWNET_LOGIN_FAILURE_WINDOW_S", 300, minimum=1),
        openclaw_bin=Path(
            env.get("CLAWNET_OPENCLAW_BIN") or PROJECT_ROOT / "tools/node_modules/.bin/openclaw"
        ),
        node_bin_dir=Path(env.get("CLAWNET_NODE_BIN_DIR") or PROJECT_ROOT / ".tools/bin"),
        gateways_dir=Path(env.get("CLAWNET_GATEWAYS_DIR") or data_dir / "gateways"),
        gateway_base_port=_port(env, "CLAWNET_GATEWAY_BASE_PORT", 18800),
        gateway_port_spacing=spacing,
        pool_capacity=pool_capacity,
        gateway_heap_mb=_int(env, "CLAWNET_GATEWAY_HEAP_MB", gateway_heap_for(pool_capacity)),
        warm_spares=_int(env, "CLAWNET_WARM_SPARES", _default_warm_spares()),
        stop_gateways_on_exit=_bool(env, "CLAWNET_STOP_GATEWAYS_ON_EXIT", False),
        echo_llm_port=_port(env, "CLAWNET_ECHO_PORT", 18799),
        telegram_api_root=(env.get("CLAWNET_TELEGRAM_API_ROOT") or "https://api.telegram.org").rstrip("/"),
        openclaw_plugins_dir=Path(
            env.get("CLAWNET_OPENCLAW_PLUGINS_DIR") or PROJECT_ROOT / ".tools/openclaw-plugins"
        ),
        discord_api_url=_url(env, "CLAWNET_DISCORD_API_URL", WEB).rstrip("/"),
        slack_api_url=slack_api_url,
        whatsapp_web_socket_url=_url(env, "CLAWNET_WHATSAPP_WEB_SOCKET_URL", ("ws://", "wss://")),
        post_max_chars=_int(env, "CLAWNET_POST_MAX_CHARS", 500, minimum=1),
        posts_per_window=_int(env, "CLAWNET_POSTS_PER_WINDOW", 300, minimum=1),
        posts_window_s=_int(env, "CLAWNET_POSTS_WINDOW_S", 3 * 3600, minimum=1),
        follows_per_day=_int(env, "CLAWNET_FOLLOWS_PER_DAY", 400, minimum=1),
        media_max_bytes=_int(env, "CLAWNET_MEDIA_MAX_BYTES", 8 * 1024 * 1024, minimum=1),
        controller_mode=controller_mode,
        metrics_token=(env.get("CLAWNET_METRICS_TOKEN") or "").strip(),
        smtp_host=(env.get("CLAWNET_SMTP_HOST") or "").strip(),
        smtp_port=_port(
            env, "CLAWNET_SMTP_PORT", 465 if smtp_tls == "ssl" else 587 if smtp_tls == "starttls" else 25
        ),
        smtp_tls=smtp_tls,
        smtp_user=env.get("CLAWNET_SMTP_USER") or "",
        smtp_password=env.get("CLAWNET_SMTP_PASSWORD") or "",
        smtp_from=(env.get("CLAWNET_SMTP_FROM") or "").strip(),
        smtp_timeout_s=_int(env, "CLAWNET_SMTP_TIMEOUT_S", 20, minimum=1),
        alert_check_s=_int(env, "CLAWNET_ALERT_CHECK_S", 10, minimum=1),
        alert_webhook_allow_private=_bool(env, "CLAWNET_ALERT_WEBHOOK_ALLOW_PRIVATE", False),
        rate_limits_enabled=_bool(env, "CLAWNET_RATE_LIMITS", True),
        local_gateway_min_free_mb=_int(env, "CLAWNET_LOCAL_GATEWAY_MIN_FREE_MB", 1200, minimum=0),
        federation_enabled=_bool(env, "CLAWNET_FEDERATION", True),
        federation_allow_private=_bool(env, "CLAWNET_FEDERATION_ALLOW_PRIVATE", False),
        federation_retry_s=_int(env, "CLAWNET_FEDERATION_RETRY_S", 60, minimum=1),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process (read once)."""
    return load_settings()
