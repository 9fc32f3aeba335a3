"""ActivityPub documents (federation part A): actors, keys, notes, collections, WebFinger,
host-meta and NodeInfo, as this instance serves them."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlmodel import select

from clawnet.db import session_scope
from clawnet.errors import PermissionDenied
from clawnet.models import ActorKey, Comment, Follow, Post, Profile, RemoteActor, utcnow
from clawnet.security.secret_fields import ACTOR_PRIVATE_KEY
from clawnet.settings import Settings
from clawnet.social.federation import documents, keys, urls
from clawnet.social.federation.publishing import FederationPublishing
from clawnet.social.federation.signatures import sign, verify
from clawnet.social.rules import Outbox
from clawnet.social.service import SocialService
from tests.factories import make_bot, make_user, profile_of

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


@pytest.fixture
def settings(migrated: Settings) -> Settings:
    return dataclasses.replace(migrated, public_url="https://claw.example")


@pytest.fixture
def fed(settings: Settings, social: SocialService) -> FederationPublishing:
    return FederationPublishing(settings, social.bus)


def _profile(handle: str) -> Profile:
    with session_scope() as s:
        return s.exec(select(Profile).where(Profile.handle == handle)).one()


def _bot_with_owner() -> tuple[str, str]:
    """A bot's profile handle and its owner's handle."""
    from clawnet.social.profiles import create_bot_profile

    with session_scope() as s:
        owner = make_user(s, name="Operator")
        bot = make_bot(s, owner, "Helper")
        return create_bot_profile(s, bot).handle, profile_of(s, owner).handle


def _remote(handle: str = "zed@remote.example", *, is_bot: bool = False) -> int:
    with session_scope() as s:
        profile = Profile(handle=handle, display_name="Zed", domain="remote.example", is_bot=is_bot)
        s.add(profile)
        s.flush()
        s.add(
            RemoteActor(
                profile_id=profile.id,
                actor_uri="https://remote.example/users/zed",
                domain="remote.example",
                username="zed",
                inbox_url="https://remote.example/users/zed/inbox",
            )
        )
        assert profile.id is not None
        return profile.id


# --- actors and keys -------------------------------------------------------------------------------


async def test_a_person_is_a_person_actor_with_its_endpoints_and_key(fed, people, settings):
    (_, _, handle), _, _ = people
    doc = await fed.actor(handle)
    assert doc is not None
    assert doc["@context"][:2] == ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"]
    assert doc["type"] == "Person"
    actor_id = f"https://claw.example/ap/users/{handle}"
    assert doc["id"] == actor_id and doc["preferredUsername"] == handle
    assert doc["inbox"] == actor_id + "/inbox" and doc["outbox"] == actor_id + "/outbox"
    assert doc["followers"] == actor_id + "/followers" and doc["following"] == actor_id + "/following"
    assert doc["endpoints"]["sharedInbox"] == "https://claw.example/ap/inbox"
    assert doc["url"] == f"https://claw.example/u/{handle}"
    assert doc["publicKey"]["id"] == actor_id + "#main-key" and doc["publicKey"]["owner"] == actor_id
    assert doc["publicKey"]["publicKeyPem"].startswith("-----BEGIN PUBLIC KEY-----")
    assert doc["manuallyApprovesFollowers"] is False and doc["discoverable"] is True
    assert "attachment" not in doc


async def test_a_bot_is_a_service_actor_operated_by_its_owner(fed, settings):
    bot_handle, owner_handle = _bot_with_owner()
    doc = await fed.actor(bot_handle)
    assert doc is not None and doc["type"] == "Service"
    (operated,) = doc["attachment"]
    assert operated["type"] == "PropertyValue" and operated["name"] == "Operated by"
    assert f'href="https://claw.example/u/{owner_handle}"' in operated["value"]
    assert f"@{owner_handle}@claw.example" in operated["value"]


async def test_the_avatar_is_the_actors_icon_by_absolute_url(fed, people):
    (_, profile_id, handle), _, _ = people
    with session_scope() as s:
        profile = s.get(Profile, profile_id)
        assert profile is not None
        profile.avatar_path = "avatars/abc.png"
        s.add(profile)
    doc = await fed.actor(handle)
    assert doc is not None
    assert doc["icon"] == {
        "type": "Image",
        "mediaType": "image/png",
        "url": "https://claw.example/media/avatars/abc.png",
    }


async def test_the_key_pair_is_made_once_and_the_private_half_is_stored_encrypted(people, settings):
    (_, profile_id, handle), _, _ = people
    with session_scope() as s:
        profile = s.get(Profile, profile_id)
        key_id, private_pem = keys.actor_key(s, settings, profile)
        public_pem = keys.public_key(s, settings, profile)
        again = keys.actor_key(s, settings, profile)
    assert key_id == f"https://claw.example/ap/users/{handle}#main-key"
    assert again == (key_id, private_pem)
    assert private_pem.startswith("-----BEGIN PRIVATE KEY-----")
    assert public_pem.startswith("-----BEGIN PUBLIC KEY-----")
    with session_scope() as s:
        rows = s.exec(select(ActorKey).where(ActorKey.profile_id == profile_id)).all()
    assert len(rows) == 1
    stored = rows[0].private_key_enc
    assert "PRIVATE KEY" not in stored and private_pem not in stored and stored.startswith("cn1:")
    assert ACTOR_PRIVATE_KEY.unseal(stored) == private_pem
    # The two halves belong together: what the private key signs, the served public key verifies.
    headers = sign("POST", "https://remote.example/inbox", b"{}", key_id, private_pem)
    verify("POST", "/inbox", {k.lower(): v for k, v in headers.items()}, b"{}", public_pem)


def test_key_rotation_reencrypts_actor_keys(people, settings):
    from clawnet.security import crypto
    from clawnet.security.key_rotation import key_ids_in_use, rotate_key

    (_, profile_id, _), _, _ = people
    with session_scope() as s:
        _, private_pem = keys.actor_key(s, settings, s.get(Profile, profile_id))
    old_id = crypto.get_key_ring().active_id
    report = rotate_key(settings)
    assert report.reencrypted["ap_actor_keys.private_key"] == 1
    crypto.set_key_ring(None)
    with session_scope() as s:
        assert key_ids_in_use(s) == {report.new_key_id} != {old_id}
        assert keys.actor_key(s, settings, s.get(Profile, profile_id))[1] == private_pem


def test_a_remote_profile_has_no_key_pair(migrated, settings):
    remote_id = _remote()
    with session_scope() as s, pytest.raises(ValueError):
        keys.actor_key(s, settings, s.get(Profile, remote_id))


# --- what is not served ----------------------------------------------------------------------------


async def test_unknown_unfederated_suspended_and_remote_profiles_are_not_served(fed, people, settings):
    (_, a_id, a_handle), (_, b_id, b_handle), (_, _, c_handle) = people
    _remote()
    with session_scope() as s:
        a, b = s.get(Profile, a_id), s.get(Profile, b_id)
        a.federated = False
        b.suspended_at = utcnow()
        s.add(a)
        s.add(b)
    for handle in ("nobody_here", a_handle, b_handle, "zed@remote.example"):
        assert await fed.actor(handle) is None
        assert await fed.outbox(handle) is None
        assert await fed.webfinger(f"acct:{handle}@claw.example") is None
    assert await fed.actor(c_handle) is not None
    off = FederationPublishing(dataclasses.replace(settings, federation_enabled=False), fed.bus)
    assert await off.actor(c_handle) is None
    assert await off.webfinger(f"acct:{c_handle}@claw.example") is None


# --- WebFinger, host-meta, NodeInfo ------------------------------------------------------------------


async def test_webfinger_round_trip(fed, people):
    (_, _, handle), _, _ = people
    found = await fed.webfinger(f"acct:{handle}@claw.example")
    assert found is not None
    assert found["subject"] == f"acct:{handle}@claw.example"
    actor_id = f"https://claw.example/ap/users/{handle}"
    assert actor_id in found["aliases"]
    self_link = next(link for link in found["links"] if link["rel"] == "self")
    assert self_link == {"rel": "self", "type": "application/activity+json", "href": actor_id}
    page = next(link for link in found["links"] if link["rel"] == "http://webfinger.net/rel/profile-page")
    assert page["href"] == f"https://claw.example/u/{handle}"
    # The actor the link names is served, and names the same account back.
    actor = await fed.actor(handle)
    assert actor is not None and actor["id"] == self_link["href"]
    # The actor's id, the profile page and a handle in capitals find the same account.
    assert await fed.webfinger(actor_id) == found
    assert await fed.webfinger(f"https://claw.example/u/{handle}") == found
    assert await fed.webfinger(f"acct:{handle.upper()}@CLAW.EXAMPLE") == found
    assert await fed.webfinger(f"acct:{handle}@elsewhere.example") is None


async def test_host_meta_points_at_webfinger(fed):
    xml = await fed.host_meta()
    assert 'template="https://claw.example/.well-known/webfinger?resource={uri}"' in xml
    assert xml.startswith("<?xml")


async def test_nodeinfo_counts_local_accounts_and_posts(fed, social, people):
    (alice, _, _), (bob, _, _), _ = people
    _bot_with_owner()
    _remote()
    post = await social.create_post(alice, "one")
    await social.create_post(alice, "two", "followers")
    await social.comment(bob, post, "a reply")
    await social.boost(bob, post)  # not a post of its own
    links = await fed.nodeinfo_links()
    assert links["links"][0]["href"] == "https://claw.example/nodeinfo/2.0"
    info = await fed.nodeinfo()
    assert info["version"] == "2.0" and info["software"]["name"] == "clawnet"
    assert info["protocols"] == ["activitypub"]
    assert info["openRegistrations"] is False
    users = info["usage"]["users"]
    assert users["total"] == 5  # three people, the operator and the bot; not the remote account
    assert users["activeMonth"] == 2 and users["activeHalfyear"] == 2  # alice and bob wrote
    assert info["usage"]["localPosts"] == 3  # two posts and a comment


# --- notes -------------------------------------------------------------------------------------------


async def test_a_public_post_is_to_public_cc_followers_with_mentions_and_hashtags(fed, social, people):
    (alice, _, a_handle), (_, _b_id, b_handle), _ = people
    remote_id = _remote()
    post_id = await social.create_post(alice, f"hi @{b_handle} look at #Cats and #news")
    with session_scope() as s:  # a remote account mentioned too (as the inbox will record it)
        from clawnet.models import PostMention

        s.add(PostMention(post_id=post_id, profile_id=remote_id))
    doc = await fed.note(post_id)
    assert doc is not None and doc["type"] == "Note"
    assert doc["id"] == f"https://claw.example/ap/posts/{post_id}"
    assert doc["attributedTo"] == f"https://claw.example/ap/users/{a_handle}"
    assert doc["to"] == [PUBLIC]
    b_actor = f"https://claw.example/ap/users/{b_handle}"
    assert doc["cc"][0] == f"https://claw.example/ap/users/{a_handle}/followers"
    assert set(doc["cc"][1:]) == {b_actor, "https://remote.example/users/zed"}
    mentions = {t["href"]: t["name"] for t in doc["tag"] if t["type"] == "Mention"}
    assert mentions == {
        b_actor: f"@{b_handle}@claw.example",
        "https://remote.example/users/zed": "@zed@remote.example",
    }
    tags = {t["name"]: t["href"] for t in doc["tag"] if t["type"] == "Hashtag"}
    assert tags == {"#cats": "https://claw.example/tags/cats", "#news": "https://claw.example/tags/news"}
    # Links in the content are absolute, so they work on other servers.
    assert f'href="https://claw.example/u/{b_handle}"' in doc["content"]
    assert 'href="/' not in doc["content"]
    assert doc["summary"] is None and doc["sensitive"] is False and doc["inReplyTo"] is None
    assert doc["url"] == f"https://claw.example/posts/{post_id}"


async def test_a_followers_only_post_is_to_followers_and_never_served(fed, social, people, settings):
    (alice, _, a_handle), (_, _, b_handle), _ = people
    post_id = await social.create_post(alice, f"just for you @{b_handle}", "followers")
    with session_scope() as s:
        doc = documents.note(s, settings, s.get(Post, post_id))
    assert doc["to"] == [f"https://claw.example/ap/users/{a_handle}/followers"]
    assert doc["cc"] == [f"https://claw.example/ap/users/{b_handle}"]
    assert PUBLIC not in doc["to"] + doc["cc"]
    assert await fed.note(post_id) is None  # /ap/posts/{id}: 404 to anyone who asks


async def test_a_content_warning_is_summary_and_sensitive(fed, social, people):
    _, _, _ = people
    with session_scope() as s:
        user = make_user(s)
        author = profile_of(s, user)
        post = social.post_as(s, Outbox(), author, "the ending", "public", [], spoiler_text="spoilers!")
        post_id = post.id
    doc = await fed.note(post_id)
    assert doc is not None and doc["summary"] == "spoilers!" and doc["sensitive"] is True


async def test_hidden_posts_boosts_and_remote_posts_are_not_served(fed, social, people):
    (alice, _, _), (bob, _, _), _ = people
    hidden = await social.create_post(alice, "to be hidden")
    shown = await social.create_post(alice, "shown")
    boost = await social.boost(bob, shown)
    remote_id = _remote()
    with session_scope() as s:
        s.get(Post, hidden).hidden_at = utcnow()
        remote_post = Post(author_id=remote_id, content_html="<p>from afar</p>")
        s.add(remote_post)
        s.flush()
        remote_post_id = remote_post.id
    assert await fed.note(shown) is not None
    for post_id in (hidden, boost, remote_post_id, 999999):
        assert await fed.note(post_id) is None


async def test_a_comment_answers_its_post_or_parent_and_cc_the_author_answered(fed, social, people, settings):
    (alice, _, a_handle), (bob, _, b_handle), (carol, _, c_handle) = people
    post_id = await social.create_post(alice, "a question")
    first = await social.comment(bob, post_id, "an answer #Tips")
    second = await social.comment(carol, post_id, f"agreed @{a_handle}", parent_id=first)
    doc = await fed.comment(first)
    assert doc is not None and doc["inReplyTo"] == f"https://claw.example/ap/posts/{post_id}"
    assert doc["to"] == [PUBLIC] and f"https://claw.example/ap/users/{a_handle}" in doc["cc"]
    assert [t["name"] for t in doc["tag"] if t["type"] == "Hashtag"] == ["#tips"]
    reply = await fed.comment(second)
    assert reply is not None and reply["inReplyTo"] == f"https://claw.example/ap/comments/{first}"
    assert reply["attributedTo"] == f"https://claw.example/ap/users/{c_handle}"
    assert f"https://claw.example/ap/users/{b_handle}" in reply["cc"]  # the comment it answers
    assert [t["href"] for t in reply["tag"] if t["type"] == "Mention"] == [
        f"https://claw.example/ap/users/{a_handle}"
    ]
    private = await social.create_post(alice, "followers only", "followers")
    await social.set_follow(bob, people[0][1], True)
    hidden_reply = await social.comment(bob, private, "shh")
    assert await fed.comment(hidden_reply) is None


async def test_a_reply_to_a_remote_post_names_the_remote_note(social, people, settings):
    (_, _, _), (bob, _b_id, _), _ = people
    remote_id = _remote()
    with session_scope() as s:
        from clawnet.models import ApObject

        post = Post(author_id=remote_id, content_html="<p>hello fediverse</p>")
        s.add(post)
        s.flush()
        s.add(ApObject(ap_id="https://remote.example/notes/1", post_id=post.id))
        post_id = post.id
    comment_id = await social.comment(bob, post_id, "hello back")
    with session_scope() as s:
        doc = documents.comment_note(s, settings, s.get(Comment, comment_id))
    assert doc["inReplyTo"] == "https://remote.example/notes/1"
    assert "https://remote.example/users/zed" in doc["cc"]


async def test_create_and_announce_activities(social, people, settings):
    (alice, _, a_handle), (bob, _, b_handle), _ = people
    post_id = await social.create_post(alice, "boost me")
    boost_id = await social.boost(bob, post_id)
    with session_scope() as s:
        note = documents.note(s, settings, s.get(Post, post_id))
        activity = documents.create(note)
        announce = documents.announce(s, settings, s.get(Post, boost_id))
    assert activity["type"] == "Create" and activity["id"] == note["id"] + "/activity"
    assert activity["actor"] == note["attributedTo"] and activity["object"]["id"] == note["id"]
    assert "@context" not in activity["object"] and activity["@context"]
    assert activity["to"] == note["to"] and activity["cc"] == note["cc"]
    assert activity["published"] == note["published"]
    assert announce["type"] == "Announce" and announce["object"] == note["id"]
    assert announce["actor"] == f"https://claw.example/ap/users/{b_handle}"
    assert announce["to"] == [PUBLIC]
    assert f"https://claw.example/ap/users/{a_handle}" in announce["cc"]
    with session_scope() as s, pytest.raises(ValueError):
        documents.note(s, settings, s.get(Post, boost_id))


# --- collections -------------------------------------------------------------------------------------


async def test_the_outbox_pages_public_posts_newest_first(fed, social, people):
    (alice, _, handle), _, _ = people
    with session_scope() as s:
        author = s.exec(select(Profile).where(Profile.handle == handle)).one()
        ids = [
            social.post_as(s, Outbox(), author, f"post {i}", "public", [], check_limits=False).id
            for i in range(25)
        ]
    await social.create_post(alice, "private", "followers")
    outbox = await fed.outbox(handle)
    assert outbox is not None and outbox["type"] == "OrderedCollection"
    assert outbox["totalItems"] == 25
    first = await fed.outbox(handle, "true")
    assert first is not None and first["type"] == "OrderedCollectionPage"
    assert first["id"] == outbox["first"].split("?")[0] + "?page=true"
    items = first["orderedItems"]
    assert len(items) == 20 and all(i["type"] == "Create" for i in items)
    assert [i["object"]["id"].rsplit("/", 1)[1] for i in items] == [str(i) for i in reversed(ids[5:])]
    next_page = first["next"].split("page=")[1]
    second = await fed.outbox(handle, next_page)
    assert second is not None
    assert [i["object"]["id"].rsplit("/", 1)[1] for i in second["orderedItems"]] == [
        str(i) for i in reversed(ids[:5])
    ]
    assert "next" not in second


async def test_followers_and_following_list_actor_ids(fed, social, people):
    (alice, a_id, a_handle), (bob, b_id, b_handle), (carol, c_id, _c_handle) = people
    remote_id = _remote()
    await social.set_follow(bob, a_id, True)
    await social.set_follow(carol, a_id, True)
    await social.set_follow(alice, b_id, True)
    with session_scope() as s:
        s.add(Follow(follower_id=remote_id, followee_id=a_id))
        carol_profile = s.get(Profile, c_id)
        carol_profile.federated = False  # not published: not listed either
        s.add(carol_profile)
    followers = await fed.followers(a_handle)
    assert followers is not None and followers["totalItems"] == 2
    page = await fed.followers(a_handle, "true")
    assert page is not None
    assert page["orderedItems"] == [
        "https://remote.example/users/zed",
        f"https://claw.example/ap/users/{b_handle}",
    ]
    following = await fed.following(a_handle, "true")
    assert following is not None and following["orderedItems"] == [
        f"https://claw.example/ap/users/{b_handle}"
    ]


# --- the per-profile switch ---------------------------------------------------------------------------


async def test_a_person_switches_federation_for_their_own_profile(fed, people):
    (alice, _, a_handle), _, _ = people
    status = await fed.federation_status(alice)
    assert status.federated is True and status.address == f"@{a_handle}@claw.example"
    assert await fed.fediverse_address(a_handle) == f"@{a_handle}@claw.example"
    off = await fed.set_federated(alice, False)
    assert off.federated is False
    assert await fed.actor(a_handle) is None
    assert await fed.fediverse_address(a_handle) == ""
    await fed.set_federated(alice, True)
    assert await fed.actor(a_handle) is not None
    with pytest.raises(PermissionDenied):
        await fed.set_federated(None, False)


async def test_a_bots_owner_switches_the_bots_federation_and_nobody_else_can(fed, people):
    (alice, _, _), _, _ = people
    from clawnet.enums import Role
    from clawnet.security.permissions import Principal
    from clawnet.social.profiles import create_bot_profile

    with session_scope() as s:
        owner = make_user(s, Role.OPERATOR)
        bot = make_bot(s, owner)
        handle = create_bot_profile(s, bot).handle
        owner_principal, bot_id = Principal.of(owner), bot.id
    await fed.set_federated(owner_principal, False, bot_id=bot_id)
    assert await fed.actor(handle) is None
    with pytest.raises(PermissionDenied):
        await fed.set_federated(alice, True, bot_id=bot_id)


# --- over HTTP -----------------------------------------------------------------------------------------


async def test_the_routes_serve_activity_json(fed, social, people, monkeypatch):
    import httpx

    from clawnet import runtime
    from clawnet.api import build_api
    from clawnet.api.guard import SameOriginGuard
    from clawnet.social.federation.service import FederationService

    (alice, _, handle), _, _ = people
    public = await social.create_post(alice, "hello world")
    private = await social.create_post(alice, "psst", "followers")
    monkeypatch.setattr(runtime, "_federation", FederationService(fed.settings, fed.bus))
    # Behind the same-origin guard, as served: cross-site GETs must pass.
    transport = httpx.ASGITransport(app=SameOriginGuard(build_api(), "https://claw.example"))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="https://claw.example") as client:
        finger = await client.get(
            "/.well-known/webfinger", params={"resource": f"acct:{handle}@claw.example"}
        )
        no_resource = await client.get("/.well-known/webfinger")
        unknown = await client.get("/.well-known/webfinger", params={"resource": "acct:nobody@claw.example"})
        actor = await client.get(f"/ap/users/{handle}", headers={"accept": "application/activity+json"})
        browser = await client.get(f"/ap/users/{handle}", headers={"accept": "text/html"})
        outbox = await client.get(f"/ap/users/{handle}/outbox", params={"page": "true"})
        note = await client.get(f"/ap/posts/{public}")
        hidden = await client.get(f"/ap/posts/{private}")
        host_meta = await client.get("/.well-known/host-meta")
        links = await client.get("/.well-known/nodeinfo")
        info = await client.get("/nodeinfo/2.0")
        cross_site = await client.get(f"/ap/users/{handle}", headers={"origin": "https://elsewhere.example"})
    assert finger.status_code == 200 and finger.headers["content-type"].startswith("application/jrd+json")
    assert finger.json()["subject"] == f"acct:{handle}@claw.example"
    assert no_resource.status_code == 400 and unknown.status_code == 404
    assert actor.status_code == 200
    assert actor.headers["content-type"] == "application/activity+json; charset=utf-8"
    assert actor.json()["type"] == "Person"
    assert browser.status_code == 302 and browser.headers["location"] == f"/u/{handle}"
    assert outbox.status_code == 200 and len(outbox.json()["orderedItems"]) == 1
    assert note.status_code == 200 and note.json()["content"] == "<p>hello world</p>"
    assert hidden.status_code == 404
    assert host_meta.status_code == 200 and host_meta.headers["content-type"].startswith(
        "application/xrd+xml"
    )
    assert links.json()["links"][0]["href"] == "https://claw.example/nodeinfo/2.0"
    assert info.status_code == 200 and info.json()["software"]["name"] == "clawnet"
    assert cross_site.status_code == 200  # a GET from another site is fine (no cookie is read)


def test_times_are_utc_iso(settings):
    moment = utcnow() - timedelta(days=1)
    assert documents.iso(moment).endswith("Z") and "+" not in documents.iso(moment)
    assert urls.actor(settings, "ada") == "https://claw.example/ap/users/ada"
