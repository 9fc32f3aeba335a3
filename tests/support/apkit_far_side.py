"""A far side from another project: an ActivityPub server built on apkit (PyPI: apkit, with the same
authors' apmodel for the vocabulary and apsig for HTTP Signatures), for interop tests.

Everything that speaks ActivityPub here is apkit's code, not ClawNet's:
  - the server is apkit's `ActivityPubServer` (FastAPI); its inbox route runs apkit's
    `InboxVerifier`, which fetches the sender's actor with apkit's client, parses it with apmodel and
    verifies the draft-cavage signature with apsig, answering 401 when that fails;
  - the actor document is an apmodel `Person` with an apmodel `CryptographicKey`;
  - outgoing activities are signed and posted by apkit's `ActivityPubClient` (apsig draft-cavage);
  - a ClawNet account is resolved with apkit's WebFinger model and validation, and its actor parsed
    by apmodel.
This module only wires those pieces to a loopback port (uvicorn in a thread) and records what the
inbox accepted. (apkit's own `resolve` builds an https URL, so WebFinger is fetched over http here
and the answer handed to apkit's parser and validator.)

    far = FarSide.start()           alice on http://127.0.0.1:<port>
    far.received                    activities apkit verified and accepted, as dicts
    far.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import apmodel
import httpx
import uvicorn
from apkit import models as vocab
from apkit.client import models as webfinger
from apkit.client._common import validate_webfinger_result
from apkit.client.asyncio.client import ActivityPubClient
from apkit.models import Accept, Follow, Person
from apkit.server.app import ActivityPubServer
from apkit.server.responses import ActivityResponse
from apkit.server.types import Context
from apkit.types import ActorKey
from apmodel.extra.security import CryptographicKey
from apsig import draft
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import Request
from fastapi.responses import JSONResponse

from tests.support.server import free_port

USERNAME = "alice"
AS_PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


@dataclass
class FarSide:
    port: int
    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    received: list[dict[str, Any]] = field(default_factory=list)
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None

    # --- where things are ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def acct(self) -> str:
        return f"{USERNAME}@{self.host}"

    @property
    def actor_id(self) -> str:
        return f"{self.url}/users/{USERNAME}"

    @property
    def key_id(self) -> str:
        return self.actor_id + "#main-key"

    @property
    def keys(self) -> list[ActorKey]:
        return [ActorKey(key_id=self.key_id, private_key=self.key)]

    def actor(self) -> Person:
        pem = self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return Person(
            id=self.actor_id,
            preferredUsername=USERNAME,
            name="Alice (apkit)",
            summary="An apkit actor on loopback.",
            inbox=self.actor_id + "/inbox",
            outbox=self.actor_id + "/outbox",
            followers=self.actor_id + "/followers",
            following=self.actor_id + "/following",
            publicKey=CryptographicKey(id=self.key_id, owner=self.actor_id, publicKeyPem=pem.decode()),
        )

    # --- the server ------------------------------------------------------------------------------

    def app(self) -> ActivityPubServer:
        app = ActivityPubServer()
        app.inbox(f"/users/{USERNAME}/inbox", "/inbox")

        @app.get(f"/users/{USERNAME}")
        async def get_actor() -> ActivityResponse:
            return ActivityResponse(self.actor())

        @app.webfinger()
        async def finger(request: Request, acct: webfinger.Resource) -> JSONResponse:
            if acct.username != USERNAME:
                return JSONResponse({"error": "not found"}, status_code=404)
            link = webfinger.Link(rel="self", type="application/activity+json", href=self.actor_id)
            result = webfinger.WebfingerResult(subject=acct, links=[link])
            return JSONResponse(result.to_json(), media_type="application/jrd+json")

        async def record(ctx: Context) -> JSONResponse:
            self.received.append(apmodel.to_dict(ctx.activity))
            return JSONResponse({"ok": True}, status_code=202)

        kinds = (vocab.Accept, vocab.Reject, vocab.Create, vocab.Update, vocab.Delete, vocab.Undo, vocab.Like)
        for kind in (*kinds, vocab.Announce):
            app.on(kind, record)

        @app.on(Follow)
        async def on_follow(ctx: Context) -> JSONResponse:
            """Record the Follow and accept it, as a server would: apkit fetches the follower's actor
            and posts a signed Accept to its inbox."""
            self.received.append(apmodel.to_dict(ctx.activity))
            accept = Accept(
                id=f"{self.actor_id}#accepts/{time.time_ns()}", actor=self.actor_id, object=ctx.activity
            )
            async with ActivityPubClient() as client:
                follower = await client.actor.fetch(str(ctx.activity.actor))
                inbox = str(getattr(follower, "inbox", ""))
                # Not ctx.send: it also adds an LD signature, whose JSON-LD contexts pyld would
                # fetch from the network. Mastodon-style draft-cavage HTTP signatures only.
                async with client.post(inbox, json=accept, signatures=self.keys, sign_with=["draft-cavage"]):
                    pass
            return JSONResponse({"ok": True}, status_code=202)

        return app

    @classmethod
    def start(cls, timeout_s: float = 20.0) -> FarSide:
        far = cls(free_port())
        config = uvicorn.Config(
            far.app(), host="127.0.0.1", port=far.port, log_level="warning", lifespan="off"
        )
        far._server = uvicorn.Server(config)
        far._thread = threading.Thread(target=far._server.run, name="apkit-far-side", daemon=True)
        far._thread.start()
        deadline = time.monotonic() + timeout_s
        while not far._server.started:
            if time.monotonic() > deadline or not far._thread.is_alive():
                raise RuntimeError("the apkit far side did not start")
            time.sleep(0.05)
        return far

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [a for a in self.received if a.get("type") == kind]

    # --- acting as alice, with apkit's client ----------------------------------------------------

    def resolve(self, acct: str) -> Any:
        """WebFinger `acct` (user@host), validated by apkit, then the actor it links, parsed by apmodel."""

        async def run() -> Any:
            username, host = acct.split("@", 1)
            resource = webfinger.Resource(username=username, host=host)
            async with ActivityPubClient() as client:
                async with client.get(
                    f"http://{host}/.well-known/webfinger?resource={resource}",
                    headers={"Accept": "application/jrd+json"},
                ) as resp:
                    resp.raise_for_status()
                    result = webfinger.WebfingerResult.from_dict(await resp.json(content_type=None))
                validate_webfinger_result(result, resource)
                link = result.get("application/activity+json")
                href = (link[0] if isinstance(link, list) else link).href
                return await client.actor.fetch(str(href))

        return asyncio.run(run())

    def send(self, inbox: str, activity: Any) -> int:
        """POST `activity` (an apmodel model or dict) to `inbox`, signed by apkit (draft-cavage)."""

        async def run() -> int:
            async with (
                ActivityPubClient() as client,
                client.post(inbox, json=activity, signatures=self.keys, sign_with=["draft-cavage"]) as r,
            ):
                return r.status

        return asyncio.run(run())

    def send_signed(
        self,
        inbox: str,
        activity: dict[str, Any],
        *,
        sent: dict[str, Any] | None = None,
        key: rsa.RSAPrivateKey | None = None,
        key_id: str | None = None,
        date: str | None = None,
    ) -> int:
        """Sign `activity` with apsig's draft-cavage signer (alice's key and key id unless `key` or
        `key_id`; `date` as the signed Date header) and POST `sent` (default: `activity`) under it."""
        body = json.dumps(activity).encode()
        headers = {"Content-Type": "application/activity+json", "Host": urlsplit(inbox).netloc}
        if date is not None:
            headers["Date"] = date
        signed = draft.Signer(
            headers=headers,
            method="POST",
            url=inbox,
            key_id=key_id or self.key_id,
            private_key=key or self.key,
            body=body,
        ).sign()
        content = body if sent is None else json.dumps(sent).encode()
        with contextlib.closing(httpx.Client(timeout=20)) as client:
            return client.post(inbox, content=content, headers=signed).status_code
