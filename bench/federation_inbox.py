"""Inbox throughput: activities per second verified and applied.

N signed `Create` activities (public notes) from K remote actors go through the inbox's
`receive()` one after another (HTTP Signature checked against the cached key, de-duplicated,
applied in one transaction each, events published), on SQLite in a fresh data folder. The remote
actors' documents are served from memory (the first activity of each actor fetches it once).

The plain way beside it: the same number of fresh activities through `receive()` with the
signature check swapped out for a no-op in this process only (the bench's own patch), to show what verification costs. Both also
run with C concurrent senders (asyncio tasks), as several remote servers would deliver at once.

    .venv/bin/python bench/federation_inbox.py [--activities 2000] [--actors 50] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def actor_doc(n: int, public_pem: str) -> dict[str, Any]:
    uri = f"https://host{n % 10}.example/users/actor{n}"
    return {
        "id": uri,
        "type": "Person",
        "preferredUsername": f"actor{n}",
        "name": f"Actor {n}",
        "inbox": uri + "/inbox",
        "publicKey": {"id": uri + "#main-key", "owner": uri, "publicKeyPem": public_pem},
    }


def activities(
    settings: Any, docs: list[dict[str, Any]], private: str, count: int, tag: str
) -> list[tuple[dict[str, str], bytes]]:
    from clawnet.social.federation import signatures, urls

    url = urls.shared_inbox(settings)
    out = []
    for i in range(count):
        doc = docs[i % len(docs)]
        note = {
            "id": f"{doc['id']}/statuses/{tag}{i}",
            "type": "Note",
            "attributedTo": doc["id"],
            "content": f"<p>Note {i} from {doc['preferredUsername']} #bench</p>",
            "to": [PUBLIC],
            "cc": [doc["id"] + "/followers"],
            "tag": [{"type": "Hashtag", "name": "#bench"}],
        }
        activity = {"id": f"{note['id']}/activity", "type": "Create", "actor": doc["id"], "object": note}
        body = json.dumps(activity).encode()
        headers = signatures.sign(
            "POST", url, body, doc["publicKey"]["id"], private, content_type="application/activity+json"
        )
        out.append((headers, body))
    return out


async def deliver_all(
    settings: Any, batch: list[tuple[dict[str, str], bytes]], verify: bool, concurrency: int
) -> float:
    from starlette.datastructures import Headers

    from clawnet.social.federation import inbox, signatures

    async def publish(_outbox: Any) -> None:
        return None

    queue = list(reversed(batch))
    statuses: list[int] = []

    async def worker() -> None:
        while queue:
            headers, body = queue.pop()
            status, _ = await inbox.receive(
                settings, publish, None, "POST", "/ap/inbox", Headers(headers), body
            )
            statuses.append(status)

    real_verify = signatures.verify
    if not verify:  # the plain way: everything but the check (patched here, never in ClawNet)
        signatures.verify = lambda *_args, **_kw: None  # type: ignore[assignment]
    try:
        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - t0
    finally:
        signatures.verify = real_verify
    bad = [s for s in statuses if s != 202]
    if bad:
        raise SystemExit(f"{len(bad)} activities refused (first status {bad[0]})")
    return elapsed


async def main(count: int, actors: int, concurrency: int) -> None:
    from clawnet import db
    from clawnet.security import crypto
    from clawnet.settings import get_settings
    from clawnet.social.federation import remote, signatures

    # Loading a PEM private key checks it (~0.1 s on a small machine): sign the bench's
    # activities with the key loaded once (signing is set-up here, not what is measured).
    load = signatures.serialization.load_pem_private_key
    signatures.serialization.load_pem_private_key = functools.lru_cache(maxsize=4)(  # type: ignore[assignment]
        lambda data, password=None: load(data, password=password)
    )
    with tempfile.TemporaryDirectory(prefix="clawnet-inbox-bench-") as tmp:
        os.environ["CLAWNET_DATA_DIR"] = tmp
        os.environ.pop("DATABASE_URL", None)
        get_settings.cache_clear()
        crypto.set_key_ring(None)
        db.dispose_engines()
        settings = get_settings()
        db.migrate(settings.database_url)
        public, private = signatures.new_key_pair()  # one key for all actors: signing is not measured
        docs = [actor_doc(n, public) for n in range(actors)]
        directory = {d["id"]: d for d in docs}

        async def get_json(_settings: Any, url: str, accept: str = "") -> dict[str, Any]:
            return directory[url]

        remote.get_json = get_json  # type: ignore[assignment]
        warm = activities(settings, docs, private, actors, "warm")
        await deliver_all(settings, warm, True, 1)  # every actor fetched and stored once
        print(f"inbox throughput, {count:,} Create activities from {actors} actors (SQLite):", flush=True)
        for c in sorted({1, concurrency}):
            for verify in (True, False):
                batch = activities(settings, docs, private, count, f"{'v' if verify else 'p'}{c}-")
                elapsed = await deliver_all(settings, batch, verify, c)
                label = "verified + applied" if verify else "applied, no verification (plain)"
                print(
                    f"  concurrency {c:>2}  {label:<34} {count / elapsed:8.0f} activities/s"
                    f"  ({elapsed * 1000 / count:.2f} ms each)",
                    flush=True,
                )
        # The verification alone (parse, digest, RSA check) on the same requests, no database.
        from starlette.datastructures import Headers

        sample = activities(settings, docs, private, 200, "verify-only-")
        t0 = time.perf_counter()
        for headers, body in sample:
            signatures.verify("POST", "/ap/inbox", Headers(headers), body, public)
        each = (time.perf_counter() - t0) / len(sample)
        print(f"  signature verification alone: {each * 1000:.2f} ms each ({1 / each:,.0f}/s)", flush=True)
        db.dispose_engines()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--activities", type=int, default=2000)
    parser.add_argument("--actors", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(main(args.activities, args.actors, args.concurrency))
