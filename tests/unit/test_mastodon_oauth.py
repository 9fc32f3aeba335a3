"""The Mastodon API's OAuth (authlib underneath), tokens, entities and paging, without a server."""

from __future__ import annotations

import base64

import pytest
from sqlmodel import select

from clawnet.api.guard import bearer_exempt
from clawnet.db import session_scope
from clawnet.enums import Role
from clawnet.events import EventBus
from clawnet.models import OAuthToken, Profile
from clawnet.security.permissions import Principal
from clawnet.settings import get_settings
from clawnet.social import mastodon_oauth as oauth
from clawnet.social import mastodon_tokens as tokens
from clawnet.social.mastodon import MastodonService
from clawnet.social.service import SocialService
from clawnet.social.writing import SocialError
from tests.factories import make_user

OOB = oauth.OOB


@pytest.fixture
def person(migrated):
    with session_scope() as s:
        user = make_user(s, Role.MEMBER)
        profile = s.exec(select(Profile).where(Profile.user_id == user.id)).one()
        return Principal.of(user), profile.id


@pytest.fixture
def masto(migrated):
    return MastodonService(SocialService(get_settings(), EventBus()))


def _app(scopes: str = "read write follow") -> dict:
    with session_scope() as s:
        return oauth.register_app(s, "Tusky", f"{OOB}\nhttps://app.example/cb", scopes, "https://app.example")


def _code(who: Principal, app: dict, redirect: str = OOB, scope: str = "read write") -> str:
    data = {"response_type": "code", "client_id": app["client_id"], "redirect_uri": redirect, "scope": scope}
    with session_scope() as s:
        shown = oauth.consent(s, who, oauth.Plain("GET", {}, data))
        assert shown.error == "" and shown.app_name == "Tusky"
        answer = oauth.authorize(s, who, oauth.Plain("POST", {}, data), approved=True)
    assert answer.status == 302
    location = dict(answer.headers)["Location"]
    assert location.startswith(redirect + "?code=")
    return location.split("code=", 1)[1].split("&")[0]


def _token(data: dict, headers: dict | None = None) -> oauth.Answer:
    with session_scope() as s:
        return oauth.token(s, oauth.Plain("POST", headers or {}, data))


def test_code_flow_issues_a_token_that_acts_as_the_person(person):
    who, profile_id = person
    app = _app()
    code = _code(who, app)
    answer = _token(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": OOB,
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
        }
    )
    assert answer.status == 200, answer.body
    assert answer.body["token_type"] == "Bearer" and answer.body["scope"] == "read write"
    with session_scope() as s:
        caller = oauth.caller_for_token(s, answer.body["access_token"])
        stored = s.exec(select(OAuthToken)).one()
    assert caller is not None and caller.profile_id == profile_id and caller.principal == who
    assert (
        caller.allows("read:statuses") and caller.allows("write:favourites") and not caller.allows("follow")
    )
    assert stored.token_hash != answer.body["access_token"]  # only the hash is kept
    again = _token(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": OOB,
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
        }
    )
    assert again.status == 400 and again.body["error"] == "invalid_grant"  # a code works once


def test_token_endpoint_refuses_a_wrong_secret_and_takes_basic_auth(person):
    app = _app()
    wrong = _token(
        {"grant_type": "client_credentials", "client_id": app["client_id"], "client_secret": "nope"}
    )
    assert wrong.status == 401
    basic = base64.b64encode(f"{app['client_id']}:{app['client_secret']}".encode()).decode()
    ok = _token({"grant_type": "client_credentials", "scope": "read"}, {"Authorization": f"Basic {basic}"})
    assert ok.status == 200, ok.body
    with session_scope() as s:
        caller = oauth.caller_for_token(s, ok.body["access_token"])
    assert caller is not None and caller.profile_id is None and caller.principal is None


def test_an_unregistered_redirect_uri_is_refused(person):
    who, _ = person
    app = _app()
    data = {"response_type": "code", "client_id": app["client_id"], "redirect_uri": "https://evil.example/"}
    with session_scope() as s:
        assert oauth.consent(s, who, oauth.Plain("GET", {}, data)).error


def test_denying_sends_access_denied(person):
    who, _ = person
    app = _app()
    data = {
        "response_type": "code",
        "client_id": app["client_id"],
        "redirect_uri": "https://app.example/cb",
        "state": "z",
    }
    with session_scope() as s:
        answer = oauth.authorize(s, who, oauth.Plain("POST", {}, data), approved=False)
    location = dict(answer.headers)["Location"]
    assert "error=access_denied" in location and "state=z" in location


def test_revoke_and_personal_tokens(person):
    who, _ = person
    app = _app()
    issued = _token(
        {
            "grant_type": "client_credentials",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
        }
    )
    access = issued.body["access_token"]
    with session_scope() as s:
        answer = oauth.revoke(
            s,
            oauth.Plain(
                "POST",
                {},
                {"token": access, "client_id": app["client_id"], "client_secret": app["client_secret"]},
            ),
        )
    assert answer.status == 200
    with session_scope() as s:
        assert oauth.caller_for_token(s, access) is None
        pat = tokens.create_personal_token(s, who, "script", "read write")
    with session_scope() as s:
        rows = tokens.list_access_tokens(s, who)
        assert [r.name for r in rows] == ["script"] and rows[0].scopes == "read write"
        assert oauth.caller_for_token(s, pat) is not None
        tokens.revoke_access_token(s, who, rows[0].id)
    with session_scope() as s:
        assert oauth.caller_for_token(s, pat) is None
        assert tokens.list_access_tokens(s, who) == []


async def test_statuses_timelines_and_cw_through_the_service(person, masto):
    who, profile_id = person
    with session_scope() as s:
        pat = tokens.create_personal_token(s, who, "t", "read write follow")
    caller = await masto.caller(pat)
    assert caller is not None
    toot = await masto.create_status(
        caller, "http://x", text="hello #there", visibility="private", spoiler_text="cw"
    )
    assert toot["visibility"] == "private" and toot["spoiler_text"] == "cw" and toot["sensitive"] is True
    assert toot["account"]["id"] == str(profile_id) and toot["created_at"].endswith("Z")
    public = [
        await masto.create_status(caller, "http://x", text=f"p{n}", visibility="public") for n in range(5)
    ]
    ids = [int(t["id"]) for t in public]
    page = await masto.timeline(None, "http://x", "public", limit=2)
    assert [int(t["id"]) for t in page] == ids[::-1][:2]
    newer = await masto.timeline(None, "http://x", "public", min_id=ids[0], limit=2)
    assert [int(t["id"]) for t in newer] == [ids[2], ids[1]]  # just above min_id, newest first
    since = await masto.timeline(None, "http://x", "public", since_id=ids[0], limit=2)
    assert [int(t["id"]) for t in since] == [ids[4], ids[3]]
    assert await masto.status(None, "http://x", toot["id"]) is None  # followers-only
    home_newer = await masto.timeline(caller, "http://x", "home", min_id=ids[0], limit=2)
    assert [int(t["id"]) for t in home_newer] == [ids[2], ids[1]]
    home_since = await masto.timeline(caller, "http://x", "home", since_id=ids[0], limit=2)
    assert [int(t["id"]) for t in home_since] == [ids[4], ids[3]]
    with pytest.raises(SocialError):  # no direct messages: never shown to followers instead
        await masto.create_status(caller, "http://x", text="psst", visibility="direct")


def test_guard_lets_only_bearer_api_calls_through():
    bearer = {b"authorization": b"Bearer cno_x"}
    assert bearer_exempt("/api/v1/statuses", bearer)
    assert bearer_exempt("/oauth/token", {})
    assert not bearer_exempt("/api/v1/statuses", {})
    assert not bearer_exempt("/oauth/authorize", bearer)  # the consent form uses the cookie
    assert not bearer_exempt("/auth/session", bearer)


@pytest.mark.parametrize(
    "uri",
    [
        "javascript:alert(document.cookie)",
        "JavaScript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "blob:https://x/1",
        "about:blank",
        "http://evil.example/cb",
        "not a uri",
        'https://app.example/"onmouseover="x',
    ],
)
def test_dangerous_redirect_uris_are_refused_at_registration(migrated, uri):
    from clawnet.errors import UserError

    with session_scope() as s, pytest.raises(UserError):
        oauth.register_app(s, "Evil", uri, "read", "")


@pytest.mark.parametrize(
    "uri", [OOB, "https://app.example/cb", "http://localhost:4000/cb", "http://127.0.0.1/cb", "tusky://oauth"]
)
def test_usual_redirect_uris_are_accepted(migrated, uri):
    with session_scope() as s:
        assert oauth.register_app(s, "Fine", uri, "read", "")["redirect_uris"] == [uri]


def test_continue_link_is_never_rendered_for_a_script_scheme():
    assert not oauth.redirect_uri_allowed("javascript:alert(1)?code=x")
    assert not oauth.redirect_uri_allowed("data:text/html,x?code=y")
    assert oauth.redirect_uri_allowed("tusky://oauth?code=x")


def test_a_code_is_redeemed_once_even_when_the_row_was_already_taken(person):
    who, _ = person
    app = _app()
    code = _code(who, app)
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": OOB,
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
    }
    with session_scope() as s:
        server = oauth._Server(s)
        grant = server.get_token_grant(server.create_oauth2_request(oauth.Plain("POST", {}, data)))
        grant.validate_token_request()
        with session_scope() as other:  # a racing request redeems it in between
            assert _token(data).status == 200
            del other
        with pytest.raises(oauth.InvalidGrantError):
            grant.create_token_response()
    with session_scope() as s:
        assert len(s.exec(select(OAuthToken)).all()) == 1


def test_unregistered_scopes_are_refused_not_narrowed(person):
    who, _ = person
    app = _app("read")
    data = {"response_type": "code", "client_id": app["client_id"], "redirect_uri": OOB, "scope": "write"}
    with session_scope() as s:
        assert oauth.consent(s, who, oauth.Plain("GET", {}, data)).error
    data["scope"] = "admin:write"
    with session_scope() as s:
        assert oauth.consent(s, who, oauth.Plain("GET", {}, data)).error
    wrong = _token(
        {
            "grant_type": "client_credentials",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "scope": "write",
        }
    )
    assert wrong.status == 400 and wrong.body["error"] == "invalid_scope"


@pytest.fixture
def api(migrated, monkeypatch):
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from clawnet import runtime
    from clawnet.api import mastodon as api_routes
    from clawnet.api import mastodon_contract, mastodon_stream

    monkeypatch.setattr(runtime, "_social", SocialService(get_settings(), EventBus()))
    app = Starlette(routes=[*api_routes.ROUTES, *mastodon_contract.ROUTES, *mastodon_stream.ROUTES])
    return TestClient(app)


def test_read_routes_refuse_a_token_without_the_read_scope(person, api):
    who, profile_id = person
    with session_scope() as s:
        write_only = tokens.create_personal_token(s, who, "w", "write")
        reader = tokens.create_personal_token(s, who, "r", "read:statuses read:accounts read:search")
    paths = [
        f"/api/v1/accounts/{profile_id}",
        f"/api/v1/accounts/{profile_id}/statuses",
        "/api/v1/accounts/lookup?acct=nobody",
        "/api/v1/statuses/1",
        "/api/v1/statuses/1/context",
        "/api/v1/timelines/public",
        "/api/v1/timelines/tag/x",
        "/api/v2/search?q=x",
        "/api/v1/streaming/public",
    ]
    for path in paths:
        answer = api.get(path, headers={"Authorization": f"Bearer {write_only}"})
        assert answer.status_code == 403, path
    for path in paths[:-1]:  # the stream would not end
        assert api.get(path, headers={"Authorization": f"Bearer {reader}"}).status_code in (200, 404), path
        assert api.get(path).status_code in (200, 404), path  # anonymous reads stay open


@pytest.fixture
def two(migrated, masto):
    """Two people with read/write tokens: `a` posts publicly and `b` replies to it."""

    async def make() -> tuple:
        out = []
        for _ in range(2):
            with session_scope() as s:
                user = make_user(s, Role.MEMBER)
                profile = s.exec(select(Profile).where(Profile.user_id == user.id)).one()
                pat = tokens.create_personal_token(s, Principal.of(user), "t", "read write follow")
            out.append((await masto.caller(pat), profile.id))
        (a, a_id), (b, b_id) = out
        post = await masto.create_status(a, "http://x", text="hello", visibility="public")
        reply = await masto.create_status(
            b, "http://x", text="hi back", visibility="public", in_reply_to_id=post["id"]
        )
        return a, a_id, b, b_id, post, reply

    return make


def _mute(profile_id: int, target_id: int) -> None:
    from clawnet.models import Mute

    with session_scope() as s:
        s.add(Mute(profile_id=profile_id, target_id=target_id, notifications=True))


async def test_context_and_comment_statuses_hide_muted_authors(masto, two):
    a, a_id, b, b_id, post, reply = await two()
    before = await masto.context(a, "http://x", post["id"])
    assert [r["id"] for r in before["descendants"]] == [reply["id"]]
    _mute(a_id, b_id)
    after = await masto.context(a, "http://x", post["id"])
    assert after["descendants"] == []
    assert await masto.status(a, "http://x", reply["id"]) is None
    assert await masto.status(b, "http://x", reply["id"]) is not None  # its author still sees it


async def test_notifications_skip_muted_actors_and_unseen_statuses(masto, two):
    from clawnet.models import Notification, Post

    a, a_id, b, b_id, _post, _reply = await two()
    assert [
        n["account"]["id"]
        for n in await masto.notifications(a, "http://x", max_id=None, since_id=None, limit=20)
    ] == [str(b_id)]
    # A notification about a post the recipient may not see (followers-only, not following).
    secret = await masto.create_status(b, "http://x", text="for my followers", visibility="private")
    with session_scope() as s:
        s.add(Notification(recipient_id=a_id, actor_id=b_id, kind="like", post_id=int(secret["id"])))
        assert s.get(Post, int(secret["id"])) is not None
    shown = await masto.notifications(a, "http://x", max_id=None, since_id=None, limit=20)
    assert all(n["status"] is None or n["status"]["id"] != secret["id"] for n in shown)
    assert len(shown) == 1
    _mute(a_id, b_id)
    assert await masto.notifications(a, "http://x", max_id=None, since_id=None, limit=20) == []


async def test_a_stream_ends_at_the_next_heartbeat_once_its_token_is_revoked(person, masto, monkeypatch):
    from starlette.requests import Request

    from clawnet import runtime
    from clawnet.api import mastodon_stream

    who, _ = person
    monkeypatch.setattr(runtime, "_social", masto.social)
    monkeypatch.setattr(mastodon_stream, "HEARTBEAT_S", 0.05)
    with session_scope() as s:
        pat = tokens.create_personal_token(s, who, "stream", "read")
    request = Request(
        {
            "type": "http",
            "method": "GET",
            "path": "/api/v1/streaming/user",
            "query_string": b"",
            "headers": [(b"authorization", f"Bearer {pat}".encode()), (b"host", b"x")],
            "scheme": "http",
            "server": ("x", 80),
        }
    )
    caller = await masto.caller(pat)
    stream = mastodon_stream._events(request, caller, "user")
    assert await anext(stream) == b":)\n\n"
    assert await anext(stream) == b":thump\n\n"  # still valid: the heartbeat goes on
    with session_scope() as s:
        row = tokens.list_access_tokens(s, who)[0]
        tokens.revoke_access_token(s, who, row.id)
    with pytest.raises(StopAsyncIteration):
        await anext(stream)


async def test_the_stream_notification_is_never_an_older_one_when_the_newest_is_dropped(masto, two):
    from clawnet.models import Notification

    a, a_id, _b, b_id, _post, _reply = await two()
    with session_scope() as s:  # an older one that moderation lets through (already delivered)
        s.add(Notification(recipient_id=a_id, actor_id=b_id, kind="moderation"))
    assert (await masto.notification(a, "http://x", a_id)) is not None
    _mute(a_id, b_id)
    with session_scope() as s:
        s.add(Notification(recipient_id=a_id, actor_id=b_id, kind="like"))
    assert await masto.notification(a, "http://x", a_id) is None
