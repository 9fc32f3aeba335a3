"""The social network: profiles, posts, comments, likes, follows, notifications, timelines."""
