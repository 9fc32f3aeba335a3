"""ClawNet federating with another project's ActivityPub code on loopback.

The far side is tests/support/apkit_far_side.py: an ActivityPub server built on apkit (PyPI; with
apmodel and apsig by the same authors), whose inbox verifies HTTP Signatures with apkit's own
verifier, whose actor is an apmodel Person, and whose outgoing activities apkit's client signs. So
every check here runs another project's parsing, signing and verifying against ClawNet's.
(bovine-herd, a full server, cannot be installed next to ClawNet: bovine pins cryptography < 46.)

The near side is one real ClawNet backend (`Instance` from tests/support/federation_pair.py), with ada
(a person) and helper (a bot). Tests run in file order and build on each other:
  (a) apkit resolves ada by WebFinger, parses her actor, follows her; ClawNet accepts; ada's post is
      delivered to apkit's inbox, which verifies ClawNet's signature and keeps the Note;
  (b) ada follows alice on the far side by address; alice's signed Note reaches ada's home timeline;
      alice likes ada's post (ada is notified), ada likes alice's note (apkit verifies the Like),
      each deletes their note and it goes on the other side;
  (c) a body tampered with after apkit's signer signed it, a signature by another key under alice's
      key id, and a request signed two hours ago are each refused by ClawNet with 401.
"""

from __future__ import annotations

import contextlib
import email.utils
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from mastodon import Mastodon, MastodonNotFoundError

from clawnet.enums import Role
from tests.integration.test_federation import (
    FOLLOW_REMOTE,
    _account,
    _bot_token,
    _client,
    _token,
    find,
    notified,
)
from tests.support.apkit_far_side import AS_PUBLIC, FarSide
from tests.support.federation_pair import Instance
from tests.support.server import SCALEOUT, SCALEOUT_WORKERS, free_port

T = TypeVar("T")


@dataclass
class Interop:
    clawnet: Instance
    far: FarSide
    ada: Mastodon
    ids: dict[str, str] = field(default_factory=dict)  # what one step leaves for the next

    @property
    def ada_acct(self) -> str:
        return f"ada@{self.clawnet.host}"

    @property
    def ada_actor(self) -> str:
        return f"{self.clawnet.url}/ap/users/ada"


@pytest.fixture(scope="module")
def interop(tmp_path_factory) -> Iterator[Interop]:
    began = time.monotonic()
    with contextlib.ExitStack() as stack:
        env: dict[str, str] = {}
        if SCALEOUT:  # as federation_pair: its own PostgreSQL and Redis, two web workers
            from tests.support.services import postgres_server, redis_server

            env["DATABASE_URL"] = stack.enter_context(postgres_server())
            env["REFLEX_REDIS_URL"] = stack.enter_context(redis_server())
            env["GRANIAN_WORKERS"] = SCALEOUT_WORKERS
        far = FarSide.start()
        stack.callback(far.stop)
        root = tmp_path_factory.mktemp("interop")
        clawnet = Instance("clawnet", _free_port_not(far.port), root / "clawnet", env)
        stack.callback(clawnet.stop)
        clawnet.start()
        print(f"\n[interop] ClawNet started in {clawnet.start_seconds:.1f} s; apkit on {far.url}")
        _account(clawnet, "mod@example.com", "moderator", Role.ADMIN)  # owns the bot
        _account(clawnet, "ada@example.com", "ada", Role.MEMBER)
        _bot_token(clawnet, "mod@example.com", "helper")
        yield Interop(clawnet, far, _client(clawnet, _token(clawnet, "ada@example.com")))
    print(f"\n[interop] took {time.monotonic() - began:.1f} s")


def _free_port_not(taken: int) -> int:
    while (port := free_port()) == taken:
        pass
    return port


def wait_for(what: str, check: Callable[[], T | None], it: Interop, timeout: float = 30.0) -> T:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if value := check():
                return value
        except MastodonNotFoundError:
            pass
        if time.monotonic() > deadline:
            received = [(a.get("type"), a.get("id")) for a in it.far.received]
            pytest.fail(
                f"waited {timeout:.0f} s for {what}\napkit received: {received}\n"
                f"--- ClawNet log:\n{it.clawnet.log_tail(40)}"
            )
        time.sleep(0.3)


def _note(it: Interop, text: str, n: int) -> dict[str, Any]:
    far = it.far
    note_id = f"{far.actor_id}/notes/{n}"
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{note_id}/activity",
        "type": "Create",
        "actor": far.actor_id,
        "to": [AS_PUBLIC],
        "cc": [far.actor_id + "/followers"],
        "object": {
            "id": note_id,
            "type": "Note",
            "attributedTo": far.actor_id,
            "content": f"<p>{text}</p>",
            "published": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "to": [AS_PUBLIC],
            "cc": [far.actor_id + "/followers"],
        },
    }


# --- (a) apkit follows a ClawNet account and gets its posts, signatures verified by apkit ----------


def test_apkit_resolves_clawnet_accounts_by_webfinger_as_person_and_service(interop):
    ada = interop.far.resolve(interop.ada_acct)
    assert type(ada).__name__ == "Person" and ada.id == interop.ada_actor
    assert ada.public_key.id == interop.ada_actor + "#main-key"
    assert "BEGIN PUBLIC KEY" in ada.public_key.public_key_pem
    assert ada.inbox == interop.ada_actor + "/inbox"
    helper = interop.far.resolve(f"helper@{interop.clawnet.host}")
    assert type(helper).__name__ == "Service"  # a bot, as Mastodon shows bots


def test_apkit_follows_ada_and_clawnet_accepts_with_a_signature_apkit_verifies(interop):
    far = interop.far
    follow_id = f"{far.actor_id}/follows/1"
    status = far.send(
        interop.ada_actor + "/inbox",
        {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": follow_id,
            "type": "Follow",
            "actor": far.actor_id,
            "object": interop.ada_actor,
        },
    )
    assert status in (200, 202)
    wait_for(
        "ada's follower from apkit",
        lambda: interop.ada.account_verify_credentials().followers_count == 1,
        interop,
    )
    wait_for("ada's follow notification", lambda: notified(interop.ada, "follow", far.acct), interop)
    # Only what apkit's InboxVerifier accepted is recorded (a failed signature is a 401 there).
    accept = wait_for("ClawNet's Accept at apkit", lambda: far.of_type("Accept"), interop)[0]
    accepted = accept["object"]
    assert (accepted if isinstance(accepted, str) else accepted["id"]) == follow_id
    assert accept["actor"] == interop.ada_actor


def test_adas_post_reaches_apkits_inbox_and_apkit_verifies_and_keeps_the_note(interop):
    interop.ada.status_post("Hello apkit, from ClawNet #interop", visibility="public")

    def delivered() -> dict[str, Any] | None:
        for create in interop.far.of_type("Create"):
            note = create["object"]
            if isinstance(note, dict) and "Hello apkit" in str(note.get("content")):
                return create
        return None

    create = wait_for("ada's Create at apkit", delivered, interop)
    assert create["actor"] == interop.ada_actor
    assert create["object"]["type"] == "Note"
    assert create["object"]["attributedTo"] == interop.ada_actor


def test_apkits_verifier_refuses_a_forged_clawnet_activity(interop):
    """The far side is no rubber stamp: apkit's own verifier fetches ada's real key and refuses a
    Create signed by another key under her key id."""
    forged = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": interop.ada_actor + "#forged",
        "type": "Create",
        "actor": interop.ada_actor,
        "object": {"id": interop.ada_actor + "#forged-note", "type": "Note", "content": "Forged"},
    }
    impostor = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    far = interop.far
    status = far.send_signed(
        far.actor_id + "/inbox", forged, key=impostor, key_id=interop.ada_actor + "#main-key"
    )
    assert status == 401
    assert not [a for a in far.received if a.get("id") == forged["id"]]


# --- (b) alice on the far side, followed from ClawNet, posts; ClawNet verifies and shows it --------


def test_ada_follows_alice_by_address_and_apkit_accepts(interop):
    far = interop.far
    alice_id = interop.clawnet.call("ada@example.com", FOLLOW_REMOTE, address=far.acct)
    assert interop.ada.account(alice_id).acct == far.acct
    follow = wait_for("ada's Follow at apkit", lambda: far.of_type("Follow"), interop)[0]
    assert follow["actor"] == interop.ada_actor and follow["object"] == far.actor_id
    wait_for(
        "ClawNet to apply apkit's Accept",
        lambda: interop.ada.account_relationships(alice_id)[0].following,
        interop,
    )


def test_alices_signed_note_reaches_adas_home_timeline(interop):
    status = interop.far.send(
        f"{interop.clawnet.url}/ap/inbox", _note(interop, "Hello ClawNet, from apkit", 1)
    )
    assert status in (200, 202)
    toot = wait_for(
        "alice's note on ada's home timeline",
        lambda: find(interop.ada.timeline_home(limit=40), "Hello ClawNet, from apkit"),
        interop,
    )
    assert toot.account.acct == interop.far.acct and toot.account.bot is False


def test_ada_likes_alices_note_and_apkit_verifies_the_like(interop):
    toot = find(interop.ada.timeline_home(limit=40), "Hello ClawNet, from apkit")
    interop.ada.status_favourite(toot.id)
    like = wait_for("ada's Like at apkit", lambda: interop.far.of_type("Like"), interop)[0]
    liked = like["object"]
    assert like["actor"] == interop.ada_actor
    assert (liked if isinstance(liked, str) else liked["id"]) == f"{interop.far.actor_id}/notes/1"


def test_alice_likes_adas_post_and_ada_is_notified(interop):
    create = next(c for c in interop.far.of_type("Create") if "Hello apkit" in str(c["object"]))
    interop.ids["ada_note"] = create["object"]["id"]
    like = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{interop.far.actor_id}/likes/1",
        "type": "Like",
        "actor": interop.far.actor_id,
        "object": interop.ids["ada_note"],
    }
    assert interop.far.send(interop.ada_actor + "/inbox", like) in (200, 202)
    wait_for(
        "ada's favourite notification", lambda: notified(interop.ada, "favourite", interop.far.acct), interop
    )


def test_alice_deletes_her_note_and_it_leaves_adas_timeline(interop):
    far = interop.far
    delete = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{far.actor_id}/notes/1/delete",
        "type": "Delete",
        "actor": far.actor_id,
        "to": [AS_PUBLIC],
        "object": {"id": f"{far.actor_id}/notes/1", "type": "Tombstone"},
    }
    assert far.send(f"{interop.clawnet.url}/ap/inbox", delete) in (200, 202)
    wait_for(
        "alice's note to leave ada's home timeline",
        lambda: find(interop.ada.timeline_home(limit=40), "Hello ClawNet, from apkit") is None,
        interop,
    )


def test_ada_deletes_her_post_and_apkit_verifies_the_delete(interop):
    mine = find(interop.ada.timeline_home(limit=40), "Hello apkit")
    interop.ada.status_delete(mine.id)

    def deleted() -> bool:
        for delete in interop.far.of_type("Delete"):
            gone = delete["object"]
            if (gone if isinstance(gone, str) else gone.get("id")) == interop.ids["ada_note"]:
                return True
        return False

    wait_for("ada's Delete at apkit", deleted, interop)


# --- (c) a tampered body under apkit's signature ---------------------------------------------------


def test_a_body_tampered_after_apkit_signed_it_is_refused_with_401(interop):
    far = interop.far
    signed = _note(interop, "Signed words", 2)
    tampered = {**signed, "object": {**signed["object"], "content": "<p>Tampered words</p>"}}
    for inbox in (f"{interop.clawnet.url}/ap/inbox", interop.ada_actor + "/inbox"):
        assert far.send_signed(inbox, signed, sent=tampered) == 401
    time.sleep(1)
    home = interop.ada.timeline_home(limit=40)
    assert find(home, "Tampered words") is None and find(home, "Signed words") is None
    # The same signer and body, untouched, is accepted: the 401 was the tampering.
    assert far.send_signed(f"{interop.clawnet.url}/ap/inbox", signed) in (200, 202)
    wait_for(
        "the untampered note", lambda: find(interop.ada.timeline_home(limit=40), "Signed words"), interop
    )


def test_a_signature_by_another_key_under_alices_key_id_is_refused_with_401(interop):
    impostor = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    note = _note(interop, "Impostor words", 3)
    assert interop.far.send_signed(f"{interop.clawnet.url}/ap/inbox", note, key=impostor) == 401
    time.sleep(1)
    assert find(interop.ada.timeline_home(limit=40), "Impostor words") is None


def test_a_replayed_request_signed_two_hours_ago_is_refused_with_401(interop):
    old = email.utils.formatdate(time.time() - 2 * 3600, usegmt=True)
    note = _note(interop, "Replayed words", 4)
    assert interop.far.send_signed(f"{interop.clawnet.url}/ap/inbox", note, date=old) == 401
    time.sleep(1)
    assert find(interop.ada.timeline_home(limit=40), "Replayed words") is None
