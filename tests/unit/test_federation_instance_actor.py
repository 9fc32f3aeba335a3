"""The instance actor and signed fetches ("authorized fetch"): its document and WebFinger over
ClawNet's routes, its key (made once, encrypted at rest, kept across `rotate-key`), and every GET
ClawNet sends signed with it, checked by a loopback server that refuses unsigned or badly signed
requests, as Mastodon in secure mode does."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import select
from starlette.datastructures import Headers

from clawnet import db, runtime
from clawnet.db import session_scope
from clawnet.events import EventBus
from clawnet.models.federation import InstanceKey, RemoteActor
from clawnet.security.secret_fields import INSTANCE_PRIVATE_KEY
from clawnet.settings import Settings
from clawnet.social.federation import instance_actor, remote, signatures, urls
from clawnet.social.federation.service import FederationService

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


@pytest.fixture(autouse=True)
def _no_cached_keys() -> Iterator[None]:
    instance_actor.forget_signing_keys()
    yield
    instance_actor.forget_signing_keys()


@pytest.fixture
def settings(migrated: Settings) -> Settings:
    return dataclasses.replace(migrated, public_url="https://claw.example", federation_allow_private=True)


async def _api_get(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, *requests: tuple[str, dict[str, str]]
):
    from clawnet.api import build_api
    from clawnet.api.guard import SameOriginGuard

    monkeypatch.setattr(runtime, "_federation", FederationService(settings, EventBus()))
    app = SameOriginGuard(build_api(), "https://claw.example")  # type: ignore[arg-type]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://claw.example"
    ) as client:
        return [await client.get(path, params=params) for path, params in requests]


async def _instance_document(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    (response,) = await _api_get(settings, monkeypatch, ("/ap/actor", {}))
    assert response.status_code == 200
    return dict(response.json())


class SecureServer:
    """A loopback server in "authorized fetch" mode: a GET must be signed (over
    `(request-target) host date`, within the date window) by a key it trusts, else 401."""

    def __init__(self, trusted: dict[str, str]) -> None:
        self.trusted = trusted  # key id -> public key PEM
        self.documents: dict[str, bytes] = {}
        self.signed_by: list[tuple[str, str]] = []  # (path, key id) of each request served
        self.refused: list[tuple[str, str]] = []  # (path, why)
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                try:
                    header = self.headers.get("signature") or ""
                    params = signatures.parse(header) if header else None
                    if params is None:
                        raise signatures.SignatureError("not signed")
                    pem = outer.trusted.get(params.key_id)
                    if pem is None:
                        raise signatures.SignatureError(f"unknown key {params.key_id}")
                    signatures.verify("GET", self.path, self.headers, b"", pem, params=params)
                except signatures.SignatureError as exc:
                    outer.refused.append((self.path, str(exc)))
                    self._answer(401, b'{"error": "Request not signed"}')
                    return
                outer.signed_by.append((self.path, params.key_id))
                body = outer.documents.get(self.path)
                self._answer(200 if body is not None else 404, body or b"{}")

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/activity+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def secure() -> Iterator[SecureServer]:
    server = SecureServer({})
    yield server
    server.close()


def _carol(host: str) -> tuple[dict[str, Any], str]:
    public, private = signatures.new_key_pair()
    uri = f"http://{host}/users/carol"
    doc = {
        "id": uri,
        "type": "Person",
        "preferredUsername": "carol",
        "name": "Carol",
        "inbox": uri + "/inbox",
        "outbox": uri + "/outbox",
        "followers": uri + "/followers",
        "publicKey": {"id": uri + "#main-key", "owner": uri, "publicKeyPem": public},
    }
    return doc, private


# --- served ----------------------------------------------------------------------------------------------


async def test_the_instance_actor_is_an_application_found_by_webfinger(settings, monkeypatch):
    actor_url = "https://claw.example/ap/actor"
    doc, finger, by_id, outbox, unknown = await _api_get(
        settings,
        monkeypatch,
        ("/ap/actor", {}),
        ("/.well-known/webfinger", {"resource": "acct:claw.example@claw.example"}),
        ("/.well-known/webfinger", {"resource": actor_url}),
        ("/ap/actor/outbox", {}),
        ("/.well-known/webfinger", {"resource": "acct:claw.example@elsewhere.example"}),
    )
    assert doc.status_code == 200 and doc.headers["content-type"].startswith("application/activity+json")
    actor = doc.json()
    assert actor["id"] == actor_url and actor["type"] == "Application"
    assert actor["preferredUsername"] == "claw.example"
    assert actor["inbox"] == actor_url + "/inbox" and actor["outbox"] == actor_url + "/outbox"
    assert actor["publicKey"]["id"] == actor_url + "#main-key" and actor["publicKey"]["owner"] == actor_url
    assert "BEGIN PUBLIC KEY" in actor["publicKey"]["publicKeyPem"]
    remote.check_actor(actor, actor_url)  # what another server checks of a fetched actor
    for answer in (finger, by_id):
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/jrd+json")
        assert answer.json()["subject"] == "acct:claw.example@claw.example"
        selves = [link for link in answer.json()["links"] if link["rel"] == "self"]
        assert selves == [{"rel": "self", "type": "application/activity+json", "href": actor_url}]
    assert outbox.status_code == 200
    assert outbox.json()["type"] == "OrderedCollection" and outbox.json()["totalItems"] == 0
    assert unknown.status_code == 404


async def test_the_instance_inbox_accepts_and_ignores_and_browsers_go_home(settings, monkeypatch):
    from clawnet.api import build_api
    from clawnet.api.guard import SameOriginGuard

    monkeypatch.setattr(runtime, "_federation", FederationService(settings, EventBus()))
    app = SameOriginGuard(build_api(), "https://claw.example")  # type: ignore[arg-type]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://claw.example"
    ) as client:
        posted = await client.post("/ap/actor/inbox", content=b'{"type": "Follow"}')
        browser = await client.get("/ap/actor", headers={"accept": "text/html"})
    assert posted.status_code == 202
    assert browser.status_code == 302 and browser.headers["location"] == "/"


async def test_with_federation_off_the_instance_actor_is_not_served(settings, monkeypatch):
    off = dataclasses.replace(settings, federation_enabled=False)
    doc, finger, outbox = await _api_get(
        off,
        monkeypatch,
        ("/ap/actor", {}),
        ("/.well-known/webfinger", {"resource": "acct:claw.example@claw.example"}),
        ("/ap/actor/outbox", {}),
    )
    assert (doc.status_code, finger.status_code, outbox.status_code) == (404, 404, 404)


# --- the key -----------------------------------------------------------------------------------------------


def test_the_key_is_made_once_and_encrypted_at_rest(settings):
    with session_scope() as s:
        private_pem = instance_actor.private_key(s)
        public_pem = instance_actor.public_key(s)
    with session_scope() as s:
        assert instance_actor.private_key(s) == private_pem
        rows = s.exec(select(InstanceKey)).all()
    assert len(rows) == 1 and rows[0].public_key_pem == public_pem
    stored = rows[0].private_key_enc
    assert "PRIVATE KEY" not in stored and private_pem not in stored and stored.startswith("cn1:")
    assert INSTANCE_PRIVATE_KEY.unseal(stored) == private_pem
    headers = signatures.sign("GET", "https://remote.example/users/x", None, "k", private_pem)
    signatures.verify("GET", "/users/x", Headers(headers), b"", public_pem)


def test_the_key_survives_rotate_key(settings):
    from clawnet.security import crypto
    from clawnet.security.key_rotation import key_ids_in_use, rotate_key

    with session_scope() as s:
        private_pem = instance_actor.private_key(s)
    report = rotate_key(settings)
    assert report.reencrypted["ap_instance_keys.private_key"] == 1
    crypto.set_key_ring(None)
    with session_scope() as s:
        assert key_ids_in_use(s) == {report.new_key_id}
        assert instance_actor.private_key(s) == private_pem


def test_the_migration_adds_and_removes_the_key_table(migrated):
    from alembic import command

    url = migrated.database_url
    command.downgrade(db.alembic_config(url), "be3a9f7d5c28")
    assert "ap_instance_keys" not in sa.inspect(db.get_engine(url)).get_table_names()
    db.migrate(url)
    assert "ap_instance_keys" in sa.inspect(db.get_engine(url)).get_table_names()
    with session_scope() as s:
        assert instance_actor.public_key(s).startswith("-----BEGIN PUBLIC KEY-----")


# --- signed fetches ------------------------------------------------------------------------------------------


async def test_fetches_are_signed_so_a_secure_mode_server_answers(settings, monkeypatch, secure):
    actor = await _instance_document(settings, monkeypatch)
    secure.trusted[actor["publicKey"]["id"]] = actor["publicKey"]["publicKeyPem"]
    doc, _ = _carol(secure.host)
    secure.documents["/users/carol"] = json.dumps(doc).encode()
    secure.documents[f"/.well-known/webfinger?resource=acct:carol@{secure.host}"] = json.dumps(
        {"links": [{"rel": "self", "type": "application/activity+json", "href": doc["id"]}]}
    ).encode()
    async with httpx.AsyncClient() as plain:
        unsigned = await plain.get(f"http://{secure.host}/users/carol")
    assert unsigned.status_code == 401  # the server really requires signatures

    uri = await remote.lookup(settings, f"carol@{secure.host}")
    fetched = await remote.fetch_actor(settings, uri)

    assert fetched["preferredUsername"] == "carol"
    key_id = "https://claw.example/ap/actor#main-key"
    assert secure.signed_by == [
        (f"/.well-known/webfinger?resource=acct:carol@{secure.host}", key_id),
        ("/users/carol", key_id),
    ]
    assert secure.refused == [("/users/carol", "not signed")]


async def test_a_secure_mode_server_refuses_a_wrong_key_or_a_replayed_date(settings, monkeypatch, secure):
    """The stand-in server's checks are real: a GET signed by another key, or signed long ago, is
    refused, so the test above passing means ClawNet's signature verified."""
    actor = await _instance_document(settings, monkeypatch)
    secure.trusted[actor["publicKey"]["id"]] = actor["publicKey"]["publicKeyPem"]
    secure.documents["/users/carol"] = b"{}"
    url = f"http://{secure.host}/users/carol"
    _, other_private = signatures.new_key_pair()
    with session_scope() as s:
        own_private = instance_actor.private_key(s)
    key_id = actor["publicKey"]["id"]
    wrong = signatures.sign("GET", url, None, key_id, other_private)
    replayed = signatures.sign(
        "GET", url, None, key_id, own_private, now=datetime.now(UTC) - timedelta(hours=3)
    )
    fresh = signatures.sign("GET", url, None, key_id, own_private)
    async with httpx.AsyncClient() as client:
        statuses = [(await client.get(url, headers=h)).status_code for h in (wrong, replayed, fresh)]
    assert statuses == [401, 401, 200]
    assert "does not verify" in secure.refused[0][1] and "too far from now" in secure.refused[1][1]


async def test_the_inbox_fetches_a_signers_key_with_a_signed_get(settings, monkeypatch, secure, people):
    actor = await _instance_document(settings, monkeypatch)
    secure.trusted[actor["publicKey"]["id"]] = actor["publicKey"]["publicKeyPem"]
    doc, private = _carol(secure.host)
    secure.documents["/users/carol"] = json.dumps(doc).encode()
    note = {
        "id": doc["id"] + "/statuses/1",
        "type": "Note",
        "attributedTo": doc["id"],
        "content": "<p>from a secure server</p>",
        "to": [PUBLIC],
    }
    activity = {"id": doc["id"] + "/activities/1", "type": "Create", "actor": doc["id"], "object": note}
    body = json.dumps(activity).encode()
    path = urls.SHARED_INBOX_PATH
    headers = signatures.sign(
        "POST",
        urls.base(settings) + path,
        body,
        doc["publicKey"]["id"],
        private,
        content_type="application/activity+json",
    )

    status, message = await FederationService(settings, EventBus()).receive(
        None, "POST", path, Headers(headers), body
    )

    assert status == 202, message
    assert secure.signed_by == [("/users/carol", "https://claw.example/ap/actor#main-key")]
    with session_scope() as s:
        row = s.exec(select(RemoteActor).where(RemoteActor.actor_uri == doc["id"])).one()
    assert row.public_key_pem == doc["publicKey"]["publicKeyPem"]


async def test_the_signing_key_is_read_once_then_kept_in_memory(settings, monkeypatch):
    calls: list[str] = []
    real = db.run_in_session

    async def counting(fn, url=None):  # type: ignore[no-untyped-def]
        calls.append(getattr(fn, "__name__", "?"))
        return await real(fn, url)

    monkeypatch.setattr(instance_actor, "run_in_session", counting)
    first = await instance_actor.signed_get_headers(settings, "https://remote.example/a")
    second = await instance_actor.signed_get_headers(settings, "https://remote.example/b")
    assert calls == ["private_key"]
    assert first["Signature"].startswith('keyId="https://claw.example/ap/actor#main-key"')
    assert 'headers="(request-target) host date"' in second["Signature"] and "Digest" not in second
    assert second["Host"] == "remote.example"
