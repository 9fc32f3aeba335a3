"""The ActivityPub inbox (part C): signature refusals, de-duplication, each activity applied,
sanitizing, host blocks, federation off, and remote accounts found by address.

Remote servers are faked: their documents are served by a stand-in for `remote.get_json`, and
their requests are signed with `signatures.sign` as a real server would."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import pytest
from sqlmodel import col, select
from starlette.datastructures import Headers

from clawnet.db import session_scope
from clawnet.events import EventBus
from clawnet.models import Comment, Follow, Like, Notification, Post, PostEdit, PostMention, PostTag, Profile
from clawnet.models.federation import ApObject, FederationHost, RemoteActor
from clawnet.security.permissions import Principal
from clawnet.settings import Settings, get_settings
from clawnet.social.federation import inbox_base, remote, signatures, urls
from clawnet.social.federation.service import FederationService
from clawnet.social.service import SocialService

HOST = "remote.example"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


@cache
def _pair(n: int) -> tuple[str, str]:
    return signatures.new_key_pair()


class FakeActor:
    def __init__(self, name: str, kind: str = "Person", host: str = HOST, key: int = 0) -> None:
        self.name, self.kind, self.host = name, kind, host
        self.uri = f"https://{host}/users/{name}"
        self.key_id = self.uri + "#main-key"
        self.public, self.private = _pair(key)
        self.n = 0

    def doc(self) -> dict[str, Any]:
        return {
            "id": self.uri,
            "type": self.kind,
            "preferredUsername": self.name,
            "name": f"{self.name.title()} <b>Remote</b>",
            "summary": "<p>Hello<script>alert(1)</script></p>",
            "inbox": self.uri + "/inbox",
            "outbox": self.uri + "/outbox",
            "followers": self.uri + "/followers",
            "endpoints": {"sharedInbox": f"https://{self.host}/inbox"},
            "url": f"https://{self.host}/@{self.name}",
            "publicKey": {"id": self.key_id, "owner": self.uri, "publicKeyPem": self.public},
        }

    def new_id(self, what: str = "activities") -> str:
        self.n += 1
        return f"{self.uri}/{what}/{self.n}"

    def note(self, content: str, **extra: Any) -> dict[str, Any]:
        return {
            "id": self.new_id("statuses"),
            "type": "Note",
            "attributedTo": self.uri,
            "content": content,
            "to": [PUBLIC],
            "cc": [self.uri + "/followers"],
            **extra,
        }

    def activity(self, kind: str, obj: Any, **extra: Any) -> dict[str, Any]:
        return {"id": self.new_id(), "type": kind, "actor": self.uri, "object": obj, **extra}


class Fed:
    def __init__(self, settings: Settings, directory: dict[str, dict[str, Any]]) -> None:
        self.settings = settings
        self.directory = directory
        self.service = FederationService(settings, EventBus())
        self.social = SocialService(settings, EventBus())
        self.accepts: list[tuple[str, dict[str, Any]]] = []
        self.rejects: list[tuple[str, dict[str, Any]]] = []

    def serve(self, actor: FakeActor) -> FakeActor:
        self.directory[actor.uri] = actor.doc()
        webfinger = f"https://{actor.host}/.well-known/webfinger?resource=acct:{actor.name}@{actor.host}"
        self.directory[webfinger] = {
            "subject": f"acct:{actor.name}@{actor.host}",
            "links": [{"rel": "self", "type": "application/activity+json", "href": actor.uri}],
        }
        return actor

    async def deliver(
        self,
        actor: FakeActor,
        activity: dict[str, Any],
        *,
        path: str = urls.SHARED_INBOX_PATH,
        handle: str | None = None,
        private: str | None = None,
        now: datetime | None = None,
        tamper: bool = False,
        unsigned: bool = False,
    ) -> tuple[int, str]:
        body = json.dumps(activity).encode()
        headers = signatures.sign(
            "POST",
            urls.base(self.settings) + path,
            body,
            actor.key_id,
            private or actor.private,
            content_type="application/activity+json",
            now=now,
        )
        if unsigned:
            headers.pop("Signature")
        if tamper:
            body = body.replace(b"Note", b"Nope")
        return await self.service.receive(handle, "POST", path, Headers(headers), body)


@pytest.fixture
def fed(migrated: Settings, monkeypatch: pytest.MonkeyPatch) -> Fed:
    directory: dict[str, dict[str, Any]] = {}

    async def get_json(settings: Settings, url: str, accept: str = "") -> dict[str, Any]:
        if url not in directory:
            raise remote.RemoteError(f"{url} answered 404.")
        return json.loads(json.dumps(directory[url]))

    monkeypatch.setattr(remote, "get_json", get_json)
    state = Fed(get_settings(), directory)
    monkeypatch.setattr(
        inbox_base, "send_accept", lambda s, st, local, act: state.accepts.append((local.handle, act))
    )
    monkeypatch.setattr(
        inbox_base, "send_reject", lambda s, st, local, act: state.rejects.append((local.handle, act))
    )
    return state


def _profile(handle: str) -> Profile:
    with session_scope() as s:
        return s.exec(select(Profile).where(Profile.handle == handle)).one()


def _notifications(recipient: int, kind: str) -> list[Notification]:
    with session_scope() as s:
        return list(
            s.exec(
                select(Notification).where(Notification.recipient_id == recipient, Notification.kind == kind)
            )
        )


def _post(post_id: int) -> Post:
    with session_scope() as s:
        post = s.get(Post, post_id)
        assert post is not None
        return post


def _mapped_post(ap_id: str) -> Post | None:
    with session_scope() as s:
        row = s.exec(select(ApObject).where(ApObject.ap_id == ap_id)).first()
        return s.get(Post, row.post_id) if row is not None and row.post_id else None


People = list[tuple[Principal, int, str]]


# --- signatures --------------------------------------------------------------------------------


async def test_signed_activity_is_accepted_and_the_signer_stored(fed: Fed, people: People) -> None:
    alice = fed.serve(FakeActor("alice"))
    status, _ = await fed.deliver(alice, alice.activity("Create", alice.note("<p>hi</p>")))
    assert status == 202
    stored = _profile(f"alice@{HOST}")
    assert stored.domain == HOST and stored.user_id is None and not stored.is_bot
    assert "<script>" not in stored.bio_html and stored.bio_html.startswith("<p>Hello")
    assert stored.display_name == "Alice <b>Remote</b>"  # plain text, shown escaped
    with session_scope() as s:
        row = s.exec(select(RemoteActor).where(RemoteActor.actor_uri == alice.uri)).one()
        assert row.inbox_url == alice.uri + "/inbox" and row.shared_inbox_url == f"https://{HOST}/inbox"
        assert row.public_key_pem == alice.public


async def test_tampered_body_is_refused(fed: Fed, people: People) -> None:
    alice = fed.serve(FakeActor("alice"))
    note = alice.note("<p>hi</p>")
    status, message = await fed.deliver(alice, alice.activity("Create", note), tamper=True)
    assert status == 401 and "Digest" in message
    assert _mapped_post(note["id"]) is None


async def test_wrong_key_is_refused(fed: Fed, people: People) -> None:
    alice = fed.serve(FakeActor("alice"))
    _, other_private = _pair(1)
    note = alice.note("<p>forged</p>")
    status, message = await fed.deliver(alice, alice.activity("Create", note), private=other_private)
    assert status == 401 and "does not verify" in message
    assert _mapped_post(note["id"]) is None


async def test_replayed_stale_date_is_refused(fed: Fed, people: People) -> None:
    alice = fed.serve(FakeActor("alice"))
    old = datetime.now(UTC) - timedelta(hours=2)
    status, message = await fed.deliver(alice, alice.activity("Create", alice.note("<p>old</p>")), now=old)
    assert status == 401 and "too far from now" in message


async def test_missing_signature_is_refused(fed: Fed, people: People) -> None:
    alice = fed.serve(FakeActor("alice"))
    status, message = await fed.deliver(alice, alice.activity("Create", alice.note("x")), unsigned=True)
    assert status == 401 and "not signed" in message


async def test_actor_other_than_the_key_owner_is_refused(fed: Fed, people: People) -> None:
    alice = fed.serve(FakeActor("alice"))
    mallory = fed.serve(FakeActor("mallory", key=1))
    forged = mallory.activity("Create", alice.note("<p>in alice's name</p>"))
    forged["actor"] = alice.uri
    status, message = await fed.deliver(mallory, forged)
    assert status == 401 and "not the key's owner" in message


async def test_rotated_key_is_fetched_again_once(fed: Fed, people: People) -> None:
    alice = fed.serve(FakeActor("alice"))
    assert (await fed.deliver(alice, alice.activity("Create", alice.note("one"))))[0] == 202
    alice.public, alice.private = _pair(2)  # the remote server rotated alice's key
    fed.serve(alice)
    assert (await fed.deliver(alice, alice.activity("Create", alice.note("two"))))[0] == 202


async def test_body_too_large_and_not_json(fed: Fed, people: People) -> None:
    status, _ = await fed.service.receive(None, "POST", "/ap/inbox", Headers({}), b"x" * (1024 * 1024 + 1))
    assert status == 413
    status, _ = await fed.service.receive(None, "POST", "/ap/inbox", Headers({}), b"not json")
    assert status == 400


# --- de-duplication, blocks, federation off ------------------------------------------------------


async def test_repeated_activity_is_applied_once(fed: Fed, people: People) -> None:
    p0, p0_id, _ = people[0]
    post_id = await fed.social.create_post(p0, "like me")
    alice = fed.serve(FakeActor("alice"))
    like = alice.activity("Like", urls.post_note(fed.settings, post_id))
    assert await fed.deliver(alice, like) == (202, "Liked.")
    assert await fed.deliver(alice, like) == (202, "Already received.")
    assert _post(post_id).like_count == 1
    assert len(_notifications(p0_id, "like")) == 1


async def test_blocked_host_is_refused(fed: Fed, people: People) -> None:
    with session_scope() as s:
        s.add(FederationHost(host=HOST, blocked=True, block_reason="spam"))
    alice = fed.serve(FakeActor("alice"))
    note = alice.note("<p>spam</p>")
    status, message = await fed.deliver(alice, alice.activity("Create", note))
    assert status == 403 and HOST in message
    assert _mapped_post(note["id"]) is None


async def test_a_host_given_up_on_is_revived_when_it_writes_to_us(fed: Fed, people: People) -> None:
    from clawnet.models import utcnow

    with session_scope() as s:
        s.add(FederationHost(host=HOST, failures=9, dead_at=utcnow(), last_error="HTTP 502"))
    alice = fed.serve(FakeActor("alice"))
    status, _ = await fed.deliver(alice, alice.activity("Create", alice.note("<p>back</p>")))
    assert status == 202
    with session_scope() as s:
        host = s.exec(select(FederationHost).where(FederationHost.host == HOST)).one()
        assert (host.dead_at, host.failures, host.last_error) == (None, 0, "")


async def test_federation_off_refuses_everything(fed: Fed, people: People) -> None:
    fed.service = FederationService(dataclasses.replace(fed.settings, federation_enabled=False), EventBus())
    alice = fed.serve(FakeActor("alice"))
    status, _ = await fed.deliver(alice, alice.activity("Create", alice.note("x")))
    assert status == 404


async def test_unknown_actor_inbox_is_404(fed: Fed, people: People) -> None:
    alice = fed.serve(FakeActor("alice"))
    status, _ = await fed.deliver(
        alice, alice.activity("Create", alice.note("x")), path="/ap/users/nobody/inbox", handle="nobody"
    )
    assert status == 404


# --- follows -------------------------------------------------------------------------------------


async def test_follow_makes_a_follow_and_queues_accept(fed: Fed, people: People) -> None:
    _, p0_id, p0_handle = people[0]
    alice = fed.serve(FakeActor("alice"))
    follow = alice.activity("Follow", urls.actor(fed.settings, p0_handle))
    path = f"/ap/users/{p0_handle}/inbox"
    assert await fed.deliver(alice, follow, path=path, handle=p0_handle) == (202, "Follow accepted.")
    remote_id = _profile(f"alice@{HOST}").id
    with session_scope() as s:
        assert s.exec(
            select(Follow).where(Follow.follower_id == remote_id, Follow.followee_id == p0_id)
        ).one()
    assert _profile(p0_handle).followers_count == 1
    assert fed.accepts == [(p0_handle, follow)]
    assert len(_notifications(p0_id, "follow")) == 1
    undo = alice.activity("Undo", follow)
    assert (await fed.deliver(alice, undo))[0] == 202
    assert _profile(p0_handle).followers_count == 0


async def test_follow_of_a_non_federated_profile_is_rejected(fed: Fed, people: People) -> None:
    _, p0_id, p0_handle = people[0]
    with session_scope() as s:
        profile = s.get(Profile, p0_id)
        assert profile is not None
        profile.federated = False
        s.add(profile)
    alice = fed.serve(FakeActor("alice"))
    follow = alice.activity("Follow", urls.actor(fed.settings, p0_handle))
    assert await fed.deliver(alice, follow) == (202, "Follow rejected.")
    assert fed.rejects == [(p0_handle, follow)] and fed.accepts == []
    assert _profile(p0_handle).followers_count == 0


async def test_follow_remote_by_address_and_reject(fed: Fed, people: People) -> None:
    p0, p0_id, _ = people[0]
    bot = fed.serve(FakeActor("newsbot", kind="Service"))
    card = await fed.service.remote_profile(p0, "@newsbot@remote.example")
    assert card.handle == f"newsbot@{HOST}" and card.is_bot and not card.following
    await fed.service.follow_remote(p0, "newsbot@remote.example")
    assert _profile(f"newsbot@{HOST}").followers_count == 1
    our_follow_id = f"{urls.actor(fed.settings, people[0][2])}#follows/7"  # by id, as Mastodon may send
    assert (await fed.deliver(bot, bot.activity("Reject", our_follow_id)))[0] == 202
    with session_scope() as s:
        assert s.exec(select(Follow).where(Follow.follower_id == p0_id)).first() is None
    with pytest.raises(remote.RemoteError, match="No account at that address"):
        await fed.service.remote_profile(p0, "nobody@remote.example")


# --- notes ---------------------------------------------------------------------------------------


async def test_create_reaches_the_followers_home_timeline(fed: Fed, people: People) -> None:
    p0, _, _ = people[0]
    alice = fed.serve(FakeActor("alice"))
    await fed.service.follow_remote(p0, "alice@remote.example")
    note = alice.note("<p>Hello from afar #Fediverse</p>", tag=[{"type": "Hashtag", "name": "#Fediverse"}])
    assert await fed.deliver(alice, alice.activity("Create", note)) == (202, "Post created.")
    home = await fed.social.timeline(p0, "home")
    assert [p.text for p in home][:1] == ["Hello from afar #Fediverse"]
    post = _mapped_post(note["id"])
    assert post is not None and post.visibility == "public"
    assert _profile(f"alice@{HOST}").posts_count == 1
    with session_scope() as s:
        assert s.exec(select(PostTag).where(PostTag.post_id == post.id)).first() is not None


async def test_followers_only_note_and_content_warning(fed: Fed, people: People) -> None:
    alice = fed.serve(FakeActor("alice"))
    note = alice.note(
        "<p>quiet</p>", to=[alice.uri + "/followers"], cc=[], summary="spoilers", sensitive=True
    )
    await fed.deliver(alice, alice.activity("Create", note))
    post = _mapped_post(note["id"])
    assert post is not None and post.visibility == "followers" and post.spoiler_text == "spoilers"


async def test_script_in_remote_content_is_removed(fed: Fed, people: People) -> None:
    alice = fed.serve(FakeActor("alice"))
    note = alice.note('<p>hi<script>alert("x")</script><img src=x onerror=alert(1)></p>')
    await fed.deliver(alice, alice.activity("Create", note))
    post = _mapped_post(note["id"])
    assert post is not None
    assert "<script" not in post.content_html and "onerror" not in post.content_html
    assert "<img" not in post.content_html


async def test_mention_of_a_local_profile(fed: Fed, people: People) -> None:
    _, p1_id, p1_handle = people[1]
    alice = fed.serve(FakeActor("alice"))
    href = urls.actor(fed.settings, p1_handle)
    note = alice.note(f"<p>@{p1_handle} hi</p>", tag=[{"type": "Mention", "href": href}], cc=[href])
    await fed.deliver(alice, alice.activity("Create", note))
    post = _mapped_post(note["id"])
    assert post is not None
    with session_scope() as s:
        assert s.exec(select(PostMention).where(PostMention.post_id == post.id)).one().profile_id == p1_id
    assert len(_notifications(p1_id, "mention")) == 1


async def test_reply_to_a_local_post_becomes_a_comment(fed: Fed, people: People) -> None:
    p0, p0_id, _ = people[0]
    post_id = await fed.social.create_post(p0, "question?")
    alice = fed.serve(FakeActor("alice"))
    reply = alice.note("<p>answer</p>", inReplyTo=urls.post_note(fed.settings, post_id))
    assert await fed.deliver(alice, alice.activity("Create", reply)) == (202, "Reply created.")
    assert _post(post_id).reply_count == 1
    assert len(_notifications(p0_id, "reply")) == 1
    # a reply to that reply threads under it
    again = alice.note("<p>more</p>", inReplyTo=reply["id"])
    await fed.deliver(alice, alice.activity("Create", again))
    with session_scope() as s:
        rows = s.exec(select(Comment).where(Comment.post_id == post_id).order_by(col(Comment.id))).all()
        assert len(rows) == 2 and rows[1].parent_id == rows[0].id
    assert _post(post_id).reply_count == 2


async def test_update_note_keeps_history_and_only_its_author_may(fed: Fed, people: People) -> None:
    alice = fed.serve(FakeActor("alice"))
    mallory = fed.serve(FakeActor("mallory", key=1))
    note = alice.note("<p>first</p>")
    await fed.deliver(alice, alice.activity("Create", note))
    edited = {**note, "content": "<p>second</p>"}
    assert await fed.deliver(alice, alice.activity("Update", edited)) == (202, "Post updated.")
    post = _mapped_post(note["id"])
    assert post is not None and post.content_html == "<p>second</p>" and post.edited_at is not None
    with session_scope() as s:
        assert [e.content_html for e in s.exec(select(PostEdit).where(PostEdit.post_id == post.id))] == [
            "<p>first</p>"
        ]
    status, _ = await fed.deliver(mallory, mallory.activity("Update", {**note, "content": "<p>hacked</p>"}))
    assert status == 403
    assert (_mapped_post(note["id"]) or post).content_html == "<p>second</p>"


async def test_update_person_refreshes_the_profile(fed: Fed, people: People) -> None:
    alice = fed.serve(FakeActor("alice"))
    await fed.deliver(alice, alice.activity("Create", alice.note("x")))
    doc = {**alice.doc(), "name": "Alice Renamed", "type": "Service"}
    await fed.deliver(alice, alice.activity("Update", doc))
    profile = _profile(f"alice@{HOST}")
    assert profile.display_name == "Alice Renamed" and profile.is_bot


async def test_delete_note_only_by_its_author(fed: Fed, people: People) -> None:
    alice = fed.serve(FakeActor("alice"))
    mallory = fed.serve(FakeActor("mallory", key=1))
    note = alice.note("<p>bye</p>")
    await fed.deliver(alice, alice.activity("Create", note))
    tomb = {"id": note["id"], "type": "Tombstone"}
    assert (await fed.deliver(mallory, mallory.activity("Delete", tomb)))[0] == 403
    assert _mapped_post(note["id"]) is not None
    assert await fed.deliver(alice, alice.activity("Delete", tomb)) == (202, "Post deleted.")
    assert _mapped_post(note["id"]) is None
    assert _profile(f"alice@{HOST}").posts_count == 0


async def test_actor_deleting_itself_is_removed(fed: Fed, people: People) -> None:
    _, _, p0_handle = people[0]
    alice = fed.serve(FakeActor("alice"))
    await fed.deliver(alice, alice.activity("Follow", urls.actor(fed.settings, p0_handle)))
    assert _profile(p0_handle).followers_count == 1
    await fed.deliver(alice, alice.activity("Delete", alice.uri))
    with session_scope() as s:
        assert s.exec(select(Profile).where(Profile.handle == f"alice@{HOST}")).first() is None
    assert _profile(p0_handle).followers_count == 0


# --- likes and boosts ----------------------------------------------------------------------------


async def test_like_and_undo_like(fed: Fed, people: People) -> None:
    p0, p0_id, _ = people[0]
    post_id = await fed.social.create_post(p0, "nice")
    alice = fed.serve(FakeActor("alice"))
    like = alice.activity("Like", urls.post_note(fed.settings, post_id))
    await fed.deliver(alice, like)
    assert _post(post_id).like_count == 1
    assert len(_notifications(p0_id, "like")) == 1
    await fed.deliver(alice, alice.activity("Undo", like))
    assert _post(post_id).like_count == 0
    with session_scope() as s:
        assert s.exec(select(Like).where(Like.post_id == post_id)).first() is None


async def test_announce_and_undo_announce(fed: Fed, people: People) -> None:
    p0, p0_id, _ = people[0]
    post_id = await fed.social.create_post(p0, "boost me")
    alice = fed.serve(FakeActor("alice"))
    announce = alice.activity("Announce", urls.post_note(fed.settings, post_id), to=[PUBLIC])
    assert await fed.deliver(alice, announce) == (202, "Boosted.")
    assert _post(post_id).reblog_count == 1
    assert len(_notifications(p0_id, "reblog")) == 1
    await fed.deliver(alice, alice.activity("Undo", announce))
    assert _post(post_id).reblog_count == 0


async def test_announce_of_an_unknown_remote_note_fetches_it(fed: Fed, people: People) -> None:
    alice = fed.serve(FakeActor("alice"))
    bob = fed.serve(FakeActor("bob", key=1))
    note = bob.note("<p>original</p>")
    fed.directory[note["id"]] = note
    assert await fed.deliver(alice, alice.activity("Announce", note["id"])) == (202, "Boosted.")
    original = _mapped_post(note["id"])
    assert original is not None and original.reblog_count == 1
    assert original.author_id == _profile(f"bob@{HOST}").id
    missing = alice.activity("Announce", f"https://{HOST}/statuses/gone")
    assert await fed.deliver(alice, missing) == (202, "Unknown note.")


async def test_notifications_from_a_muted_remote_profile_are_dropped(fed: Fed, people: People) -> None:
    p0, p0_id, _ = people[0]
    alice = fed.serve(FakeActor("alice"))
    await fed.service.remote_profile(p0, "alice@remote.example")
    await fed.social.mute(p0, _profile(f"alice@{HOST}").id or 0)
    post_id = await fed.social.create_post(p0, "quiet please")
    await fed.deliver(alice, alice.activity("Like", urls.post_note(fed.settings, post_id)))
    assert _post(post_id).like_count == 1
    assert _notifications(p0_id, "like") == []


# --- the HTTP routes -----------------------------------------------------------------------------


async def test_inbox_routes_answer_through_the_same_origin_guard(
    fed: Fed, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another server's POST (no Origin, no cookie) passes the guard and reaches receive()."""
    import httpx
    from starlette.applications import Starlette

    from clawnet import runtime
    from clawnet.api import federation_inbox
    from clawnet.api.guard import SameOriginGuard

    monkeypatch.setattr(runtime, "_federation", fed.service)
    app = SameOriginGuard(Starlette(routes=federation_inbox.ROUTES), fed.settings.public_url)
    p0, _, p0_handle = people[0]
    post_id = await fed.social.create_post(p0, "via http")
    alice = fed.serve(FakeActor("alice"))
    path = f"/ap/users/{p0_handle}/inbox"
    body = json.dumps(alice.activity("Like", urls.post_note(fed.settings, post_id))).encode()
    headers = signatures.sign(
        "POST",
        urls.base(fed.settings) + path,
        body,
        alice.key_id,
        alice.private,
        content_type="application/activity+json",
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=urls.base(fed.settings)) as client:
        response = await client.post(path, content=body, headers=headers)
        assert response.status_code == 202, response.text
        assert _post(post_id).like_count == 1
        refused = await client.post("/ap/inbox", content=body, headers={**headers, "Signature": ""})
        assert refused.status_code == 401 and "not signed" in refused.json()["error"]


async def test_remote_posts_and_profiles_link_to_their_originals(fed: Fed, people: People) -> None:
    p0, _, _ = people[0]
    alice = fed.serve(FakeActor("alice", kind="Service"))
    note = alice.note("<p>from afar</p>")
    await fed.deliver(alice, alice.activity("Create", note))
    shown = await fed.social.timeline(p0, "public")
    assert shown[0].author_handle == f"alice@{HOST}" and shown[0].is_bot
    assert shown[0].original_url == note["id"]
    card = await fed.social.profile(p0, f"alice@{HOST}")
    assert card is not None and card.remote_url == f"https://{HOST}/@alice" and card.is_bot
    local = await fed.social.create_post(p0, "at home")
    assert (await fed.social.posts(p0, [local]))[0].original_url == ""


def test_addresses_and_lookup_scheme(migrated: Settings) -> None:
    assert remote.parse_address("@Alice@Remote.Example") == ("Alice", "remote.example")
    assert remote.parse_address("alice@127.0.0.1:8001") == ("alice", "127.0.0.1:8001")
    assert remote.parse_address("alice") is None and remote.parse_address("a@b@c") is None
    settings = get_settings()
    assert remote.scheme_for(settings, "127.0.0.1:8001") == "https"  # private hosts off by default
    allowed = dataclasses.replace(settings, federation_allow_private=True)
    assert remote.scheme_for(allowed, "127.0.0.1:8001") == "http"
    assert remote.scheme_for(allowed, "remote.example") == "https"


async def test_fetch_refuses_internal_addresses(migrated: Settings) -> None:
    with pytest.raises(remote.RemoteError, match="internal address"):
        await remote.get_json(get_settings(), "http://127.0.0.1:9/users/x")


async def test_lookup_and_fetch_over_loopback_http(migrated: Settings) -> None:
    """The real fetch path: WebFinger then the actor document from a loopback HTTP server (http,
    allowed with federation_allow_private), and the 1 MiB limit."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    documents: dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = documents.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "application/activity+json")
            self.end_headers()
            self.wfile.write(body or b"{}")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        host = f"127.0.0.1:{server.server_port}"
        actor = FakeActor("carol", host=host)
        doc = {**actor.doc(), "id": f"http://{host}/users/carol"}
        documents["/users/carol"] = json.dumps(doc).encode()
        documents["/users/huge"] = b'{"x": "' + b"a" * (1024 * 1024) + b'"}'
        documents[f"/.well-known/webfinger?resource=acct:carol@{host}"] = json.dumps(
            {"links": [{"rel": "self", "type": "application/activity+json", "href": doc["id"]}]}
        ).encode()
        settings = dataclasses.replace(get_settings(), federation_allow_private=True)
        uri = await remote.lookup(settings, f"@carol@{host}")
        assert uri == doc["id"]
        fetched = await remote.fetch_actor(settings, uri)
        assert fetched["preferredUsername"] == "carol"
        with pytest.raises(remote.RemoteError, match="more than 1 MiB"):
            await remote.get_json(settings, f"http://{host}/users/huge")
        with pytest.raises(remote.RemoteError, match="No account at that address"):
            await remote.lookup(settings, f"nobody@{host}")
    finally:
        server.shutdown()
        server.server_close()
