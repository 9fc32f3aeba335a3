"""The social pages besides the feed: a profile, a post with its thread, notifications."""

from clawnet.ui.pages.social import notifications, post, profile, search

__all__ = ["notifications", "post", "profile", "search"]
