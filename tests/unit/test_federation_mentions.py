"""Mentions of remote accounts (`@user@host`): rendering, the lookup before a write (bounded, soft,
only when federating), the Note's `Mention` tag and audience, and a remote note's mention of a
local person linking to the local profile.

Remote servers are the fakes of test_federation_inbox (their documents served by a stand-in for
`remote.get_json`)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from typing import Any

import pytest
from sqlmodel import col, select

from clawnet.db import session_scope
from clawnet.enums import Role
from clawnet.errors import UserError
from clawnet.models import Comment, Post, PostMention, Profile, utcnow
from clawnet.models.federation import Delivery, FederationHost, RemoteActor
from clawnet.security.permissions import Principal
from clawnet.security.sanitize import remote_addresses, render_text
from clawnet.settings import Settings
from clawnet.social import api_tokens
from clawnet.social.federation import mentions, remote, urls
from clawnet.social.profiles import create_bot_profile
from tests.factories import make_bot, make_user
from tests.unit import test_federation_inbox as inbox_tests
from tests.unit.test_federation_inbox import HOST, FakeActor, Fed, People

fed = inbox_tests.fed  # the same fake remote servers


def _render(raw: str, known: set[str]) -> Any:
    return render_text(raw, lambda h: h in known, lambda h: f"/u/{h}", local_host="claw.example")


def _deliveries() -> list[tuple[str, dict[str, Any]]]:
    with session_scope() as s:
        return [
            (d.inbox_url, json.loads(d.body)) for d in s.exec(select(Delivery).order_by(col(Delivery.id)))
        ]


def _post(post_id: int) -> Post:
    with session_scope() as s:
        post = s.get(Post, post_id)
        assert post is not None
        return post


def _mentioned_ids(post_id: int) -> list[int]:
    with session_scope() as s:
        return list(s.exec(select(PostMention.profile_id).where(PostMention.post_id == post_id)))


def _remote_profile(handle: str) -> Profile | None:
    with session_scope() as s:
        return s.exec(select(Profile).where(Profile.handle == handle)).first()


# --- rendering -----------------------------------------------------------------------------------


def test_a_local_handle_still_links_as_before() -> None:
    rendered = _render("hi @alice!", {"alice"})
    assert rendered.html == (
        '<p>hi <span class="mention"><a href="/u/alice" class="mention" rel="nofollow noopener">@alice</a>'
        "</span>!</p>"
    )
    assert rendered.mentions == ("alice",)


def test_a_known_remote_address_links_to_its_profile_page_here() -> None:
    rendered = _render(
        "ping @Bob@127.0.0.1:8123. and @zed@remote.example", {"bob@127.0.0.1:8123", "zed@remote.example"}
    )
    assert (
        '<a href="/u/bob@127.0.0.1:8123" class="mention" rel="nofollow noopener">@bob@127.0.0.1:8123</a>'
        in (rendered.html)
    )
    assert '<a href="/u/zed@remote.example" class="mention"' in rendered.html
    assert rendered.html.endswith("</span>. and " + rendered.html.split(". and ")[1])  # the period stays text
    assert rendered.mentions == ("bob@127.0.0.1:8123", "zed@remote.example")


def test_an_email_address_is_not_a_mention() -> None:
    rendered = _render("write to me@example.com or alice@remote.example", {"example", "alice@remote.example"})
    assert "mention" not in rendered.html and rendered.mentions == ()
    assert remote_addresses("write to me@example.com") == []


def test_an_unknown_address_stays_plain_text_and_does_not_fall_back_to_a_local_handle() -> None:
    rendered = _render("hello @alice@nowhere.example", {"alice"})
    assert rendered.html == "<p>hello @alice@nowhere.example</p>" and rendered.mentions == ()


def test_an_address_on_this_host_is_the_local_profile() -> None:
    rendered = _render("@alice@claw.example hi", {"alice"})
    assert '<a href="/u/alice" class="mention"' in rendered.html and rendered.mentions == ("alice",)
    assert remote_addresses(
        "@alice@claw.example @bob@remote.example @Bob@Remote.example", "claw.example"
    ) == ["bob@remote.example"]


# --- the lookup before the write -----------------------------------------------------------------


async def test_a_post_mentioning_an_unknown_remote_account_looks_it_up_tags_and_reaches_it(
    fed: Fed, people: People
) -> None:
    p0, _, p0_handle = people[0]
    alice = fed.serve(FakeActor("alice"))
    post_id = await fed.social.create_post(p0, f"hi @alice@{HOST} #news")
    profile = _remote_profile(f"alice@{HOST}")
    assert profile is not None and profile.domain == HOST
    post = _post(post_id)
    assert f'<a href="/u/alice@{HOST}" class="mention"' in post.content_html
    assert _mentioned_ids(post_id) == [profile.id]
    sent = _deliveries()
    assert [inbox for inbox, _ in sent] == [f"https://{HOST}/inbox"]  # alice does not follow p0
    note = sent[0][1]["object"]
    assert {"type": "Mention", "href": alice.uri, "name": f"@alice@{HOST}"} in note["tag"]
    assert alice.uri in note["cc"]
    assert f'href="https://{HOST}/@alice"' in note["content"]  # her own page, not ours for her
    assert note["attributedTo"] == urls.actor(fed.settings, p0_handle)


async def test_a_followers_only_post_reaches_the_mentioned_remote_account(fed: Fed, people: People) -> None:
    p0, _, _ = people[0]
    alice = fed.serve(FakeActor("alice"))
    await fed.social.create_post(p0, f"psst @alice@{HOST}", visibility="followers")
    sent = _deliveries()
    assert [inbox for inbox, _ in sent] == [f"https://{HOST}/inbox"]
    assert sent[0][1]["object"]["cc"] == [alice.uri]
    assert "https://www.w3.org/ns/activitystreams#Public" not in json.dumps(sent[0][1])


async def test_an_unreachable_address_stays_text_and_the_post_is_published(fed: Fed, people: People) -> None:
    p0, _, _ = people[0]
    post_id = await fed.social.create_post(p0, f"hi @nobody@{HOST}")
    assert _post(post_id).content_html == f"<p>hi @nobody@{HOST}</p>"
    assert _remote_profile(f"nobody@{HOST}") is None and _mentioned_ids(post_id) == []


async def test_lookups_are_bounded_in_number_and_time(
    fed: Fed, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    p0, _, _ = people[0]
    asked: list[str] = []
    real = remote.get_json

    async def slow(settings: Settings, url: str, accept: str = "") -> dict[str, Any]:
        asked.append(url)
        if "slow" in url:
            await asyncio.sleep(30)
        return await real(settings, url, accept)

    monkeypatch.setattr(remote, "get_json", slow)
    monkeypatch.setattr(mentions, "TOTAL_S", 0.5)
    fed.serve(FakeActor("fast"))
    names = ["slow", "fast", "u3", "u4", "u5", "u6", "u7"]
    loop = asyncio.get_running_loop()
    started = loop.time()
    post_id = await fed.social.create_post(p0, " ".join(f"@{n}@{HOST}" for n in names))
    assert loop.time() - started < 10
    assert len([u for u in asked if "webfinger" in u]) == mentions.MAX_LOOKUPS
    html = _post(post_id).content_html
    assert f'class="mention" rel="nofollow noopener">@fast@{HOST}</a>' in html
    assert f"@slow@{HOST}" in html and f"/u/slow@{HOST}" not in html  # timed out: plain text


async def test_nothing_is_looked_up_when_the_author_or_the_instance_does_not_federate(
    fed: Fed, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    p0, p0_id, _ = people[0]
    fed.serve(FakeActor("alice"))
    with session_scope() as s:
        me = s.get(Profile, p0_id)
        assert me is not None
        me.federated = False
        s.add(me)
    await fed.social.create_post(p0, f"hi @alice@{HOST}")
    assert _remote_profile(f"alice@{HOST}") is None and _deliveries() == []
    p1, _, _ = people[1]
    monkeypatch.setattr(
        fed.social, "settings", dataclasses.replace(fed.social.settings, federation_enabled=False)
    )
    await fed.social.create_post(p1, f"hi @alice@{HOST}")
    assert _remote_profile(f"alice@{HOST}") is None


async def test_nothing_is_looked_up_for_a_suspended_author_or_anonymous_or_on_a_blocked_host(
    fed: Fed, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    p0, p0_id, _ = people[0]
    p1, _, _ = people[1]
    fed.serve(FakeActor("alice"))
    fed.serve(FakeActor("bob", host="blocked.example"))
    asked: list[str] = []
    real = remote.get_json

    async def counting(settings: Settings, url: str, accept: str = "") -> dict[str, Any]:
        asked.append(url)
        return await real(settings, url, accept)

    monkeypatch.setattr(remote, "get_json", counting)
    with session_scope() as s:
        s.add(FederationHost(host="blocked.example", blocked=True))
        me = s.get(Profile, p0_id)
        assert me is not None
        me.suspended_at = utcnow()
        s.add(me)
    with pytest.raises(UserError):
        await fed.social.create_post(p0, f"hi @alice@{HOST}")
    with pytest.raises(UserError):
        await fed.social.create_post(None, f"hi @alice@{HOST}")
    assert asked == []
    post_id = await fed.social.create_post(p1, "hi @bob@blocked.example")
    assert asked == [] and _post(post_id).content_html == "<p>hi @bob@blocked.example</p>"


async def test_a_comment_and_an_edit_mention_remote_accounts(fed: Fed, people: People) -> None:
    p0, _, _ = people[0]
    alice, bob = fed.serve(FakeActor("alice")), fed.serve(FakeActor("bob", host="other.example"))
    post_id = await fed.social.create_post(p0, "no mentions yet")
    assert _deliveries() == []
    comment_id = await fed.social.comment(p0, post_id, f"cc @alice@{HOST}")
    with session_scope() as s:
        comment = s.get(Comment, comment_id)
        assert comment is not None and f"/u/alice@{HOST}" in comment.content_html
    ((inbox, create),) = _deliveries()
    assert inbox == f"https://{HOST}/inbox" and create["type"] == "Create"
    assert {"type": "Mention", "href": alice.uri, "name": f"@alice@{HOST}"} in create["object"]["tag"]
    await fed.social.edit_post(p0, post_id, "now @bob@other.example")
    bob_profile = _remote_profile("bob@other.example")
    assert bob_profile is not None and _mentioned_ids(post_id) == [bob_profile.id]
    update = _deliveries()[-1]
    assert update[0] == "https://other.example/inbox" and update[1]["type"] == "Update"
    assert bob.uri in update[1]["object"]["cc"]


async def test_a_known_remote_account_is_not_fetched_again(
    fed: Fed, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    p0, _, _ = people[0]
    fed.serve(FakeActor("alice"))
    await fed.social.create_post(p0, f"one @alice@{HOST}")
    asked: list[str] = []
    real = remote.get_json

    async def counting(settings: Settings, url: str, accept: str = "") -> dict[str, Any]:
        asked.append(url)
        return await real(settings, url, accept)

    monkeypatch.setattr(remote, "get_json", counting)
    post_id = await fed.social.create_post(p0, f"two @alice@{HOST}")
    assert asked == [] and len(_mentioned_ids(post_id)) == 1
    with session_scope() as s:
        assert len(s.exec(select(RemoteActor)).all()) == 1


# --- incoming ------------------------------------------------------------------------------------


async def test_a_remote_notes_mention_of_a_local_person_links_to_the_local_profile(
    fed: Fed, people: People
) -> None:
    _, p1_id, p1_handle = people[1]
    alice = fed.serve(FakeActor("alice"))
    actor = urls.actor(fed.settings, p1_handle)
    page = urls.base(fed.settings) + f"/u/{p1_handle}"
    content = (  # as Mastodon writes a mention: to the profile page, classes bleach drops
        f'<p><span class="h-card"><a href="{page}" class="u-url mention">@<span>{p1_handle}</span></a></span>'
        f' and <a href="{actor}">@{p1_handle}</a> and <a href="https://{HOST}/@alice">me</a></p>'
    )
    note = alice.note(content, tag=[{"type": "Mention", "href": actor}], cc=[actor])
    await fed.deliver(alice, alice.activity("Create", note))
    with session_scope() as s:
        post = s.exec(
            select(Post).where(Post.author_id != p1_id, col(Post.content_html).contains("me</a>"))
        ).one()
        html = post.content_html
    local_link = f'<a href="/u/{p1_handle}" class="mention" rel="nofollow noopener">'
    assert html.count(local_link) == 2
    assert f'<a href="https://{HOST}/@alice" rel="nofollow noopener">me</a>' in html  # others untouched
    assert _mentioned_ids(post.id or 0) == [p1_id]


async def test_a_bot_posting_with_its_api_token_mentions_a_remote_account(fed: Fed, people: People) -> None:
    alice = fed.serve(FakeActor("alice"))
    with session_scope() as s:
        owner = make_user(s, Role.OPERATOR, name="Owner")
        bot = make_bot(s, owner, "Helper")
        handle = create_bot_profile(s, bot).handle
        s.flush()
        token = api_tokens.create_token(s, Principal.of(owner), bot.id or 0, "script")
    post_id = await fed.social.post_with_token(token, f"beep @alice@{HOST}", "public")
    profile = _remote_profile(f"alice@{HOST}")
    assert profile is not None and _mentioned_ids(post_id) == [profile.id]
    ((inbox, create),) = _deliveries()
    assert inbox == f"https://{HOST}/inbox" and create["actor"] == urls.actor(fed.settings, handle)
    assert alice.uri in create["object"]["cc"]
