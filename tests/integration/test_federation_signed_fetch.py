"""Two ClawNet backends on loopback: each finds the other's instance actor by WebFinger
(`acct:host@host`), and the fetches a remote follow needs are signed with the key each instance
serves there (the key pair is made on the first signed fetch)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from sqlmodel import select

from clawnet.accounts.registration import register as register_account
from clawnet.models.federation import InstanceKey
from tests.support.federation_pair import Instance, federation_pair

FOLLOW_REMOTE = "runtime.federation().follow_remote(actor, values['address'])"


@pytest.fixture(scope="module")
def pair(tmp_path_factory) -> Iterator[tuple[Instance, Instance]]:
    with federation_pair(tmp_path_factory.mktemp("signed-fetch")) as (a, b):
        for inst, email, handle in ((a, "ada@example.com", "ada"), (b, "bob@example.com", "bob")):
            with inst.db() as s:
                register_account(
                    s, email=email, display_name=handle.title(), password="test-password-123", handle=handle
                )
        yield a, b


def _instance_actor(inst: Instance) -> dict:
    finger = httpx.get(
        inst.url + "/.well-known/webfinger", params={"resource": f"acct:{inst.host}@{inst.host}"}, timeout=10
    )
    assert finger.status_code == 200, finger.text
    href = next(link["href"] for link in finger.json()["links"] if link["rel"] == "self")
    doc = httpx.get(href, headers={"accept": "application/activity+json"}, timeout=10)
    assert doc.status_code == 200, doc.text
    return dict(doc.json())


def _stored_public_key(inst: Instance) -> str | None:
    with inst.db() as s:
        row = s.exec(select(InstanceKey)).first()
        return row.public_key_pem if row is not None else None


def test_a_follow_across_servers_is_fetched_signed_with_the_served_instance_keys(pair):
    a, b = pair
    assert _stored_public_key(a) is None  # nothing fetched yet: no key made
    a.call("ada@example.com", FOLLOW_REMOTE, address=f"bob@{b.host}")  # A fetches bob (signed)
    deadline = time.monotonic() + 30
    while _stored_public_key(b) is None and time.monotonic() < deadline:  # B fetches ada's key
        time.sleep(0.3)
    for inst in (a, b):
        actor = _instance_actor(inst)
        assert actor["type"] == "Application" and actor["preferredUsername"] == inst.host
        assert actor["id"] == f"{inst.url}/ap/actor"
        # The key each instance signed its fetches with is the one it serves.
        assert actor["publicKey"]["publicKeyPem"] == _stored_public_key(inst)
