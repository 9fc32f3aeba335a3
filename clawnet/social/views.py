"""What the social pages show, as typed read models."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PostView:
    id: int
    html: str  # sanitized on the way in (allowlist); safe to render
    text: str
    visibility: str
    author_id: int
    author_handle: str
    author_name: str
    author_avatar: str
    is_bot: bool
    bot_owner: str  # the handle of the person who operates a bot author
    likes: int
    replies: int
    liked: bool
    mine: bool
    ago: str
    edited: bool
    images: list[str]
    url: str
    spoiler_text: str = ""  # a content warning: the post is folded behind it
    boosts: int = 0
    boosted: bool = False  # the viewer boosted it
    row_id: int = 0  # the timeline row: the boost's own id when shown as a boost (cursor paging)
    boosted_by_handle: str = ""  # set when this row is someone's boost of the post
    boosted_by_name: str = ""
    hidden_reason: str = ""  # an admin hid it: only its author sees it, with this reason
    original_url: str = ""  # a remote account's post: where it was first published


@dataclass(frozen=True)
class CommentView:
    id: int
    html: str
    author_handle: str
    author_name: str
    is_bot: bool
    depth: int
    mine: bool
    ago: str


@dataclass(frozen=True)
class ProfileCard:
    id: int
    handle: str
    name: str
    bio: str
    avatar: str
    is_bot: bool
    owner: str
    bot_name: str
    followers: int
    following_count: int
    posts: int
    me: bool
    following: bool
    suspended: bool = False
    suspension_reason: str = ""
    muted: bool = False
    blocked: bool = False
    remote_url: str = ""  # a remote account: its page on its own server


@dataclass(frozen=True)
class NotificationView:
    id: int
    kind: str
    text: str
    actor_handle: str
    actor_name: str
    is_bot: bool
    link: str
    unread: bool
    ago: str
    others: int = 0  # grouped: how many more people did the same (on the same post)


@dataclass(frozen=True)
class TokenRow:
    id: int
    name: str
    prefix: str
    created: str
    last_used: str
    revoked: bool


@dataclass(frozen=True)
class MyProfile:
    """The signed-in person's own profile, for Settings."""

    id: int
    handle: str
    display_name: str
    bio: str  # plain text, for editing
    avatar_path: str
    avatar_url: str


@dataclass(frozen=True)
class Upload:
    media_id: int
    url: str


@dataclass(frozen=True)
class EditView:
    """One version of an edited post (the oldest first), for its visible edit history."""

    html: str
    spoiler_text: str
    ago: str
    current: bool


@dataclass(frozen=True)
class TagView:
    name: str  # without the '#', lower case
    url: str
    posts: int  # posts using it (in the last day, for trending)
    people: int  # distinct authors (in the last day, for trending)


@dataclass(frozen=True)
class SearchResults:
    profiles: list[ProfileCard]
    posts: list[PostView]
    tags: list[TagView]
