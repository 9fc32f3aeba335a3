"""Search, the viewer's bot filter, grouped and filtered notifications."""

from __future__ import annotations

from clawnet.social.writing import SocialWrites


class SocialDiscovery(SocialWrites):
    pass
