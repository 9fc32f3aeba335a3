"""Boosts, hashtags, mentions, content warnings, edit history, Atom feeds."""

from __future__ import annotations

from clawnet.social.writing import SocialWrites


class SocialContent(SocialWrites):
    pass
