"""One running ClawNet with a victim's world for the whole security suite (it starts in ~20 s)."""

from __future__ import annotations

import pytest

from tests.security.world import build_world
from tests.support.server import running_clawnet


@pytest.fixture(scope="package")
def world(tmp_path_factory):
    with running_clawnet(tmp_path_factory.mktemp("security")) as server:
        yield build_world(server)
