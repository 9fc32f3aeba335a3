"""Federation fan-out: one post to 1,000 remote followers across 50 hosts, time to last delivery.

In one process on a fresh SQLite installation: 50 fake ActivityPub servers on loopback (each
answers 202 after `--latency` seconds, as a remote server would take, and checks every request's
HTTP Signature with the sender's public key), 20 remote followers on each, every follower with
its own inbox (no shared inbox, so 1,000 deliveries). A local person posts through the social
service (`create_post`, which queues the deliveries in its transaction); the delivery worker
(`DeliveryWorker`, 4 per host, 32 at once) sends them. Printed: time from create_post to the last
delivery received, and beside it the plain way in the same run, a sequential `for inbox: sign;
POST` loop over the same 1,000 inboxes.

    .venv/bin/python bench/federation_fanout.py [--hosts 50] [--per-host 20] [--latency 0.02]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def setup(hosts: int, per_host: int, latency: float) -> tuple[object, ...]:
    os.environ["CLAWNET_DATA_DIR"] = tempfile.mkdtemp(prefix="clawnet-fedbench-")
    os.environ["CLAWNET_FEDERATION_ALLOW_PRIVATE"] = "1"
    for name in ("DATABASE_URL", "CLAWNET_SECRET_KEY", "CLAWNET_PREVIOUS_SECRET_KEYS", "CLAWNET_KEY_FILE"):
        os.environ.pop(name, None)
    from clawnet import db
    from clawnet.enums import Role
    from clawnet.models import Follow, Profile
    from clawnet.models.federation import RemoteActor
    from clawnet.security.permissions import Principal
    from clawnet.settings import get_settings
    from clawnet.social.federation import keys
    from tests.factories import make_user, profile_of
    from tests.support.fake_inbox import FakeInbox

    get_settings.cache_clear()
    db.migrate()
    servers = [FakeInbox(delay=latency).__enter__() for _ in range(hosts)]
    with db.session_scope() as s:
        user = make_user(s, Role.MEMBER, name="Poster")
        me = profile_of(s, user)
        key_id, private = keys.actor_key(s, get_settings(), me)
        public = keys.public_key(s, get_settings(), me)
        inboxes = []
        for h, server in enumerate(servers):
            for n in range(per_host):
                handle = f"f{h}_{n}@{server.host}"
                remote = Profile(handle=handle, display_name=handle, domain=server.host)
                s.add(remote)
                s.flush()
                inbox = server.inbox(f"users/f{n}/inbox")
                inboxes.append(inbox)
                s.add(
                    RemoteActor(
                        profile_id=remote.id or 0,
                        actor_uri=f"{server.url}/users/f{n}",
                        domain=server.host,
                        username=f"f{n}",
                        inbox_url=inbox,
                    )
                )
                s.add(Follow(follower_id=remote.id or 0, followee_id=me.id or 0))
        principal = Principal.of(user)
        me_id = me.id
    return servers, principal, me_id, public, (key_id, private), inboxes


class Recorder:
    """Counts deliveries at every fake server, checks signatures, keeps the last arrival time."""

    def __init__(self, public_pem: str) -> None:
        from clawnet.social.federation import signatures

        self.signatures = signatures
        self.public_pem = public_pem
        self.lock = threading.Lock()
        self.count = 0
        self.bad = 0
        self.last = 0.0

    def __call__(self, request: object) -> None:
        try:
            self.signatures.verify("POST", request.path, request.headers, request.body, self.public_pem)  # type: ignore[attr-defined]
            ok = True
        except self.signatures.SignatureError:
            ok = False
        with self.lock:
            self.count += 1
            self.bad += 0 if ok else 1
            self.last = time.perf_counter()


async def main(hosts: int, per_host: int, latency: float) -> None:
    servers, principal, _me_id, public, (key_id, private), inboxes = setup(hosts, per_host, latency)
    import httpx

    from clawnet.events import EventBus
    from clawnet.settings import get_settings
    from clawnet.social.federation import signatures
    from clawnet.social.federation.delivery import DeliveryWorker
    from clawnet.social.service import SocialService

    settings = get_settings()
    total = hosts * per_host
    recorder = Recorder(public)
    for server in servers:
        server.on_request = recorder
    social = SocialService(settings, EventBus())
    worker = DeliveryWorker(settings)
    task = asyncio.create_task(worker.run())
    await asyncio.sleep(0.3)

    started = time.perf_counter()
    await social.create_post(principal, "Hello, fediverse! #clawnet")
    queued_at = time.perf_counter()
    while recorder.count < total:
        await asyncio.sleep(0.01)
        if time.perf_counter() - started > 600:
            break
    queue_s = recorder.last - started
    await worker.stop()
    task.cancel()
    print(
        f"{total} deliveries to {hosts} hosts ({per_host} followers each), {latency * 1000:.0f} ms per request"
    )
    print(
        f"  delivery queue: create_post returned in {queued_at - started:.2f} s; last delivery at {queue_s:.2f} s"
    )
    print(f"  received {recorder.count}, bad signatures {recorder.bad}; max concurrency per host "
          f"{max(s.max_concurrent for s in servers)}")  # fmt: skip

    # The plain way, measured in the same run: sign and POST each inbox in turn.
    body = b'{"type":"Create","id":"http://bench/x"}'
    before, recorder.count = recorder.count, 0
    plain_started = time.perf_counter()
    async with httpx.AsyncClient(timeout=15) as client:
        for inbox in inboxes:
            headers = signatures.sign(
                "POST", inbox, body, key_id, private, content_type="application/activity+json"
            )
            await client.post(inbox, content=body, headers=headers)
    plain_s = time.perf_counter() - plain_started
    print(f"  naive sequential loop: {plain_s:.2f} s for {recorder.count} of {total}")
    print(f"  speed-up: {plain_s / queue_s:.1f}x  (earlier count {before})")
    for server in servers:
        server.__exit__()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--per-host", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.02, help="each fake server's answer delay (s)")
    args = parser.parse_args()
    asyncio.run(main(args.hosts, args.per_host, args.latency))
