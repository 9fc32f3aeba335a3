"""Moderation: mutes (with expiry and notifications), blocks both ways, reports, and the admin
queue (hide posts, suspend profiles) with its permission checks."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from clawnet.db import session_scope
from clawnet.enums import Role
from clawnet.errors import UserError
from clawnet.models import AuditEvent, Follow, HomeEntry, Mute, Notification, Post, Profile, Report, utcnow
from clawnet.security.permissions import PermissionDenied, Principal
from clawnet.social import notifications, timelines
from clawnet.social.writing import SocialError
from tests.factories import make_user, profile_of


@pytest.fixture
def people(migrated):
    """Here: three members and an admin, each as (principal, profile id); handles in HANDLES."""
    with session_scope() as s:
        users = [make_user(s, Role.MEMBER, name=f"P{i}") for i in range(3)]
        users.append(make_user(s, Role.ADMIN, name="Admin"))
        result = []
        for u in users:
            profile = profile_of(s, u)
            result.append((Principal.of(u), profile.id))
            HANDLES[profile.id] = profile.handle
    return result


HANDLES: dict[int, str] = {}


def public(viewer: int) -> list[int]:
    with session_scope() as s:
        return timelines.public_ids(s, viewer_id=viewer)


def home(viewer: int) -> list[int]:
    with session_scope() as s:
        return timelines.home_ids(s, viewer)


def notices(profile_id: int) -> list[tuple[str, str]]:
    with session_scope() as s:
        return [(n.kind, n.text) for n in notifications.list_notifications(s, profile_id)]


async def _boost(author_id: int, booster_id: int, post_id: int) -> int:
    """A boost row as content's `boost` writes it (kept local so this test stands alone)."""
    with session_scope() as s:
        row = Post(author_id=booster_id, content_html="", reblog_of_id=post_id)
        s.add(row)
        s.flush()
        assert row.id is not None
        return row.id


async def test_mute_hides_their_posts_boosts_and_comments(social, people):
    (alice, a_id), (bob, b_id), (carol, c_id), _ = people
    await social.set_follow(alice, b_id, True)
    await social.set_follow(alice, c_id, True)
    bobs = await social.create_post(bob, "bob says")
    boost = await _boost(b_id, c_id, bobs)
    carols = await social.create_post(carol, "carol says")
    await social.comment(bob, carols, "bob replies")
    await social.comment(carol, carols, "carol replies")
    assert {bobs, boost} <= set(home(a_id))

    await social.mute(alice, b_id)
    assert bobs not in home(a_id) and boost not in home(a_id) and carols in home(a_id)
    assert bobs not in public(a_id) and boost not in public(a_id)
    assert bobs in public(c_id)  # only the one who muted stops seeing them
    _post, thread = await social.post(alice, carols)
    assert [c.author_handle for c in thread] == [HANDLES[c_id]]  # bob's comment is left out
    card = await social.profile(alice, HANDLES[b_id])
    assert card is not None and card.muted and not card.blocked
    assert [m.id for m in await social.muted(alice)] == [b_id]

    await social.unmute(alice, b_id)
    assert bobs in home(a_id)


async def test_mute_expires(social, people):
    (alice, a_id), (bob, b_id), *_ = people
    post = await social.create_post(bob, "hello")
    await social.mute(alice, b_id, hours=2)
    assert post not in public(a_id)
    with session_scope() as s:
        s.exec(sa.update(Mute).values(expires_at=utcnow() - timedelta(minutes=1)))
    assert post in public(a_id)
    assert await social.muted(alice) == []


async def test_mute_notifications_only_when_asked(social, people):
    (alice, a_id), (bob, b_id), (carol, c_id), _ = people
    post = await social.create_post(alice, "hi")
    await social.mute(alice, b_id, notifications=False)
    await social.mute(alice, c_id, notifications=True)
    await social.set_like(bob, post, True)
    await social.set_like(carol, post, True)
    kinds = notices(a_id)
    assert len(kinds) == 1 and kinds[0][0] == "like"  # bob's like reaches alice; carol's does not
    with session_scope() as s:
        actors = s.exec(select(Notification.actor_id).where(Notification.recipient_id == a_id)).all()
    assert actors == [b_id]


async def test_block_works_both_ways_and_ends_follows(social, people):
    (alice, a_id), (bob, b_id), *_ = people
    await social.set_follow(alice, b_id, True)
    await social.set_follow(bob, a_id, True)
    home(a_id), home(b_id)  # both home feeds built: posts are written into them
    alices = await social.create_post(alice, "from alice")
    bobs = await social.create_post(bob, "from bob")
    assert bobs in home(a_id) and alices in home(b_id)
    assert (await social.unread(alice))[1] == 1  # bob followed her
    await social.block(alice, b_id)
    with session_scope() as s:  # the follows ended in bulk: their feed entries went with them
        assert (
            s.exec(select(HomeEntry).where(HomeEntry.viewer_id == a_id, HomeEntry.author_id == b_id)).all()
            == []
        )
        assert (
            s.exec(select(HomeEntry).where(HomeEntry.viewer_id == b_id, HomeEntry.author_id == a_id)).all()
            == []
        )
    await social.unblock(alice, b_id)
    assert bobs not in home(a_id)  # no longer followed, so not in her home, block or not
    await social.block(alice, b_id)
    assert (await social.unread(alice))[1] == 0  # what passed between them goes with the block
    with session_scope() as s:
        assert s.exec(select(Follow)).all() == []
        assert s.get(Profile, a_id).followers_count == 0 and s.get(Profile, b_id).following_count == 0
    assert bobs not in public(a_id) and alices not in public(b_id)  # both directions
    assert await social.post(bob, alices) is None
    with pytest.raises(UserError):
        await social.set_follow(bob, a_id, True)
    with pytest.raises(UserError):
        await social.set_like(bob, alices, True)
    with pytest.raises(UserError):
        await social.comment(bob, alices, "hey")
    await social.create_post(bob, f"@{HANDLES[a_id]} hi")
    assert notices(a_id) == []  # mentions from a blocked profile are dropped
    assert [p.id for p in await social.blocked(alice)] == [b_id]
    await social.unblock(alice, b_id)
    await social.set_follow(bob, a_id, True)


async def test_report_once_per_target(social, people):
    (alice, _), (bob, b_id), *_ = people
    post = await social.create_post(bob, "spam spam")
    await social.report(alice, post_id=post, reason="spam")
    with pytest.raises(UserError, match="already reported"):
        await social.report(alice, post_id=post, reason="still spam")
    await social.report(alice, profile_id=b_id, reason="a spammer")  # the profile is another target
    with pytest.raises(UserError):
        await social.report(alice, post_id=post, reason="   ")
    with session_scope() as s:
        assert len(s.exec(select(Report)).all()) == 2


async def test_queue_methods_are_for_admins_only(social, people):
    (alice, _), (bob, b_id), _, _ = people
    post = await social.create_post(bob, "x")
    report = await social.report(alice, post_id=post, reason="bad")
    for call in (
        social.open_reports(alice),
        social.moderated(alice),
        social.hide_post(alice, post, "r"),
        social.unhide_post(alice, post),
        social.suspend_profile(alice, b_id, "r"),
        social.unsuspend_profile(alice, b_id),
        social.dismiss_report(alice, report),
        social.open_reports(None),
    ):
        with pytest.raises(PermissionDenied):
            await call


async def test_hidden_post_shows_its_reason_to_its_author_only(social, people):
    (alice, a_id), (bob, b_id), _, (admin, _) = people
    post = await social.create_post(bob, "rude words")
    await social.report(alice, post_id=post, reason="rude")
    [row] = await social.open_reports(admin)
    assert row.post_id == post and row.reason == "rude"
    await social.hide_post(admin, post, "breaks rule 2")
    assert await social.open_reports(admin) == []
    assert post not in public(a_id) and await social.post(alice, post) is None
    shown, _ = await social.post(bob, post)
    assert shown.hidden_reason == "breaks rule 2"
    assert post in public(b_id)
    assert notices(b_id) == [("moderation", "hid your post: breaks rule 2")]
    with session_scope() as s:
        assert s.exec(select(AuditEvent.action).where(AuditEvent.action == "social.hide_post")).all()
    await social.unhide_post(admin, post)
    assert post in public(a_id)


async def test_suspended_profile_cannot_post_comment_or_like(social, people):
    (alice, a_id), (bob, b_id), _, (admin, _) = people
    alices = await social.create_post(alice, "hi")
    bobs = await social.create_post(bob, "before")
    await social.suspend_profile(admin, b_id, "spam bot")
    for call in (
        social.create_post(bob, "after"),
        social.comment(bob, alices, "reply"),
        social.set_like(bob, alices, True),
    ):
        with pytest.raises(SocialError, match="suspended: spam bot"):  # insights skip on SocialError
            await call
    assert bobs not in public(a_id)
    card = await social.profile(alice, HANDLES[b_id])
    assert card is not None and card.suspended and card.suspension_reason == "spam bot"
    assert notices(b_id)[0] == ("moderation", "suspended your profile: spam bot")
    with session_scope() as s:
        assert s.exec(select(AuditEvent.action).where(AuditEvent.action == "social.suspend")).all()
    await social.unsuspend_profile(admin, b_id)
    await social.create_post(bob, "back")


async def test_dismissing_a_report_takes_it_off_the_queue(social, people):
    (alice, _), (_bob, b_id), _, (admin, _) = people
    report = await social.report(alice, profile_id=b_id, reason="rude name")
    assert [r.id for r in await social.open_reports(admin)] == [report]
    await social.dismiss_report(admin, report)
    assert await social.open_reports(admin) == []
    await social.report(alice, profile_id=b_id, reason="rude again")  # no open one left: may report again
