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
