"""The inbox (verify, de-duplicate, apply) and remote accounts (look up, fetch, follow)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlmodel import Session, col, select

from clawnet.db import run_in_session
from clawnet.events import EventBus
from clawnet.models import Profile
from clawnet.security.permissions import Principal
from clawnet.settings import Settings
from clawnet.social import profiles, search
from clawnet.social.federation import inbox, remote
from clawnet.social.rules import Outbox
from clawnet.social.views import ProfileCard

if TYPE_CHECKING:
    from clawnet.social.service import SocialService


class FederationReceiving:
    def __init__(self, settings: Settings, bus: EventBus) -> None:
        self.settings = settings
        self.bus = bus

    def _social_service(self) -> SocialService:
        """The social service (made on first use: the mixins' __init__s do not chain)."""
        social: SocialService | None = getattr(self, "_social", None)
        if social is None:
            from clawnet.social.service import SocialService

            social = self._social = SocialService(self.settings, self.bus)
        return social

    async def _publish(self, outbox: Outbox) -> None:
        await self._social_service().publish(outbox)

    # --- the inbox ---------------------------------------------------------------------------

    async def receive(
        self,
        inbox_handle: str | None,
        method: str,
        path_and_query: str,
        headers: Mapping[str, str],
        body: bytes,
    ) -> tuple[int, str]:
        """One POST to the shared inbox (`inbox_handle` None) or an actor's: (status, message)."""
        return await inbox.receive(
            self.settings, self._publish, inbox_handle, method, path_and_query, headers, body
        )

    # --- remote accounts ---------------------------------------------------------------------

    async def _resolve(self, address: str) -> int:
        """The local stand-in's profile id for "user@host" (looked up, fetched and stored)."""
        if not self.settings.federation_enabled:
            raise remote.RemoteError("Federation is switched off on this server.")
        parsed = remote.parse_address(address)
        if parsed is None:
            raise remote.RemoteError("Write the address as user@host.")
        user, host = parsed
        if host == self.settings.federation_host.lower():
            found = await run_in_session(
                lambda s: profiles_by_handle(s, user.lower()), self.settings.database_url
            )
            if found is None:
                raise remote.RemoteError("No account at that address.")
            return found
        uri = await remote.lookup(self.settings, address)
        try:
            doc = await remote.fetch_actor(self.settings, uri)
        except remote.RemoteError as exc:
            raise remote.RemoteError("No account at that address.") from exc
        blocked = await run_in_session(
            lambda s: inbox.blocked(s, {urlsplit(uri).netloc.lower()}), self.settings.database_url
        )
        if blocked:
            raise remote.RemoteError(f"{blocked} is blocked on this server.")

        def store(session: Session) -> int:
            profile = remote.store_actor(session, self.settings, doc)
            assert profile.id is not None
            return profile.id

        return await run_in_session(store, self.settings.database_url)

    async def remote_profile(self, actor: Principal | None, address: str) -> ProfileCard:
        """The account at "user@host" as a profile card (for search), fetched now."""
        profile_id = await self._resolve(address)

        def read(session: Session) -> ProfileCard:
            viewer = None
            if actor is not None and actor.is_active:
                me = profiles.person_profile_of(session, actor.user_id)
                viewer = me.id if me is not None else None
            profile = session.get(Profile, profile_id)
            if profile is None:
                raise remote.RemoteError("No account at that address.")
            return search.cards(session, viewer, [profile])[0]

        return await run_in_session(read, self.settings.database_url)

    async def follow_remote(self, actor: Principal | None, address: str) -> int:
        """Follow the account at "user@host" (the social service's follow, whose federation hook
        sends the Follow). Returns its profile id."""
        profile_id = await self._resolve(address)
        await self._social_service().set_follow(actor, profile_id, True)
        return profile_id


def profiles_by_handle(session: Session, handle: str) -> int | None:
    return session.exec(
        select(Profile.id).where(Profile.handle == handle, col(Profile.domain).is_(None))
    ).first()
