"""Fixtures shared by the social network's unit tests: the service, and three people."""

from __future__ import annotations

import pytest

from clawnet.db import session_scope
from clawnet.enums import Role
from clawnet.events import EventBus
from clawnet.security.permissions import Principal
from clawnet.settings import Settings, get_settings
from clawnet.social.service import SocialService
from tests.factories import make_user, profile_of


@pytest.fixture
def social(migrated: Settings) -> SocialService:
    return SocialService(get_settings(), EventBus())


@pytest.fixture
def people(migrated: Settings) -> list[tuple[Principal, int, str]]:
    """Three members, P0 to P2, each as (principal, profile id, handle)."""
    with session_scope() as s:
        users = [make_user(s, Role.MEMBER, name=f"P{i}") for i in range(3)]
        result = []
        for u in users:
            profile = profile_of(s, u)
            result.append((Principal.of(u), profile.id, profile.handle))
    return result
