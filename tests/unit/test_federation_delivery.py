"""Federation, outgoing (part B): the hooks in the social writes queue the right activities for
the right remote inboxes, and the delivery worker sends them signed, with backoff, per-host
limits, dead and blocked hosts, and nothing lost across a restart."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from clawnet.db import session_scope
from clawnet.enums import Role
from clawnet.errors import PermissionDenied
from clawnet.events import EventBus
from clawnet.models import Follow, Post, PostMention, Profile, utcnow
from clawnet.models.federation import ActorKey, ApObject, Delivery, FederationHost, RemoteActor
from clawnet.security.permissions import Principal
from clawnet.settings import Settings
from clawnet.social.federation import outgoing, signatures
from clawnet.social.federation.delivery import DeliveryWorker
from clawnet.social.federation.service import FederationService
from clawnet.social.service import SocialService
from tests.factories import make_user
from tests.support.fake_http import closed_port_url
from tests.support.fake_inbox import FakeInbox

Person = tuple[Principal, int, str]
FAST = (timedelta(seconds=0.2),)


@pytest.fixture
def settings(migrated: Settings) -> Settings:
    return dataclasses.replace(migrated, federation_allow_private=True)


@pytest.fixture
def svc(settings: Settings) -> SocialService:
    return SocialService(settings, EventBus())


def remote(
    handle: str, inbox: str, *, shared: str = "", bot: bool = False, follows: int | None = None
) -> int:
    """A remote account `handle` (user@host) with its inbox; following `follows` if given."""
    user, host = handle.split("@")
    with session_scope() as s:
        profile = Profile(handle=handle, display_name=user, domain=host, is_bot=bot)
        s.add(profile)
        s.flush()
        assert profile.id is not None
        s.add(
            RemoteActor(
                profile_id=profile.id,
                actor_uri=f"http://{host}/users/{user}",
                domain=host,
                username=user,
                inbox_url=inbox,
                shared_inbox_url=shared,
            )
        )
        if follows is not None:
            s.add(Follow(follower_id=profile.id, followee_id=follows))
        return profile.id


def remote_post(author_id: int, ap_id: str, visibility: str = "public") -> int:
    with session_scope() as s:
        post = Post(author_id=author_id, content_html="<p>hi</p>", content_text="hi", visibility=visibility)
        s.add(post)
        s.flush()
        s.add(ApObject(ap_id=ap_id, post_id=post.id))
        assert post.id is not None
        return post.id


def queued() -> list[Delivery]:
    with session_scope() as s:
        rows = s.exec(select(Delivery).order_by(col(Delivery.id))).all()
        s.expunge_all()
        return list(rows)


def activities() -> list[tuple[str, dict[str, Any]]]:
    return [(d.inbox_url, json.loads(d.body)) for d in queued()]


def admin() -> Principal:
    with session_scope() as s:
        return Principal.of(make_user(s, Role.ADMIN, name="Admin"))


# --- hooks ---------------------------------------------------------------------------------------


async def test_public_post_goes_once_to_each_shared_inbox(svc: SocialService, people: list[Person]) -> None:
    (me, my_id, _), (_, local_follower, _), _ = people
    remote(
        "ann@a.example", "http://a.example/users/ann/inbox", shared="http://a.example/inbox", follows=my_id
    )
    remote(
        "bob@a.example", "http://a.example/users/bob/inbox", shared="http://a.example/inbox", follows=my_id
    )
    remote("cat@b.example", "http://b.example/users/cat/inbox", follows=my_id)
    remote("dan@c.example", "http://c.example/users/dan/inbox")  # neither follower nor mentioned
    with session_scope() as s:
        s.add(Follow(follower_id=local_follower, followee_id=my_id))

    post_id = await svc.create_post(me, "hello fediverse #clawnet")

    sent = activities()
    assert sorted(i for i, _ in sent) == ["http://a.example/inbox", "http://b.example/users/cat/inbox"]
    create = sent[0][1]
    assert create["type"] == "Create" and create["object"]["type"] == "Note"
    assert create["object"]["id"].endswith(f"/ap/posts/{post_id}")
    assert create["id"] == create["object"]["id"] + "/activity"
    assert "https://www.w3.org/ns/activitystreams#Public" in create["to"]
    assert sent[0][1] == sent[1][1]  # the same activity to each inbox


async def test_public_post_mentioning_a_remote_actor_reaches_its_inbox(
    svc: SocialService, settings: Settings, people: list[Person]
) -> None:
    (_, my_id, _), _, _ = people
    dan = remote("dan@c.example", "http://c.example/users/dan/inbox", shared="http://c.example/inbox")
    with session_scope() as s:
        author = s.get(Profile, my_id)
        post = Post(author_id=my_id, content_html="<p>x</p>", content_text="x", visibility="public")
        s.add(post)
        s.flush()
        dan_profile = s.get(Profile, dan)
        assert author is not None and dan_profile is not None
        assert outgoing.post_created(s, settings, author, post, [dan_profile]) == 1
    assert [i for i, _ in activities()] == ["http://c.example/inbox"]


async def test_followers_only_post_goes_to_followers_and_the_mentioned_only(
    svc: SocialService, settings: Settings, people: list[Person]
) -> None:
    (_me, my_id, _), _, _ = people
    remote("ann@a.example", "http://a.example/users/ann/inbox", follows=my_id)
    dan = remote("dan@c.example", "http://c.example/users/dan/inbox")
    remote("eve@e.example", "http://e.example/users/eve/inbox")  # neither follows nor is mentioned
    with session_scope() as s:
        author = s.get(Profile, my_id)
        post = Post(author_id=my_id, content_html="<p>x</p>", content_text="x", visibility="followers")
        s.add(post)
        s.flush()
        s.add(PostMention(post_id=post.id, profile_id=dan))
        dan_profile = s.get(Profile, dan)
        assert author is not None and dan_profile is not None
        outgoing.post_created(s, settings, author, post, [dan_profile])
    sent = activities()
    assert sorted(i for i, _ in sent) == [
        "http://a.example/users/ann/inbox",
        "http://c.example/users/dan/inbox",
    ]
    assert sent[0][1]["to"] == [f"{settings.public_url.rstrip('/')}/ap/users/{people[0][2]}/followers"]
    assert "https://www.w3.org/ns/activitystreams#Public" not in sent[0][1]["cc"]
    assert sent[0][1]["cc"] == ["http://c.example/users/dan"]


async def test_nothing_is_queued_for_a_local_only_audience(svc: SocialService, people: list[Person]) -> None:
    (me, my_id, _), (friend, _friend_id, _), _ = people
    await svc.set_follow(friend, my_id, True)
    post_id = await svc.create_post(me, "just us")
    await svc.set_like(friend, post_id, True)
    await svc.comment(friend, post_id, "nice")
    await svc.boost(friend, post_id)
    await svc.edit_post(me, post_id, "just us, edited")
    await svc.delete_post(me, post_id)
    assert queued() == []


async def test_nothing_is_queued_when_federation_is_off_or_the_profile_opted_out(
    settings: Settings, people: list[Person]
) -> None:
    (me, my_id, _), (other, other_id, _), _ = people
    remote("ann@a.example", "http://a.example/users/ann/inbox", follows=my_id)
    remote("bob@b.example", "http://b.example/users/bob/inbox", follows=other_id)
    off = SocialService(dataclasses.replace(settings, federation_enabled=False), EventBus())
    await off.create_post(me, "federation is off")
    assert queued() == []

    with session_scope() as s:
        profile = s.get(Profile, other_id)
        assert profile is not None
        profile.federated = False
        s.add(profile)
    await SocialService(settings, EventBus()).create_post(other, "I opted out")
    assert queued() == []


async def test_edit_and_delete_send_update_and_a_tombstone(svc: SocialService, people: list[Person]) -> None:
    (me, my_id, _), _, _ = people
    remote("ann@a.example", "http://a.example/users/ann/inbox", follows=my_id)
    post_id = await svc.create_post(me, "first", spoiler_text="spoilers")
    await svc.edit_post(me, post_id, "second")
    await svc.delete_post(me, post_id)
    kinds = [a["type"] for _, a in activities()]
    assert kinds == ["Create", "Update", "Delete"]
    create, update, delete = (a for _, a in activities())
    assert create["object"]["summary"] == "spoilers" and create["object"]["sensitive"] is True
    assert update["object"]["content"].startswith("<p>second")
    assert delete["object"] == {"id": create["object"]["id"], "type": "Tombstone"}


async def test_comment_on_a_remote_post_goes_to_its_author_with_in_reply_to(
    svc: SocialService, people: list[Person]
) -> None:
    (me, my_id, _), _, _ = people
    ann = remote("ann@a.example", "http://a.example/users/ann/inbox", shared="http://a.example/inbox")
    remote("bob@b.example", "http://b.example/users/bob/inbox", follows=my_id)
    post_id = remote_post(ann, "http://a.example/notes/1")
    comment_id = await svc.comment(me, post_id, "a reply")
    sent = activities()
    assert sorted(i for i, _ in sent) == ["http://a.example/inbox", "http://b.example/users/bob/inbox"]
    note = sent[0][1]["object"]
    assert sent[0][1]["type"] == "Create" and note["inReplyTo"] == "http://a.example/notes/1"
    await svc.delete_comment(me, comment_id)
    deletes = [a for _, a in activities() if a["type"] == "Delete"]
    assert len(deletes) == 2 and deletes[0]["object"]["id"] == note["id"]


async def test_like_and_unlike_of_a_remote_post_go_to_its_author(
    svc: SocialService, people: list[Person]
) -> None:
    (me, _, _), _, _ = people
    ann = remote("ann@a.example", "http://a.example/users/ann/inbox", shared="http://a.example/inbox")
    post_id = remote_post(ann, "http://a.example/notes/1")
    await svc.set_like(me, post_id, True)
    await svc.set_like(me, post_id, True)  # idempotent: one Like
    await svc.set_like(me, post_id, False)
    (inbox1, like), (inbox2, undo) = activities()
    assert inbox1 == inbox2 == "http://a.example/users/ann/inbox"  # the actor's own inbox
    assert like["type"] == "Like" and like["object"] == "http://a.example/notes/1"
    assert undo["type"] == "Undo" and undo["object"]["id"] == like["id"]


async def test_a_like_made_again_after_an_undo_has_a_new_id(svc: SocialService, people: list[Person]) -> None:
    """Inboxes drop an activity id they have seen: like, unlike, like again must send a new one."""
    (me, _, _), _, _ = people
    ann = remote("ann@a.example", "http://a.example/users/ann/inbox")
    post_id = remote_post(ann, "http://a.example/notes/1")
    await svc.set_like(me, post_id, True)
    await svc.set_like(me, post_id, False)
    await asyncio.sleep(0.01)  # ids carry the like's creation time in milliseconds
    await svc.set_like(me, post_id, True)
    (_, first), (_, undo), (_, again) = activities()
    assert undo["object"]["id"] == first["id"] != again["id"]


async def test_boost_and_unboost_go_to_followers_and_the_original_author(
    svc: SocialService, people: list[Person]
) -> None:
    (me, my_id, _), _, _ = people
    ann = remote("ann@a.example", "http://a.example/users/ann/inbox")
    remote("bob@b.example", "http://b.example/users/bob/inbox", follows=my_id)
    post_id = remote_post(ann, "http://a.example/notes/1")
    await svc.boost(me, post_id)
    await svc.unboost(me, post_id)
    sent = activities()
    announces = [a for _, a in sent if a["type"] == "Announce"]
    undos = [a for _, a in sent if a["type"] == "Undo"]
    assert sorted({i for i, _ in sent}) == [
        "http://a.example/users/ann/inbox",
        "http://b.example/users/bob/inbox",
    ]
    assert len(announces) == 2 and len(undos) == 2
    assert announces[0]["object"] == "http://a.example/notes/1"
    assert undos[0]["object"]["id"] == announces[0]["id"]


async def test_follow_and_unfollow_of_a_remote_account(svc: SocialService, people: list[Person]) -> None:
    (me, _, _), _, _ = people
    ann = remote("ann@a.example", "http://a.example/users/ann/inbox", shared="http://a.example/inbox")
    await svc.set_follow(me, ann, True)
    await svc.set_follow(me, ann, False)
    (inbox1, follow), (inbox2, undo) = activities()
    assert inbox1 == inbox2 == "http://a.example/users/ann/inbox"
    assert follow["type"] == "Follow" and follow["object"] == "http://a.example/users/ann"
    assert (
        undo["type"] == "Undo" and undo["object"]["type"] == "Follow" and undo["object"]["id"] == follow["id"]
    )


async def test_profile_edit_sends_update_person(svc: SocialService, people: list[Person]) -> None:
    (me, my_id, _), _, _ = people
    remote("ann@a.example", "http://a.example/users/ann/inbox", follows=my_id)
    await svc.update_profile(me, display_name="New Name", bio="hello")
    ((_, update),) = activities()
    assert update["type"] == "Update" and update["object"]["type"] == "Person"
    assert update["object"]["name"] == "New Name"


async def test_accept_answers_a_remote_follow(settings: Settings, people: list[Person]) -> None:
    (_, my_id, _), _, _ = people
    remote("ann@a.example", "http://a.example/users/ann/inbox", shared="http://a.example/inbox")
    follow = {"id": "http://a.example/follows/9", "type": "Follow", "actor": "http://a.example/users/ann"}
    with session_scope() as s:
        me = s.get(Profile, my_id)
        assert me is not None
        assert outgoing.accept(s, settings, me, follow) == 1
        assert outgoing.reject(s, settings, me, follow) == 1
    (inbox, accept), (_, reject) = activities()
    assert inbox == "http://a.example/users/ann/inbox"
    assert accept["type"] == "Accept" and accept["object"]["id"] == "http://a.example/follows/9"
    assert reject["type"] == "Reject"


async def test_a_hook_with_no_remote_audience_costs_one_query(
    settings: Settings, people: list[Person]
) -> None:
    import sqlalchemy as sa

    (_, my_id, _), _, _ = people
    with session_scope() as s:
        author = s.get(Profile, my_id)
        post = Post(author_id=my_id, content_html="<p>x</p>", content_text="x", visibility="public")
        s.add(post)
        s.flush()
        assert author is not None
        statements: list[str] = []
        bind = s.get_bind()
        engine = bind.engine if isinstance(bind, sa.engine.Connection) else bind

        def count(*args: object) -> None:
            statements.append(str(args[2]))

        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            assert outgoing.post_created(s, settings, author, post, []) == 0
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 1


# --- the delivery worker ----------------------------------------------------------------------------


def _public_key(profile_id: int) -> str:
    with session_scope() as s:
        return s.exec(select(ActorKey.public_key_pem).where(ActorKey.profile_id == profile_id)).one()


async def test_worker_delivers_with_a_valid_signature(
    svc: SocialService, settings: Settings, people: list[Person]
) -> None:
    (me, my_id, _), _, _ = people
    with FakeInbox() as server:
        remote("ann@" + server.host, server.inbox("users/ann/inbox"), follows=my_id)
        await svc.create_post(me, "signed")
        await DeliveryWorker(settings).drain()
        (request,) = server.requests
    assert request.headers["content-type"] == "application/activity+json"
    signatures.verify("POST", request.path, request.headers, request.body, _public_key(my_id))
    assert json.loads(request.body)["type"] == "Create"
    (row,) = queued()
    assert row.state == "done" and row.attempts == 1 and row.delivered_at is not None
    with session_scope() as s:
        host = s.exec(select(FederationHost).where(FederationHost.host == server.host)).one()
        assert host.failures == 0 and host.last_success_at is not None


async def test_a_tampered_delivery_does_not_verify(
    svc: SocialService, settings: Settings, people: list[Person]
) -> None:
    (me, my_id, _), _, _ = people
    with FakeInbox() as server:
        remote("ann@" + server.host, server.inbox(), follows=my_id)
        await svc.create_post(me, "signed")
        await DeliveryWorker(settings).drain()
        (request,) = server.requests
    with pytest.raises(signatures.SignatureError):
        signatures.verify("POST", request.path, request.headers, request.body + b" ", _public_key(my_id))


async def test_worker_retries_after_a_500_with_backoff(
    svc: SocialService, settings: Settings, people: list[Person]
) -> None:
    (me, my_id, _), _, _ = people
    with FakeInbox(statuses=[500]) as server:
        remote("ann@" + server.host, server.inbox(), follows=my_id)
        await svc.create_post(me, "retry me")
        worker = DeliveryWorker(settings, backoff=(timedelta(seconds=30),))
        before = utcnow()
        await worker.drain()
        (row,) = queued()
        assert row.state == "pending" and row.attempts == 1 and "HTTP 500" in row.last_error
        wait = row.next_attempt_at - before
        assert timedelta(seconds=29) < wait < timedelta(seconds=40)
        await worker.drain()  # not due yet: nothing sent
        assert len(server.requests) == 1
        with session_scope() as s:
            s.get(Delivery, row.id).next_attempt_at = utcnow()  # type: ignore[union-attr]
        await worker.drain()
        await worker.stop()
        assert len(server.requests) == 2
    (row,) = queued()
    assert row.state == "done" and row.attempts == 2


async def test_backoff_grows_and_gives_up_after_48_hours(settings: Settings, people: list[Person]) -> None:
    (_, my_id, _), _, _ = people
    url = closed_port_url()
    with session_scope() as s:
        s.add(
            Delivery(
                activity_id="x",
                inbox_url=url + "/inbox",
                host=url.split("//")[1],
                sender_profile_id=my_id,
                body="{}",
                created_at=utcnow() - timedelta(hours=47, minutes=58),
            )
        )
    worker = DeliveryWorker(settings)  # the real schedule: 1 min first
    await worker.drain()
    (row,) = queued()
    assert row.state == "pending" and row.attempts == 1 and "ConnectError" in row.last_error
    with session_scope() as s:
        s.get(Delivery, row.id).next_attempt_at = utcnow()  # type: ignore[union-attr]
    await worker.drain()  # the next wait (5 min) would pass 48 h: dead
    await worker.stop()
    (row,) = queued()
    assert row.state == "dead" and row.attempts == 2


async def test_a_permanent_4xx_makes_the_delivery_dead(
    svc: SocialService, settings: Settings, people: list[Person]
) -> None:
    (me, my_id, _), _, _ = people
    with FakeInbox(statuses=[403]) as server:
        remote("ann@" + server.host, server.inbox(), follows=my_id)
        await svc.create_post(me, "refused")
        worker = DeliveryWorker(settings, backoff=(timedelta(0),))
        await worker.drain()
        await worker.drain()
        await worker.stop()
        assert len(server.requests) == 1
    (row,) = queued()
    assert row.state == "dead" and "HTTP 403" in row.last_error


async def test_429_is_retried_not_dead(svc: SocialService, settings: Settings, people: list[Person]) -> None:
    (me, my_id, _), _, _ = people
    with FakeInbox(statuses=[429]) as server:
        remote("ann@" + server.host, server.inbox(), follows=my_id)
        await svc.create_post(me, "slow down")
        worker = DeliveryWorker(settings, backoff=(timedelta(0),))
        await worker.drain()
        await worker.drain()
        await worker.stop()
    (row,) = queued()
    assert row.state == "done" and row.attempts == 2


async def test_at_most_four_requests_to_one_host_at_once(
    svc: SocialService, settings: Settings, people: list[Person]
) -> None:
    (me, my_id, _), _, _ = people
    with FakeInbox(delay=0.15) as busy, FakeInbox(delay=0.15) as other:
        for n in range(12):
            remote(f"u{n}@{busy.host}", busy.inbox(f"users/u{n}/inbox"), follows=my_id)
        for n in range(3):
            remote(f"v{n}@{other.host}", other.inbox(f"users/v{n}/inbox"), follows=my_id)
        await svc.create_post(me, "fan out")
        worker = DeliveryWorker(settings)
        await worker.drain()
        await worker.stop()
        assert len(busy.requests) == 12 and len(other.requests) == 3
        assert busy.max_concurrent == 4
        assert other.max_concurrent == 3  # the other host is not starved meanwhile
    assert {d.state for d in queued()} == {"done"}


async def test_overall_limit(svc: SocialService, settings: Settings, people: list[Person]) -> None:
    (me, my_id, _), _, _ = people
    with FakeInbox(delay=0.1) as server:
        for n in range(8):
            remote(f"u{n}@{server.host}", server.inbox(f"users/u{n}/inbox"), follows=my_id)
        await svc.create_post(me, "fan out")
        worker = DeliveryWorker(settings, overall=2)
        await worker.drain()
        await worker.stop()
        assert server.max_concurrent == 2 and len(server.requests) == 8


async def test_a_host_down_for_a_while_gets_every_delivery_after_a_restart(
    svc: SocialService, settings: Settings, people: list[Person]
) -> None:
    (me, my_id, _), _, _ = people
    with FakeInbox() as server:
        port = server.port
        remote("ann@" + server.host, server.inbox(), follows=my_id)
    # The receiving server is down: three posts fail and wait for their retry.
    for n in range(3):
        await svc.create_post(me, f"post {n}")
    first = DeliveryWorker(settings, backoff=(timedelta(seconds=0.3),))
    await first.drain()
    await first.stop()  # this process stops ("restart")
    assert [d.state for d in queued()] == ["pending"] * 3
    with session_scope() as s:
        host = s.exec(select(FederationHost).where(FederationHost.host == f"127.0.0.1:{port}")).one()
        assert host.failures == 3 and "ConnectError" in host.last_error

    with _on_port(FakeInbox(), port) as server:
        await asyncio.sleep(0.35)
        second = DeliveryWorker(settings, backoff=(timedelta(seconds=0.3),))  # a new process
        await second.drain()
        await second.stop()
        texts = sorted(json.loads(r.body)["object"]["content"] for r in server.requests)
    assert len(texts) == 3 and all("post" in t for t in texts)
    assert [d.state for d in queued()] == ["done"] * 3


def _on_port(fake: FakeInbox, port: int) -> FakeInbox:
    """Start `fake` on a given port (the same address as a server that went away)."""

    def run() -> None:
        fake._loop = asyncio.new_event_loop()
        fake._server = fake._loop.run_until_complete(asyncio.start_server(fake._handle, "127.0.0.1", port))
        fake.port = port
        fake._ready.set()
        fake._loop.run_forever()

    fake._run = run  # type: ignore[method-assign]
    return fake


async def test_the_running_worker_wakes_at_once_after_a_write(
    svc: SocialService, settings: Settings, people: list[Person]
) -> None:
    (me, my_id, _), _, _ = people
    with FakeInbox() as server:
        remote("ann@" + server.host, server.inbox(), follows=my_id)
        worker = DeliveryWorker(settings, poll_s=30)  # no poll would come in time
        task = asyncio.create_task(worker.run())
        await asyncio.sleep(0.2)
        await svc.create_post(me, "wake up")
        for _ in range(50):
            if server.requests:
                break
            await asyncio.sleep(0.05)
        await worker.stop()
        task.cancel()
        assert len(server.requests) == 1


# --- hosts: block, dead, retry ----------------------------------------------------------------------


async def test_a_blocked_host_gets_nothing_and_its_posts_leave_timelines(
    svc: SocialService, settings: Settings, people: list[Person]
) -> None:
    (me, my_id, _), (reader, _, _), _ = people
    fed = FederationService(settings, EventBus())
    boss = admin()
    with FakeInbox() as server:
        ann = remote("ann@" + server.host, server.inbox(), follows=my_id)
        remote_post(ann, f"http://{server.host}/notes/1")
        assert len(await svc.timeline(reader, "public")) == 1
        await svc.create_post(me, "before the block")
        await fed.block_host(boss, server.host, "spam")
        await svc.create_post(me, "after the block")
        worker = DeliveryWorker(settings)
        await worker.drain()
        await worker.stop()
        assert server.requests == []
    assert {(d.state, d.last_error) for d in queued()} == {("dead", "host blocked")}
    assert all(p.author_id != ann for p in await svc.timeline(reader, "public"))
    (view,) = [h for h in await fed.hosts(boss) if h.host == server.host]
    assert view.state == "blocked" and view.block_reason == "spam" and view.dead == 2

    await fed.unblock_host(boss, server.host)
    assert any(p.author_id == ann for p in await svc.timeline(reader, "public"))


async def test_a_host_failing_for_48_hours_is_dead_until_an_admin_retries_it(
    svc: SocialService, settings: Settings, people: list[Person]
) -> None:
    (me, my_id, _), _, _ = people
    fed = FederationService(settings, EventBus())
    boss = admin()
    with FakeInbox(statuses=[503]) as server:
        remote("ann@" + server.host, server.inbox(), follows=my_id)
        with session_scope() as s:
            s.add(
                FederationHost(host=server.host, failures=40, first_failure_at=utcnow() - timedelta(hours=49))
            )
        await svc.create_post(me, "one")
        worker = DeliveryWorker(settings, backoff=(timedelta(0),))
        await worker.drain()  # fails (503): the host has now failed for over 48 h
        (view,) = await fed.hosts(boss)
        assert view.state == "dead" and view.pending == 1
        await svc.create_post(me, "two")
        await worker.drain()
        assert len(server.requests) == 1  # a dead host's deliveries wait

        assert await fed.retry_host(boss, server.host) == 2
        await worker.drain()
        await worker.stop()
        assert len(server.requests) == 3
    assert {d.state for d in queued()} == {"done"}
    (view,) = await fed.hosts(boss)
    assert view.state == "ok" and view.delivered == 2


async def test_hosts_are_for_admins_only(settings: Settings, people: list[Person]) -> None:
    (member, _, _), _, _ = people
    fed = FederationService(settings, EventBus())
    with pytest.raises(PermissionDenied):
        await fed.hosts(member)
    with pytest.raises(PermissionDenied):
        await fed.block_host(member, "a.example", "no")


async def test_the_leader_starts_and_stops_the_delivery_worker(migrated: Settings) -> None:
    from clawnet import runtime
    from clawnet.social.federation import delivery

    runtime._start_deliveries()
    try:
        await asyncio.sleep(0.1)
        assert delivery._current is not None  # running: writes wake it
    finally:
        await runtime._stop_deliveries()
    assert delivery._current is None and runtime._deliveries is None
