"""Two ClawNet instances on loopback federating both ways over ActivityPub.

A and B are real ClawNet backends (tests/support/federation_pair.py), each with its own data
folder, database, port and public URL. People act through Mastodon's client API (Mastodon.py) where
ClawNet has it; following a remote address, boosting and an admin's host block have no HTTP API, so
they run the service call the UI makes (`Instance.call`).

The tests are one story told in order (pytest runs a module's tests in file order): ada@A follows
bob@B, bob posts, ada replies, likes and boosts, bob deletes and posts again; a bot on B is a bot on
A; bob follows ada; B goes down while ada posts and gets both posts once it is back; ada undoes a
like and a follow and does them again; B blocks A.
A test that fails leaves the next ones without their starting point: read the first failure.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from mastodon import Mastodon, MastodonNotFoundError
from sqlmodel import col, select

from clawnet.accounts.registration import register as register_account
from clawnet.enums import DesiredStatus, Role
from clawnet.models import Bot, Post, User
from clawnet.models.federation import Delivery
from clawnet.security.permissions import Principal
from clawnet.social import api_tokens, mastodon_tokens, profiles
from tests.support.federation_pair import Instance, federation_pair

T = TypeVar("T")
PASSWORD = "test-password-123"
FOLLOW_REMOTE = "runtime.federation().follow_remote(actor, values['address'])"
BOOST = "runtime.social().boost(actor, values['post_id'])"
BLOCK_HOST = "runtime.federation().block_host(actor, values['host'], 'spam from there')"
# A delivery that failed is retried after the worker's first backoff step (1 min by default).
RETRY_WAIT_S = 120.0


@dataclass
class World:
    a: Instance
    b: Instance
    ada: Mastodon  # ada on A
    bob: Mastodon  # bob on B
    helper: Mastodon  # the bot "helper" on B, with its API token
    ids: dict[str, str] = field(default_factory=dict)  # what one step leaves for the next

    @property
    def ada_acct(self) -> str:
        return f"ada@{self.a.host}"

    @property
    def bob_acct(self) -> str:
        return f"bob@{self.b.host}"


def _account(inst: Instance, email: str, handle: str, role: Role) -> Principal:
    with inst.db() as s:
        user = register_account(s, email=email, display_name=handle.title(), password=PASSWORD, handle=handle)
        user.role = role.value
        s.add(user)
        s.flush()
        return Principal.of(user)


def _token(inst: Instance, email: str) -> str:
    with inst.db() as s:
        user = s.exec(select(User).where(User.email == email)).one()
        return mastodon_tokens.create_personal_token(s, Principal.of(user), "tests", "read write follow")


def _bot_token(inst: Instance, owner_email: str, agent_id: str) -> str:
    """A bot profile (its gateway never started: the bot is stopped) and a social API token."""
    with inst.db() as s:
        owner = s.exec(select(User).where(User.email == owner_email)).one()
        bot = Bot(
            owner_id=owner.id,
            name=agent_id.title(),
            agent_id=agent_id,
            desired_status=DesiredStatus.STOPPED.value,
        )
        s.add(bot)
        s.flush()
        profiles.create_bot_profile(s, bot)
        s.flush()
        return api_tokens.create_token(s, Principal.of(owner), bot.id or 0, "mastodon")


def _client(inst: Instance, token: str) -> Mastodon:
    return Mastodon(access_token=token, api_base_url=inst.url, version_check_mode="none", request_timeout=20)


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[World]:
    began = time.monotonic()
    # CLAWNET_TEST_FEDERATION_DIR keeps both data folders (databases, logs) for a look afterwards.
    kept = os.environ.get("CLAWNET_TEST_FEDERATION_DIR")
    root = Path(tempfile.mkdtemp(prefix="run-", dir=kept)) if kept else tmp_path_factory.mktemp("federation")
    with federation_pair(root) as (a, b):
        print(f"\n[federation] A started in {a.start_seconds:.1f} s, B in {b.start_seconds:.1f} s")
        _account(a, "ada@example.com", "ada", Role.MEMBER)
        _account(b, "mod@example.com", "moderator_b", Role.ADMIN)  # B's admin (the first account)
        _account(b, "bob@example.com", "bob", Role.MEMBER)
        world = World(
            a,
            b,
            _client(a, _token(a, "ada@example.com")),
            _client(b, _token(b, "bob@example.com")),
            _client(b, _bot_token(b, "mod@example.com", "helper")),
        )
        try:
            yield world
        finally:
            print(f"\n[federation] the whole story took {time.monotonic() - began:.1f} s")


# --- waiting and reading ---------------------------------------------------------------------------


def wait_for(
    what: str, check: Callable[[], T | None], world: World, timeout: float = 30.0, every: float = 0.3
) -> T:
    """`check()`'s first truthy value; on timeout, fail with both instances' queues and logs."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while True:
        try:
            if value := check():
                return value
            last = None
        except MastodonNotFoundError as exc:  # not there yet
            last = exc
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout:.0f} s for {what} ({last or 'never true'})\n{_diagnose(world)}")
        time.sleep(every)


def _diagnose(world: World) -> str:
    parts = []
    for inst in (world.a, world.b):
        parts.append(f"--- {inst.name} ({inst.url}) deliveries:")
        try:
            with inst.db() as s:
                for d in s.exec(select(Delivery).order_by(col(Delivery.id))).all():
                    kind = json.loads(d.body).get("type", "?")
                    parts.append(f"  {kind} -> {d.inbox_url} {d.state} x{d.attempts} {d.last_error[:200]}")
        except Exception as exc:  # the diagnosis must not hide the failure it explains
            parts.append(f"  (unreadable: {exc})")
        parts.append(f"--- {inst.name} log:\n{inst.log_tail(40)}")
    return "\n".join(parts)


def find(statuses: list[Any], text: str) -> Any:
    """The first status whose content has `text` (content is HTML; plain words match)."""
    return next((s for s in statuses if text in (s.content or "")), None)


def count(statuses: list[Any], text: str) -> int:
    return sum(text in (s.content or "") for s in statuses)


def notified(client: Mastodon, kind: str, acct: str) -> bool:
    return any(n.type == kind and n.account.acct == acct for n in client.notifications(limit=40))


def deliveries(inst: Instance, *, to_host: str, kind: str, containing: str = "") -> list[Delivery]:
    """`inst`'s queued deliveries of one activity type to one host (whose JSON has `containing`)."""
    with inst.db() as s:
        rows = s.exec(select(Delivery).where(Delivery.host == to_host).order_by(col(Delivery.id))).all()
    return [r for r in rows if json.loads(r.body).get("type") == kind and containing in r.body]


def gone(client: Mastodon, status_id: str) -> bool:
    try:
        client.status(status_id)
    except MastodonNotFoundError:
        return True
    return False


# --- the story -------------------------------------------------------------------------------------


def test_ada_follows_bob_on_another_server_and_b_accepts(world):
    a, b = world.a, world.b
    bob_on_a = a.call("ada@example.com", FOLLOW_REMOTE, address=world.bob_acct)
    world.ids["bob_on_a"] = str(bob_on_a)
    account = world.ada.account(bob_on_a)
    assert account.acct == world.bob_acct and account.bot is False
    # B applied the Follow: bob has one follower, ada from A, and was told so.
    wait_for(
        "bob's follower on B", lambda: world.bob.account_verify_credentials().followers_count == 1, world
    )
    wait_for("a follow notification on B", lambda: notified(world.bob, "follow", world.ada_acct), world)
    # B answered with an Accept, and A took it (a 2xx).
    wait_for(
        "B's Accept delivered to A",
        lambda: any(d.state == "done" for d in deliveries(b, to_host=a.host, kind="Accept")),
        world,
    )
    assert world.ada.account_relationships([bob_on_a])[0].following is True


def test_bobs_post_reaches_adas_home_timeline_on_a(world):
    toot = world.bob.status_post("Hello from B #fediverse", visibility="public")
    world.ids["bob_post_b"] = toot.id
    status = wait_for(
        "bob's post in ada's home on A",
        lambda: find(world.ada.timeline_home(limit=40), "Hello from B"),
        world,
    )
    assert status.account.acct == world.bob_acct
    world.ids["bob_post_a"] = status.id


def test_adas_reply_appears_under_bobs_post_on_b_with_a_notification(world):
    world.ada.status_post("Nice one, Bob", in_reply_to_id=world.ids["bob_post_a"])
    reply = wait_for(
        "ada's reply under bob's post on B",
        lambda: find(world.bob.status_context(world.ids["bob_post_b"]).descendants, "Nice one, Bob"),
        world,
    )
    assert reply.account.acct == world.ada_acct
    wait_for("bob's reply notification", lambda: notified(world.bob, "mention", world.ada_acct), world)


def test_adas_like_and_boost_are_counted_on_b_and_notified(world):
    post_a = world.ids["bob_post_a"]
    assert world.ada.status_favourite(post_a).favourited is True
    world.a.call("ada@example.com", BOOST, post_id=int(post_a))
    counted = wait_for(
        "1 like and 1 boost on bob's post on B",
        lambda: (
            (s := world.bob.status(world.ids["bob_post_b"])).favourites_count == 1 and s.reblogs_count == 1
        ),
        world,
    )
    assert counted
    wait_for("a like notification", lambda: notified(world.bob, "favourite", world.ada_acct), world)
    wait_for("a boost notification", lambda: notified(world.bob, "reblog", world.ada_acct), world)


def test_bobs_delete_removes_his_post_on_a_and_his_next_post_still_arrives(world):
    world.bob.status_delete(world.ids["bob_post_b"])
    wait_for("bob's post gone on A", lambda: gone(world.ada, world.ids["bob_post_a"]), world)
    assert find(world.ada.timeline_home(limit=40), "Hello from B") is None
    # His next post still arrives. On SQLite a new row may take the id of the deleted one (the
    # newest), so a note id (and a Create id) made from the row id alone would name the deleted
    # post again, and A would drop it as a repeat of an activity it has seen.
    world.ids["bob_again_b"] = world.bob.status_post("Hello again from B", visibility="public").id
    again = wait_for(
        "bob's next post in ada's home on A",
        lambda: find(world.ada.timeline_home(limit=40), "Hello again from B"),
        world,
    )
    world.ids["bob_again_a"] = again.id


def test_a_bot_on_b_is_shown_as_a_bot_on_a(world):
    helper_on_a = world.a.call("ada@example.com", FOLLOW_REMOTE, address=f"helper@{world.b.host}")
    assert world.ada.account(helper_on_a).bot is True
    wait_for(
        "the bot's follower on B",
        lambda: world.helper.account_verify_credentials().followers_count == 1,
        world,
    )
    world.helper.status_post("Beep from a bot on B", visibility="public")
    status = wait_for(
        "the bot's post on A", lambda: find(world.ada.timeline_home(limit=40), "Beep from a bot"), world
    )
    assert status.account.bot is True and status.account.acct == f"helper@{world.b.host}"


def test_adas_post_mentioning_people_on_b_reaches_them_though_they_do_not_follow_her(world):
    """bob is known on A (ada follows him); moderator_b is not: A looks the address up first."""
    mod_acct = f"moderator_b@{world.b.host}"
    status = world.ada.status_post(f"Hi @{world.bob_acct} and @{mod_acct}", visibility="public")
    assert f"/u/{world.bob_acct}" in status.content and f"/u/{mod_acct}" in status.content
    assert {m.acct for m in status.mentions} == {world.bob_acct, mod_acct}
    moderator = _client(world.b, _token(world.b, "mod@example.com"))

    def mentioned(client: Mastodon) -> Any:
        return next(
            (
                n
                for n in client.notifications(limit=40)
                if n.type == "mention"
                and n.account.acct == world.ada_acct
                and "Hi " in (n.status.content or "")
            ),
            None,
        )

    assert world.ada.account_verify_credentials().followers_count == 0  # nobody on B follows ada yet
    note = wait_for("bob's mention notification on B", lambda: mentioned(world.bob), world)
    assert '<a href="/u/bob" class="mention"' in note.status.content  # bob's own profile on B
    wait_for("moderator_b's mention notification on B", lambda: mentioned(moderator), world)


def test_bob_follows_ada_the_other_way_and_sees_her_posts(world):
    ada_on_b = world.b.call("bob@example.com", FOLLOW_REMOTE, address=world.ada_acct)
    world.ids["ada_on_b"] = str(ada_on_b)
    wait_for(
        "ada's follower on A", lambda: world.ada.account_verify_credentials().followers_count == 1, world
    )
    assert world.bob.account_relationships([ada_on_b])[0].following is True
    world.ada.status_post("Hello from A", visibility="public")
    status = wait_for(
        "ada's post in bob's home on B",
        lambda: find(world.bob.timeline_home(limit=40), "Hello from A"),
        world,
    )
    assert status.account.acct == world.ada_acct


def test_b_down_for_a_while_gets_every_delivery_once_it_is_back(world):
    a, b = world.a, world.b
    b.stop()
    texts = ("While B was down, one", "While B was down, two")
    for text in texts:
        world.ada.status_post(text, visibility="public")
    # A tried each while B was down, failed, and keeps it for a retry.
    wait_for(
        "A's failed first attempts",
        lambda: all(
            (rows := deliveries(a, to_host=b.host, kind="Create", containing=text))
            and all(r.state == "pending" and r.attempts >= 1 for r in rows)
            for text in texts
        ),
        world,
    )
    b.start()
    print(f"\n[federation] B restarted in {b.start_seconds:.1f} s")
    wait_for(
        "both posts in bob's home after B came back",
        lambda: all(find(world.bob.timeline_home(limit=40), text) for text in texts),
        world,
        timeout=RETRY_WAIT_S,
        every=1.0,
    )
    home = world.bob.timeline_home(limit=40)
    assert [count(home, text) for text in texts] == [1, 1]  # each once, not once per attempt
    # and A records each as delivered (the worker may record finished sends a moment later).
    wait_for(
        "A's deliveries recorded done",
        lambda: all(
            [r.state for r in deliveries(a, to_host=b.host, kind="Create", containing=text)] == ["done"]
            for text in texts
        ),
        world,
    )


def test_an_undone_follow_and_like_done_again_count_again_on_b(world):
    """Undo then the same again: B must apply the second Follow and Like, not drop them as
    repeats of activities it has already seen."""
    bob_on_a, post_a, post_b = world.ids["bob_on_a"], world.ids["bob_again_a"], world.ids["bob_again_b"]

    def followers() -> int:
        return world.bob.account_verify_credentials().followers_count

    def likes() -> int:
        return world.bob.status(post_b).favourites_count

    world.ada.status_favourite(post_a)
    wait_for("ada's like on B", lambda: likes() == 1, world)
    world.ada.status_unfavourite(post_a)
    wait_for("ada's like undone on B", lambda: likes() == 0, world)
    world.ada.status_favourite(post_a)
    wait_for("ada's second like on B", lambda: likes() == 1, world)
    world.ada.account_unfollow(bob_on_a)
    wait_for("ada's follow undone on B", lambda: followers() == 0, world)
    assert world.ada.account_follow(bob_on_a).following is True
    wait_for("ada's second follow on B", lambda: followers() == 1, world)


def test_b_blocks_host_a_and_a_is_refused_and_hidden(world):
    a, b = world.a, world.b
    assert find(world.bob.timeline_home(limit=40), "Hello from A") is not None
    b.call("mod@example.com", BLOCK_HOST, host=a.host)
    # What A's people wrote leaves B's timelines at once.
    home = world.bob.timeline_home(limit=40)
    assert not [s for s in home if s.account.acct == world.ada_acct]
    assert not [s for s in world.bob.timeline_public(limit=40) if s.account.acct == world.ada_acct]
    # New deliveries from A are refused (a permanent 403: not retried) and nothing is stored.
    world.ada.status_post("After the block", visibility="public")
    refused = wait_for(
        "B refusing A's delivery",
        lambda: [
            r
            for r in deliveries(a, to_host=b.host, kind="Create", containing="After the block")
            if r.state == "dead"
        ],
        world,
    )
    assert refused[0].last_error.startswith("HTTP 403"), refused[0].last_error
    with b.db() as s:
        assert not s.exec(select(Post).where(col(Post.content_text).contains("After the block"))).all()
    assert find(world.bob.timeline_home(limit=40), "After the block") is None
