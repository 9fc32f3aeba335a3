"""Boosts, hashtags, the mentions view, content warnings, edit history and Atom feeds."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from sqlmodel import select

from clawnet.api.feeds import render_atom
from clawnet.db import session_scope
from clawnet.models import Notification, Post, PostTag
from clawnet.security.permissions import PermissionDenied
from clawnet.social.writing import SocialError

ATOM = "{http://www.w3.org/2005/Atom}"


async def test_boost_is_idempotent_counted_notified_and_shown_as_the_original(social, people):
    (alice, a_id, a_handle), (bob, b_id, b_handle), (carol, _, _) = people
    post = await social.create_post(alice, "boost me")
    row = await social.boost(bob, post)
    assert await social.boost(bob, post) == row  # idempotent: one boost per person
    assert await social.boost(bob, row) == row  # boosting the boost boosts the original
    await social.boost(carol, post)
    with session_scope() as s:
        assert s.get(Post, post).reblog_count == 2
        boost_row = s.get(Post, row)
        assert boost_row.reblog_of_id == post and boost_row.author_id == b_id and boost_row.content_html == ""
        kinds = s.exec(select(Notification.kind).where(Notification.recipient_id == a_id)).all()
        assert kinds.count("reblog") == 2
    await social.set_follow(alice, b_id, True)
    shown = [p for p in await social.timeline(alice, "home") if p.row_id == row]
    assert shown and shown[0].id == post and shown[0].boosted_by_handle == b_handle
    assert shown[0].author_handle == a_handle and shown[0].boosts == 2
    public_rows = [p.row_id for p in await social.timeline(None, "public")]
    assert post in public_rows and row not in public_rows  # boosts reach followers, not the public one
    assert row in [p.row_id for p in await social.profile_posts(None, b_id)]
    mine = (await social.posts(bob, [post]))[0]
    assert mine.boosted and mine.boosts == 2 and mine.row_id == post
    await social.unboost(bob, post)
    await social.unboost(bob, post)  # idempotent too
    with session_scope() as s:
        assert s.get(Post, row) is None and s.get(Post, post).reblog_count == 1
    assert not (await social.posts(bob, [post]))[0].boosted


async def test_deleting_the_original_removes_its_boosts(social, people):
    (alice, _, _), (bob, _, _), _ = people
    post = await social.create_post(alice, "short-lived")
    row = await social.boost(bob, post)
    await social.delete_post(alice, post)
    with session_scope() as s:
        assert s.get(Post, row) is None


async def test_a_followers_only_post_cannot_be_boosted(social, people):
    (alice, a_id, _), (bob, _, _), _ = people
    await social.set_follow(bob, a_id, True)
    private = await social.create_post(alice, "just for followers", "followers")
    with pytest.raises(SocialError, match="Only public posts"):
        await social.boost(bob, private)
    with session_scope() as s:
        assert s.exec(select(Post).where(Post.reblog_of_id == private)).first() is None


async def test_hashtags_are_linked_and_the_tag_timeline_pages_newest_first(social, people):
    (alice, _, _), (bob, _, _), _ = people
    first = await social.create_post(alice, "Hello #Python and #café, not a#tag nor #123")
    html = (await social.posts(None, [first]))[0].html
    assert '<a href="/tags/python" class="hashtag" rel="nofollow noopener">#Python</a>' in html
    assert 'href="/tags/caf%C3%A9"' in html and "a#tag" in html and "/tags/123" not in html
    ids = [first, *[await social.create_post(bob, f"more #python {n}") for n in range(24)]]
    private = await social.create_post(alice, "secret #python", "followers")
    page = await social.tag_timeline(None, "python")
    assert [p.id for p in page] == ids[::-1][:20]
    older = await social.tag_timeline(None, "#Python", max_id=page[-1].id)
    assert [p.id for p in older] == ids[::-1][20:]
    assert private not in {p.id for p in page}
    assert [p.id for p in await social.tag_timeline(None, "café")] == [first]
    newer = await social.tag_timeline(None, "python", min_id=ids[-2])
    assert [p.id for p in newer] == [ids[-1]]


async def test_trending_tags_rank_by_people_then_posts(social, people):
    (alice, _, _), (bob, _, _), (carol, _, _) = people
    for _ in range(3):
        await social.create_post(alice, "#solo again")
    await social.create_post(alice, "#shared")
    await social.create_post(bob, "#shared too")
    await social.create_post(carol, "#shared as well, and #solo")
    await social.create_post(carol, "#hidden", "followers")
    tags = await social.trending_tags(None)
    assert [(t.name, t.people, t.posts) for t in tags] == [("shared", 3, 3), ("solo", 2, 4)]
    assert tags[0].url == "/tags/shared"


async def test_mentions_lists_posts_mentioning_me_newest_first(social, people):
    (alice, _, a_handle), (bob, _, _), (carol, _, _) = people
    one = await social.create_post(bob, f"hi @{a_handle}")
    await social.create_post(bob, "no mention here")
    two = await social.create_post(carol, f"@{a_handle} look", "followers")  # mentioned: may see it
    assert [p.id for p in await social.mentions(alice)] == [two, one]
    assert [p.id for p in await social.mentions(alice, max_id=two)] == [one]
    assert await social.mentions(bob) == [] and await social.mentions(None) == []


async def test_a_content_warning_is_stored_and_shown(social, people):
    (alice, _, _), _, _ = people
    post = await social.create_post(alice, "the ending is...", spoiler_text="  Film\nspoilers ")
    shown = (await social.posts(None, [post]))[0]
    assert shown.spoiler_text == "Film spoilers" and "ending" in shown.html
    with pytest.raises(SocialError, match="content warning"):
        await social.create_post(alice, "x", spoiler_text="w" * 501)


async def test_editing_keeps_a_visible_history_and_updates_tags_and_mentions(social, people):
    (alice, _, _), (bob, b_id, b_handle), (carol, _, _) = people
    post = await social.create_post(alice, "first #draft", spoiler_text="cw one")
    await social.edit_post(alice, post, f"second #final @{b_handle}", spoiler_text="")
    await social.edit_post(alice, post, f"third #final @{b_handle}")  # the warning stays as it is
    history = await social.post_history(carol, post)
    assert ("first" in history[0].html, history[0].spoiler_text) == (True, "cw one")
    assert ["second" in history[1].html, "third" in history[2].html] == [True, True]
    assert [v.current for v in history] == [False, False, True]
    shown = (await social.posts(None, [post]))[0]
    assert shown.edited and shown.spoiler_text == ""
    assert await social.tag_timeline(None, "draft") == []
    assert [p.id for p in await social.tag_timeline(None, "final")] == [post]
    assert [p.id for p in await social.mentions(bob)] == [post]
    with session_scope() as s:
        assert s.exec(select(Notification).where(Notification.recipient_id == b_id)).all()  # mentioned once
        assert len(s.exec(select(Notification).where(Notification.recipient_id == b_id)).all()) == 1
        assert len(s.exec(select(PostTag).where(PostTag.post_id == post)).all()) == 1
    with pytest.raises(PermissionDenied):
        await social.edit_post(bob, post, "not mine")


async def test_history_of_a_followers_only_post_is_only_for_those_who_see_it(social, people):
    (alice, _, _), (bob, _, _), _ = people
    post = await social.create_post(alice, "private v1", "followers")
    await social.edit_post(alice, post, "private v2")
    assert await social.post_history(bob, post) == []
    assert await social.post_history(None, post) == []
    assert len(await social.post_history(alice, post)) == 2


async def test_atom_feeds_parse_and_hold_only_public_posts(social, people):
    (alice, _, a_handle), (bob, _, _), _ = people
    public = await social.create_post(alice, "hello <world> #news", spoiler_text="cw & more")
    private = await social.create_post(alice, "followers only #news", "followers")
    await social.boost(alice, await social.create_post(bob, "bob says #news"))
    feed = await social.atom_profile(a_handle)
    assert feed is not None
    root = ET.fromstring(render_atom(feed, "http://example.test", f"/feeds/u/{a_handle}.atom"))  # noqa: S314 (our own output)
    assert root.tag == f"{ATOM}feed" and root.find(f"{ATOM}updated") is not None
    entries = root.findall(f"{ATOM}entry")
    assert [e.find(f"{ATOM}id").text for e in entries] == [f"http://example.test/posts/{public}"]
    assert "&lt;world&gt;" in entries[0].find(f"{ATOM}content").text
    assert entries[0].find(f"{ATOM}summary").text == "cw & more"
    tag_root = ET.fromstring(render_atom(await social.atom_tag("news"), "http://x", "/feeds/tags/news.atom"))  # noqa: S314 (our own output)
    ids = [e.find(f"{ATOM}id").text for e in tag_root.findall(f"{ATOM}entry")]
    assert len(ids) == 2 and f"http://x/posts/{public}" in ids and f"http://x/posts/{private}" not in ids
    assert await social.atom_profile("nobody_here") is None


async def test_atom_routes_serve_feeds_over_http(social, people, monkeypatch):
    import httpx

    from clawnet import runtime
    from clawnet.api import build_api

    (alice, _, a_handle), _, _ = people
    public = await social.create_post(alice, "hola #café")
    private = await social.create_post(alice, "psst #café", "followers")
    monkeypatch.setattr(runtime, "_social", social)
    transport = httpx.ASGITransport(app=build_api())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        user = await client.get(f"/feeds/u/{a_handle}.atom")
        tag = await client.get("/feeds/tags/caf%C3%A9.atom")
        missing = await client.get("/feeds/u/nobody_at_all.atom")
    assert user.status_code == 200 and user.headers["content-type"].startswith("application/atom+xml")
    for response in (user, tag):
        root = ET.fromstring(response.content)  # noqa: S314 (our own output)
        ids = [e.find(f"{ATOM}id").text for e in root.findall(f"{ATOM}entry")]
        assert any(i.endswith(f"/posts/{public}") for i in ids)
        assert not any(i.endswith(f"/posts/{private}") for i in ids)
    assert missing.status_code == 404


def test_hashtags_are_not_found_in_links_entities_or_code():
    from clawnet.security.sanitize import render_text

    rendered = render_text(
        "see https://example.com/#frag, it's `#code` and &#35;x but #Real_Tag2 #日本",
        handle_exists=lambda _h: False,
        profile_url=lambda h: f"/u/{h}",
        tag_url=lambda t: f"/tags/{t}",
    )
    assert rendered.tags == ("real_tag2", "日本")
    assert 'class="hashtag"' in rendered.html and "/tags/frag" not in rendered.html
    assert "/tags/code" not in rendered.html
