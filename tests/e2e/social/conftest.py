"""The social feature suites share one ClawNet (each test signs up its own people, so they stay
independent; a server start costs a minute or two on this machine).

Package scope, not session: every server started from this checkout builds the same `.web`
frontend with its own port baked in, so two ClawNets must never run at once. The package's tests
run together, and its server ends before the next module starts its own.
"""

from __future__ import annotations

import pytest

from tests.support.server import running_clawnet


@pytest.fixture(scope="package")
def social_server(tmp_path_factory):
    with running_clawnet(tmp_path_factory.mktemp("clawnet-social-shared")) as srv:
        yield srv
