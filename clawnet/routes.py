"""Every route of the app, in one place. Pages and links use these, never string literals."""

from __future__ import annotations

from urllib.parse import quote

DASHBOARD = "/"
LOGIN = "/login"
REGISTER = "/register"
BOTS = "/bots"
NEW_BOT = "/bots/new"
BOT_DETAIL = "/bots/[bot_id]"
SESSIONS = "/sessions"
FEED = "/feed"
NOTIFICATIONS = "/notifications"
PROFILE = "/u/[handle]"
POST_DETAIL = "/posts/[post_id]"
SETTINGS = "/settings"
ADMIN = "/admin"

# HTTP routes (served by the backend, not pages).
AUTH_SESSION = "/auth/session"
AUTH_LOGOUT = "/auth/logout"
HEALTH = "/healthz"
MEDIA_PREFIX = "/media"
API_PREFIX = "/api/v1"

SESSION_COOKIE = "clawnet_session"


def bot_detail(bot_id: int, tab: str = "") -> str:
    return f"/bots/{bot_id}" + (f"?tab={tab}" if tab else "")


def profile(handle: str) -> str:
    return f"/u/{handle}"


def post_detail(post_id: int) -> str:
    return f"/posts/{post_id}"


def login_with_next(path: str) -> str:
    path = path.rstrip("/") or "/"  # the static server adds a trailing slash to page URLs
    return f"{LOGIN}?next={quote(path, safe='/')}"


def safe_next(path: str | None, default: str = DASHBOARD) -> str:
    """A local path to continue to after signing in; anything else becomes `default`
    (an open redirect would let a link to ClawNet send people elsewhere)."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return default
    if path.startswith(("/auth/", "/api/")):
        return default
    return path
