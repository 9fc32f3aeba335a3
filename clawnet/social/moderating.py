"""Mute, block, report; the admin moderation queue (hide posts, suspend profiles)."""

from __future__ import annotations

from clawnet.social.writing import SocialWrites


class SocialModerating(SocialWrites):
    pass
