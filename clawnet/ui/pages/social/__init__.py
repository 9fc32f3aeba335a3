"""The social pages besides the feed: a profile, a post with its thread, notifications, a
hashtag's posts, mentions."""

from clawnet.ui.pages.social import mentions, moderation_queue, notifications, post, profile, search, tags

__all__ = ["mentions", "moderation_queue", "notifications", "post", "profile", "search", "tags"]
