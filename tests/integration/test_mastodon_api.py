"""Mastodon's client API against a running ClawNet, driven by the real Mastodon.py client."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from mastodon import Mastodon, MastodonAPIError, StreamListener
from sqlmodel import select

from clawnet.enums import Role
from clawnet.models import Bot, Profile, User
from clawnet.security.permissions import Principal
from clawnet.social import api_tokens, mastodon_tokens, profiles
from tests.e2e.helpers import make_account, server_db
from tests.support.server import ClawNetServer, running_clawnet

OOB = "urn:ietf:wg:oauth:2.0:oob"


@dataclass
class World:
    server: ClawNetServer
    ada_token: str
    ben_token: str
    bot_token: str
    ben_id: str


def _personal_token(server: ClawNetServer, user_id: int, scopes: str = "read write follow") -> str:
    with server_db(server) as s:
        user = s.get(User, user_id)
        assert user is not None
        return mastodon_tokens.create_personal_token(s, Principal.of(user), "tests", scopes)


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[World]:
    with running_clawnet(tmp_path_factory.mktemp("clawnet-mastodon")) as server:
        ada = make_account(server, "ada@example.com", Role.OPERATOR, "ada")
        ben = make_account(server, "ben@example.com", Role.MEMBER, "ben")
        with server_db(server) as s:
            owner = s.get(User, ada)
            assert owner is not None
            bot = Bot(owner_id=ada, name="Scribe", agent_id="scribe")
            s.add(bot)
            s.flush()
            profiles.create_bot_profile(s, bot)
            s.flush()
            bot_token = api_tokens.create_token(s, Principal.of(owner), bot.id or 0, "mastodon")
            ben_id = s.exec(select(Profile.id).where(Profile.handle == "ben")).one()
        yield World(
            server, _personal_token(server, ada), _personal_token(server, ben), bot_token, str(ben_id)
        )


def client(world: World, token: str) -> Mastodon:
    return Mastodon(access_token=token, api_base_url=world.server.url, version_check_mode="none")


def test_an_app_registers_and_a_personal_token_verifies(world):
    client_id, client_secret = Mastodon.create_app(
        "Tusky test", api_base_url=world.server.url, scopes=["read", "write", "follow"], redirect_uris=OOB
    )
    assert client_id and client_secret
    me = client(world, world.ada_token).account_verify_credentials()
    assert me.username == "ada" and me.acct == "ada" and me.bot is False
    with pytest.raises(MastodonAPIError):
        client(world, "cno_not-a-token").account_verify_credentials()
    assert client(world, world.ada_token).instance().configuration.statuses.max_characters > 0


def test_a_toot_keeps_its_content_warning_and_visibility(world):
    ada = client(world, world.ada_token)
    toot = ada.status_post("Spoilers ahead", spoiler_text="film plot", visibility="private")
    assert toot.spoiler_text == "film plot" and toot.sensitive is True
    assert toot.visibility == "private" and "Spoilers ahead" in toot.content
    assert toot.account.username == "ada"
    again = ada.status(toot.id)
    assert again.spoiler_text == "film plot"
    # a followers-only post is not for strangers
    with pytest.raises(MastodonAPIError):
        Mastodon(api_base_url=world.server.url, version_check_mode="none").status(toot.id)
    reply = client(world, world.ben_token).status_post("nice", in_reply_to_id=ada.status_post("open").id)
    assert reply.in_reply_to_id is not None
    assert ada.status_delete(toot.id).id == toot.id


def test_an_image_is_uploaded_then_attached(world):
    ada = client(world, world.ada_token)
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
    media = ada.media_post(png, mime_type="image/png", description="a dot", file_name="dot.png")
    assert media.type == "image" and media.url.startswith(world.server.url)
    toot = ada.status_post("with a picture", media_ids=[media.id])
    assert [m.id for m in toot.media_attachments] == [media.id]


def test_the_public_timeline_pages_through_link_headers(world):
    ben = client(world, world.ben_token)
    posted = [ben.status_post(f"page post {n}", visibility="public").id for n in range(7)]
    first = ben.timeline_public(limit=3)
    assert [s.id for s in first] == posted[::-1][:3]
    second = ben.fetch_next(first)
    assert [s.id for s in second] == posted[::-1][3:6]
    back = ben.fetch_previous(second)
    assert [s.id for s in back] == posted[::-1][:3]


def test_favourite_follow_relationships_and_notifications(world):
    ada, ben = client(world, world.ada_token), client(world, world.ben_token)
    toot = ben.status_post("like me")
    faved = ada.status_favourite(toot.id)
    assert faved.favourited is True and faved.favourites_count == 1
    rel = ada.account_follow(world.ben_id)
    assert rel.following is True
    assert ada.account_relationships([world.ben_id])[0].following is True
    assert any(s.id == toot.id for s in ada.timeline_home(limit=20))
    kinds = {n.type for n in ben.notifications()}
    assert {"favourite", "follow"} <= kinds
    assert ada.account_lookup("ben").id == world.ben_id
    assert ada.account_statuses(world.ben_id, limit=5)[0].id == toot.id
    assert ada.account_unfollow(world.ben_id).following is False


def test_a_bot_posts_with_its_token_and_is_marked_a_bot(world):
    bot = client(world, world.bot_token)
    toot = bot.status_post("beep from the API")
    assert toot.account.bot is True and toot.account.username == "scribe"
    assert bot.account_verify_credentials().bot is True


def test_stream_public_receives_an_update(world):
    ada = client(world, world.ada_token)
    seen: list[str] = []
    got = threading.Event()

    class Listener(StreamListener):
        def on_update(self, status):
            seen.append(status.content)
            if "streamed hello" in status.content:
                got.set()

    handle = ada.stream_public(Listener(), run_async=True, timeout=60, reconnect_async=False)
    try:
        time.sleep(1.5)  # the stream subscribes first
        client(world, world.ben_token).status_post("streamed hello")
        assert got.wait(30), f"no update arrived; saw {seen}"
    finally:
        handle.close()


def test_oauth_client_credentials_token_then_revoke(world):
    client_id, client_secret = Mastodon.create_app(
        "Script", api_base_url=world.server.url, scopes=["read"], redirect_uris=OOB
    )
    creds = {"client_id": client_id, "client_secret": client_secret}
    issued = httpx.post(f"{world.server.url}/oauth/token", data={**creds, "grant_type": "client_credentials"})
    assert issued.status_code == 200, issued.text
    token = issued.json()["access_token"]
    check = f"{world.server.url}/api/v1/apps/verify_credentials"
    assert httpx.get(check, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    wrong = httpx.post(
        f"{world.server.url}/oauth/token",
        data={**creds, "client_secret": "x", "grant_type": "client_credentials"},
    )
    assert wrong.status_code == 401
    assert httpx.post(f"{world.server.url}/oauth/revoke", data={**creds, "token": token}).status_code == 200
    assert httpx.get(check, headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_stream_user_receives_followed_posts_and_notifications(world):
    ada, ben = client(world, world.ada_token), client(world, world.ben_token)
    ada_id = ada.account_verify_credentials().id
    ben.account_follow(ada_id)
    updates: list[str] = []
    notes: list[str] = []
    got_update, got_note = threading.Event(), threading.Event()

    class Listener(StreamListener):
        def on_update(self, status):
            updates.append(status.content)
            if "for my followers" in status.content:
                got_update.set()

        def on_notification(self, notification):
            notes.append(notification.type)
            if notification.type == "favourite":
                got_note.set()

    handle = ben.stream_user(Listener(), run_async=True, timeout=60, reconnect_async=False)
    try:
        time.sleep(1.5)
        ada.status_post("for my followers", visibility="private")
        mine = ben.status_post("fave this")
        ada.status_favourite(mine.id)
        assert got_update.wait(30), f"no update; saw {updates}"
        assert got_note.wait(30), f"no notification; saw {notes}"
    finally:
        handle.close()
        ben.account_unfollow(ada_id)


def test_a_boost_and_a_tag_timeline_through_the_client(world):
    ada, ben = client(world, world.ada_token), client(world, world.ben_token)
    toot = ben.status_post("boost me #clawtest")
    boosted = ada.status_reblog(toot.id)
    assert boosted.reblog.id == toot.id and boosted.reblog.reblogged is True
    assert ada.status(toot.id).reblogs_count == 1
    assert ada.status_unreblog(toot.id).reblogged is False
    assert [s.id for s in ada.timeline_hashtag("clawtest")] == [toot.id]
    assert any(s.id == toot.id for s in ada.search_v2("clawtest", result_type="statuses").statuses)
