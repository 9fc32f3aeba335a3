"""The social network's services: posting, timelines and pagination, visibility, likes,
follows, comments, notifications and limits."""

from __future__ import annotations

import dataclasses

import pytest
from sqlmodel import select

from clawnet.db import session_scope
from clawnet.enums import Role
from clawnet.events import Kind
from clawnet.models import Notification, Post, Profile
from clawnet.security.permissions import PermissionDenied, Principal
from clawnet.security.rate_limit import RateLimited
from clawnet.settings import get_settings
from clawnet.social import notifications, timelines
from clawnet.social.writing import SocialError
from tests.factories import make_user


def home(profile_id: int, **kw) -> list[int]:
    with session_scope() as s:
        return timelines.home_ids(s, profile_id, **kw)


async def test_public_timeline_pages_by_cursor_newest_first(social, people):
    alice = people[0][0]
    ids = [await social.create_post(alice, f"post {n}") for n in range(45)]
    with session_scope() as s:
        first = timelines.public_ids(s, limit=timelines.clamp_limit(None))
        second = timelines.public_ids(s, max_id=first[-1], limit=20)
        assert first == ids[::-1][:20] and second == ids[::-1][20:40]
        assert len(timelines.public_ids(s, limit=timelines.clamp_limit(100))) == 40  # at most 40 per page
        assert timelines.public_ids(s, min_id=ids[-3]) == ids[-2:][::-1]  # newer than a post (live loading)


async def test_home_shows_followed_and_own_posts_and_followers_only_ones(social, people):
    (alice, a_id, _), (bob, b_id, _), (carol, c_id, _) = people
    await social.set_follow(alice, b_id, True)
    own = await social.create_post(alice, "mine")
    bob_public = await social.create_post(bob, "bob public")
    bob_private = await social.create_post(bob, "bob for followers", "followers")
    carol_post = await social.create_post(carol, "carol")
    assert home(a_id) == [bob_private, bob_public, own]
    assert carol_post not in home(a_id)
    with session_scope() as s:
        assert bob_private not in timelines.public_ids(s)
        assert bob_private in timelines.profile_ids(s, a_id, b_id)  # a follower sees it
        assert bob_private not in timelines.profile_ids(s, c_id, b_id)  # others do not
        assert bob_private not in timelines.profile_ids(s, None, b_id)  # nor anonymous visitors


async def test_home_merge_and_scan_strategies_agree(social, people, monkeypatch):
    (alice, a_id, _), (bob, b_id, _), (carol, _, _) = people
    await social.set_follow(alice, b_id, True)
    posts = [await social.create_post([bob, carol, alice][n % 3], f"n{n}") for n in range(30)]
    merged = home(a_id, limit=10)
    monkeypatch.setattr(timelines, "MERGE_MAX_FOLLOWEES", 0)
    scanned = home(a_id, limit=10)
    assert merged == scanned
    carol_posts = set(posts[1::3])
    assert not carol_posts & set(merged)
    assert (
        home(a_id, max_id=merged[-1], limit=10)
        == [p for p in sorted(set(posts) - carol_posts, reverse=True)][10:20]
    )


async def test_likes_are_idempotent_and_counted_and_notify_the_author(social, people):
    (alice, a_id, _), (bob, b_id, _), _ = people
    post = await social.create_post(alice, "like me")
    assert await social.set_like(bob, post, True) == (True, 1)
    assert await social.set_like(bob, post, True) == (True, 1)  # liking twice is one like
    assert await social.set_like(bob, post, False) == (False, 0)
    assert await social.set_like(alice, post, True) == (True, 1)  # own likes count but notify nobody
    with session_scope() as s:
        kinds = [
            (n.kind, n.actor_id)
            for n in s.exec(select(Notification).where(Notification.recipient_id == a_id))
        ]
    assert kinds == [("like", b_id)]


async def test_follows_count_both_sides_and_cannot_follow_yourself(social, people):
    (alice, a_id, _), (_bob, b_id, _), _ = people
    assert await social.set_follow(alice, b_id, True) == 1
    assert await social.set_follow(alice, b_id, True) == 1
    with session_scope() as s:
        assert s.get(Profile, a_id).following_count == 1
    assert await social.set_follow(alice, b_id, False) == 0
    with pytest.raises(SocialError, match="cannot follow yourself"):
        await social.set_follow(alice, a_id, True)


async def test_comments_thread_and_notify_post_and_parent_authors(social, people):
    (alice, a_id, _), (bob, b_id, _), (carol, _c_id, _c_handle) = people
    post = await social.create_post(alice, "thread")
    first = await social.comment(bob, post, "first")
    reply = await social.comment(carol, post, "answer to bob", parent_id=first)
    await social.comment(alice, post, "top level two")
    with session_scope() as s:
        thread = timelines.comments_of(s, a_id, post)
        assert [(c.id, c.depth) for c in thread] == [(first, 0), (reply, 1), (thread[2].id, 0)]
        assert s.get(Post, post).reply_count == 3
        bob_kinds = [n.kind for n in s.exec(select(Notification).where(Notification.recipient_id == b_id))]
    assert bob_kinds == ["reply"]  # carol answered bob's comment
    with pytest.raises(SocialError, match="not on this post"):
        await social.comment(bob, await social.create_post(bob, "other"), "x", parent_id=first)


async def test_mentions_link_notify_and_let_the_mentioned_see_followers_only_posts(social, people):
    (alice, _a_id, _), (_bob, b_id, b_handle), _ = people
    post = await social.create_post(alice, f"hello @{b_handle} and @nobody", "followers")
    with session_scope() as s:
        stored = s.get(Post, post)
        assert f'href="/u/{b_handle}"' in stored.content_html
        from clawnet.social.service import can_see

        assert can_see(s, b_id, stored)
        listed = notifications.list_notifications(s, b_id)
    assert [(n.kind, n.unread) for n in listed] == [("mention", True)]


async def test_notifications_mark_read_and_publish_the_unread_count(social, people):
    (alice, a_id, _), (bob, _b_id, _), _ = people
    events = []
    social.bus.publish = lambda kind, payload=None, **kw: events.append((kind, payload))  # type: ignore[method-assign]
    await social.set_follow(bob, a_id, True)
    post = await social.create_post(alice, "x")
    await social.set_like(bob, post, True)
    unread_events = [p["unread"] for k, p in events if k == Kind.NOTIFICATION and p["recipient_id"] == a_id]
    assert unread_events == [1, 2]
    assert await social.mark_read(alice) == 0


async def test_limits_refuse_with_a_clear_message(social, people, monkeypatch):
    alice, _, _ = people[0]
    tight = dataclasses.replace(get_settings(), posts_per_window=2, follows_per_day=1, post_max_chars=20)
    social.settings = tight
    await social.create_post(alice, "one")
    await social.create_post(alice, "two")
    with pytest.raises(RateLimited, match=r"You have reached 2 posts and replies in 3 hours\. Try again in"):
        await social.create_post(alice, "three")
    await social.set_follow(alice, people[1][1], True)
    with pytest.raises(RateLimited, match="You have followed 1 accounts today"):
        await social.set_follow(alice, people[2][1], True)
    tight_chars = dataclasses.replace(tight, posts_per_window=100)
    social.settings = tight_chars
    with pytest.raises(SocialError, match="the limit is 20"):
        await social.create_post(alice, "x" * 21)
    with pytest.raises(SocialError, match="Write something first"):
        await social.create_post(alice, "   ")


async def test_only_authors_edit_and_admins_may_delete_others_posts(social, people, migrated):
    (alice, _, _), (bob, _, _), _ = people
    post = await social.create_post(alice, "original")
    with pytest.raises(PermissionDenied):
        await social.edit_post(bob, post, "hijacked")
    await social.edit_post(alice, post, "**edited**")
    with session_scope() as s:
        assert "<strong>edited</strong>" in s.get(Post, post).content_html
        admin = Principal.of(make_user(s, Role.ADMIN))
    with pytest.raises(PermissionDenied):
        await social.delete_post(bob, post)
    await social.delete_post(admin, post)
    with session_scope() as s:
        assert s.get(Post, post) is None


async def test_signed_out_visitors_cannot_post(social, people):
    with pytest.raises(PermissionDenied):
        await social.create_post(None, "anonymous")


async def test_profile_edits_sanitize_the_bio_and_accept_only_uploaded_avatars(social, people, migrated):
    from clawnet import media

    alice, a_id, _ = people[0]
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
    uploaded, _mime, _size = media.save_image(migrated, png, "avatars")
    await social.update_profile(
        alice, display_name="  Alice A. ", bio="<b>hi</b> https://example.com", avatar_path=uploaded
    )
    with session_scope() as s:
        me = s.get(Profile, a_id)
        assert me.display_name == "Alice A." and me.avatar_path == uploaded
        assert "<b>" not in me.bio_html and 'href="https://example.com"' in me.bio_html
    post_image, _mime, _size = media.save_image(migrated, png, "posts")
    for bad in ("../../etc/passwd", "avatars/missing.png", post_image):
        with pytest.raises(SocialError, match="Upload the avatar again"):
            await social.update_profile(alice, display_name="Alice", bio="", avatar_path=bad)
    with pytest.raises(SocialError, match="display name"):
        await social.update_profile(alice, display_name="  ", bio="")
    await social.update_profile(alice, display_name="Alice", bio="", avatar_path="")  # removing is fine
    with session_scope() as s:
        assert s.get(Profile, a_id).avatar_path == ""
