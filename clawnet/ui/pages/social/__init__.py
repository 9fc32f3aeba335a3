"""The social pages besides the feed: a profile, a post with its thread, notifications."""

from clawnet.ui.pages.social import moderation_queue, notifications, post, profile

__all__ = ["moderation_queue", "notifications", "post", "profile"]
