"""WebFinger, host-meta, NodeInfo, actors, notes and collections, as served; and a profile's own
federation switch.

Each method runs its database work off the event loop and answers plain JSON-ready dicts (None:
not served, the route's 404)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlmodel import Session, select

from clawnet import audit
from clawnet.db import run_in_session
from clawnet.errors import NotFound
from clawnet.events import EventBus
from clawnet.models import Profile
from clawnet.security.permissions import Action, Principal, require
from clawnet.settings import Settings
from clawnet.social import profiles
from clawnet.social.federation import actor_collections, discovery, documents

T = TypeVar("T")


@dataclass(frozen=True)
class FederationStatus:
    """A profile's federation switch as its owner sees it (Settings → Profile)."""

    federated: bool  # the profile's own switch
    instance_enabled: bool  # the instance's (CLAWNET_FEDERATION)
    address: str  # `@handle@host`


class FederationPublishing:
    def __init__(self, settings: Settings, bus: EventBus) -> None:
        self.settings = settings
        self.bus = bus

    async def _read(self, fn: Callable[[Session], T]) -> T:
        return await run_in_session(fn, self.settings.database_url)

    # --- discovery ---------------------------------------------------------------------------

    async def webfinger(self, resource: str) -> dict[str, Any] | None:
        return await self._read(lambda s: discovery.webfinger(s, self.settings, resource))

    async def host_meta(self) -> str:
        return discovery.host_meta(self.settings)

    async def nodeinfo_links(self) -> dict[str, Any]:
        return discovery.nodeinfo_links(self.settings)

    async def nodeinfo(self) -> dict[str, Any]:
        return await self._read(lambda s: discovery.nodeinfo(s, self.settings))

    # --- actors and their collections --------------------------------------------------------

    async def actor(self, handle: str) -> dict[str, Any] | None:
        def read(session: Session) -> dict[str, Any] | None:
            profile = documents.local_profile(session, self.settings, handle)
            return documents.actor(session, self.settings, profile) if profile is not None else None

        return await self._read(read)

    async def _collection(
        self,
        handle: str,
        page: str | None,
        build: Callable[[Session, Settings, Profile, str | None], dict[str, Any]],
    ) -> dict[str, Any] | None:
        def read(session: Session) -> dict[str, Any] | None:
            profile = documents.local_profile(session, self.settings, handle)
            return build(session, self.settings, profile, page) if profile is not None else None

        return await self._read(read)

    async def outbox(self, handle: str, page: str | None = None) -> dict[str, Any] | None:
        return await self._collection(handle, page, actor_collections.outbox)

    async def followers(self, handle: str, page: str | None = None) -> dict[str, Any] | None:
        return await self._collection(handle, page, actor_collections.followers)

    async def following(self, handle: str, page: str | None = None) -> dict[str, Any] | None:
        return await self._collection(handle, page, actor_collections.following)

    # --- notes -------------------------------------------------------------------------------

    async def note(self, post_id: int) -> dict[str, Any] | None:
        """A public post as a Note (followers-only, hidden, boosts, unpublished authors: None)."""

        def read(session: Session) -> dict[str, Any] | None:
            post = documents.servable_post(session, self.settings, post_id)
            return documents.note(session, self.settings, post) if post is not None else None

        return await self._read(read)

    async def comment(self, comment_id: int) -> dict[str, Any] | None:
        def read(session: Session) -> dict[str, Any] | None:
            comment = documents.servable_comment(session, self.settings, comment_id)
            return documents.comment_note(session, self.settings, comment) if comment is not None else None

        return await self._read(read)

    # --- the per-profile switch --------------------------------------------------------------

    def _own_profile(self, session: Session, actor: Principal | None, bot_id: int | None) -> Profile:
        """The person's own profile, or (with `bot_id`) the profile of a bot they own."""
        if bot_id is None:
            principal = require(session, actor, Action.USE_SOCIAL)
            profile = profiles.person_profile_of(session, principal.user_id)
            if profile is None:
                raise NotFound("Your account has no profile yet: choose a handle under Settings.")
            return profile
        require(session, actor, Action.MANAGE_BOT_SOCIAL, bot_id)
        profile = session.exec(select(Profile).where(Profile.bot_id == bot_id)).first()
        if profile is None:
            raise NotFound("That bot has no profile.")
        return profile

    def _status(self, profile: Profile) -> FederationStatus:
        return FederationStatus(
            federated=profile.federated,
            instance_enabled=self.settings.federation_enabled,
            address=documents.address(self.settings, profile),
        )

    async def federation_status(self, actor: Principal | None, bot_id: int | None = None) -> FederationStatus:
        return await self._read(lambda s: self._status(self._own_profile(s, actor, bot_id)))

    async def set_federated(
        self, actor: Principal | None, on: bool, bot_id: int | None = None
    ) -> FederationStatus:
        """Switch the actor's own profile (or a bot's they own) on or off for other servers. Off:
        its actor, WebFinger, notes and collections answer 404 and nothing more is delivered."""

        def write(session: Session) -> FederationStatus:
            profile = self._own_profile(session, actor, bot_id)
            if profile.federated != on:
                profile.federated = on
                session.add(profile)
                audit.record(
                    session,
                    actor,
                    "social.federation." + ("on" if on else "off"),
                    "profile",
                    profile.id,
                    f"Federation {'on' if on else 'off'} for @{profile.handle}",
                )
            return self._status(profile)

        return await self._read(write)

    async def fediverse_address(self, handle: str) -> str:
        """`@handle@host` for a profile other servers can find ('' when they cannot): shown on
        its profile page. A remote account's address is its own."""

        def read(session: Session) -> str:
            profile = session.exec(select(Profile).where(Profile.handle == handle.strip().lower())).first()
            if profile is None:
                return ""
            if profile.domain is not None or documents.servable(self.settings, profile):
                return documents.address(self.settings, profile)
            return ""

        return await self._read(read)
