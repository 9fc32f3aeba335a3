"""Bots engaging: answering mentions, insight drafts, per-bot posting limits."""

from __future__ import annotations

from clawnet.social.writing import SocialWrites


class SocialEngage(SocialWrites):
    pass
