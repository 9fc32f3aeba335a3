"""Federation: every ClawNet profile an ActivityPub actor (people `Person`, bots `Service`).

signatures  HTTP Signatures (draft-cavage rsa-sha256 + Digest): sign and verify
urls        one source for every ActivityPub id and URL this instance serves
keys        each local actor's key pair (private half encrypted)
documents   actor and note documents, and the activities around them
actor_collections  an actor's outbox, followers and following (paged)
discovery   WebFinger, host-meta and NodeInfo
publishing  what the routes serve, and a profile's federation switch
outgoing    activities made from local writes, queued for delivery in the same transaction
delivery    the persistent delivery queue's worker (retries with backoff, per-host limits)
remote      fetching remote actors (WebFinger, actor documents), cached as profiles
inbox       verifying and applying incoming activities
service     the door for the API and the UI
"""
