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
  (c) a body tampered with after apkit's signer signed it is refused by ClawNet with 401.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
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

T = TypeVar("T")


@dataclass
class Interop:
    clawnet: Instance
    far: FarSide
    ada: Mastodon

    @property
    def ada_acct(self) -> str:
        return f"ada@{self.clawnet.host}"

    @property
    def ada_actor(self) -> str:
        return f"{self.clawnet.url}/ap/users/ada"


@pytest.fixture(scope="module")
def interop(tmp_path_factory) -> Iterator[Interop]:
    began = time.monotonic()
    far = FarSide.start()
    clawnet = Instance("clawnet", _free_port_not(far.port), tmp_path_factory.mktemp("interop") / "clawnet")
    try:
        clawnet.start()
        print(f"\n[interop] ClawNet started in {clawnet.start_seconds:.1f} s; apkit on {far.url}")
        _account(clawnet, "mod@example.com", "moderator", Role.ADMIN)  # owns the bot
        _account(clawnet, "ada@example.com", "ada", Role.MEMBER)
        _bot_token(clawnet, "mod@example.com", "helper")
        yield Interop(clawnet, far, _client(clawnet, _token(clawnet, "ada@example.com")))
    finally:
        clawnet.stop()
        far.stop()
        print(f"\n[interop] took {time.monotonic() - began:.1f} s")


def _free_port_not(taken: int) -> int:
    from tests.support.server import free_port

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


# --- (c) a tampered body under apkit's signature ---------------------------------------------------


def test_a_body_tampered_after_apkit_signed_it_is_refused_with_401(interop):
    signed = _note(interop, "Signed words", 2)
    tampered = {**signed, "object": {**signed["object"], "content": "<p>Tampered words</p>"}}
    for inbox in (f"{interop.clawnet.url}/ap/inbox", interop.ada_actor + "/inbox"):
        assert interop.far.send_tampered(inbox, signed, tampered) == 401
    time.sleep(1)
    home = interop.ada.timeline_home(limit=40)
    assert find(home, "Tampered words") is None and find(home, "Signed words") is None
    # The same signer and body, untouched, is accepted: the 401 was the tampering.
    assert interop.far.send_tampered(f"{interop.clawnet.url}/ap/inbox", signed, signed) in (200, 202)
    wait_for(
        "the untampered note", lambda: find(interop.ada.timeline_home(limit=40), "Signed words"), interop
    )
