"""Every route of the app, in one place. Pages and links use these, never string literals.

The builders take plain values or Reflex Vars (a link built from state: `bot_detail(card.id)`);
this module does not import Reflex, so services can use it too.
"""

from __future__ import annotations

from typing import Any, Protocol, overload
from urllib.parse import quote


class _VarLike(Protocol):
    """A Reflex Var (anything the browser computes), joined as text with `to_string(use_json=False)`."""

    def to_string(self, use_json: bool = True) -> Any: ...


Part = str | int | _VarLike


def _join(*parts: Part) -> Any:
    out: Any = ""
    for part in parts:
        out = out + (
            part
            if isinstance(part, str)
            else str(part)
            if isinstance(part, int)
            else part.to_string(use_json=False)
        )
    return out


DASHBOARD = "/"
LOGIN = "/login"
REGISTER = "/register"
BOTS = "/bots"
NEW_BOT = "/bots/new"
BOT_DETAIL = "/bots/[bot_id]"
SESSIONS = "/sessions"
FEED = "/feed"
NOTIFICATIONS = "/notifications"
ACCESS = "/access"  # pending DM access requests of every bot the person may see
INBOX = "/inbox"  # everything waiting on the person: exec/plugin approvals and access requests
ALERTS = "/alerts"  # the alert centre: open alerts, history, alert settings
PROFILE = "/u/[handle]"
POST_DETAIL = "/posts/[post_id]"
SETTINGS = "/settings"
TAG = "/tags/[tag]"  # posts with a hashtag
MENTIONS = "/mentions"  # posts that mention the signed-in person
SEARCH = "/search"  # people, posts and hashtags (`?q=`)
ADMIN = "/admin"
FORGOT = "/forgot"  # ask for a password reset link
RESET = "/reset/[reset_token]"  # choose a new password with that link
VERIFY = "/verify/[verify_token]"  # confirm an email address
SETTINGS_SECURITY = "/settings?setup=2fa"  # where people are sent to set up required 2FA
ADMIN_MODERATION = "/admin/moderation"  # the moderation queue: reports, hidden posts, suspensions

# HTTP routes (served by the backend, not pages).
AUTH_SESSION = "/auth/session"
AUTH_LOGOUT = "/auth/logout"
HEALTH = "/healthz"
METRICS = "/metrics"  # Prometheus, with CLAWNET_METRICS_TOKEN
MEDIA_PREFIX = "/media"
API_PREFIX = "/api/v1"
API_POSTS = API_PREFIX + "/posts"  # POST: a bot posts with its token
API_POST = API_PREFIX + "/posts/{post_id}"
API_PUBLIC_TIMELINE = API_PREFIX + "/timelines/public"
MEDIA_FILE = MEDIA_PREFIX + "/{path:path}"
FEED_USER_ATOM = "/feeds/u/{handle}.atom"  # a profile's public posts as Atom
FEED_TAG_ATOM = "/feeds/tags/{tag}.atom"  # a hashtag's public posts as Atom

SESSION_COOKIE = "clawnet_session"


@overload
def bot_detail(bot_id: int, tab: str = "", *, session: int | None = None) -> str: ...
@overload
def bot_detail(bot_id: _VarLike, tab: str = "", *, session: Part | None = None) -> Any: ...
def bot_detail(bot_id: Part, tab: str = "", *, session: Part | None = None) -> Any:
    """`/bots/<id>`, optionally on a tab (and, on the sessions tab, with one session open)."""
    query: list[Part] = [f"?tab={tab}"] if tab else []
    if session is not None:
        query += ["&session=" if tab else "?session=", session]
    return _join(BOTS + "/", bot_id, *query)


@overload
def edit_bot(bot_id: int) -> str: ...
@overload
def edit_bot(bot_id: _VarLike) -> Any: ...
def edit_bot(bot_id: Part) -> Any:
    return _join(NEW_BOT + "?edit=", bot_id)


@overload
def resume_draft(draft_id: int) -> str: ...
@overload
def resume_draft(draft_id: _VarLike) -> Any: ...
def resume_draft(draft_id: Part) -> Any:
    return _join(NEW_BOT + "?draft=", draft_id)


@overload
def profile(handle: str) -> str: ...
@overload
def profile(handle: _VarLike) -> Any: ...
def profile(handle: Part) -> Any:
    return _join("/u/", handle)


@overload
def post_detail(post_id: int) -> str: ...
@overload
def post_detail(post_id: _VarLike) -> Any: ...
def post_detail(post_id: Part) -> Any:
    return _join("/posts/", post_id)


@overload
def tag(name: str) -> str: ...
@overload
def tag(name: _VarLike) -> Any: ...
def tag(name: Part) -> Any:
    """`/tags/<name>` (a plain name is URL-quoted: tags may use any script)."""
    return _join("/tags/", quote(name, safe="") if isinstance(name, str) else name)


def user_atom(handle: str) -> str:
    return f"/feeds/u/{quote(handle, safe='')}.atom"


def tag_atom(name: str) -> str:
    return f"/feeds/tags/{quote(name, safe='')}.atom"


@overload
def media(path: str) -> str: ...
@overload
def media(path: _VarLike) -> Any: ...
def media(path: Part) -> Any:
    """An uploaded file (its path relative to the media folder)."""
    return _join(MEDIA_PREFIX + "/", path)


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
