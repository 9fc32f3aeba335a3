"""Sanitizing what people write (posts, comments, bios) on the way in, with bleach.

Allowed, as on Mastodon: `p br span a del pre blockquote code b strong u i em ul ol li`.
Links keep only `href` (http, https, mailto) and always get `rel="nofollow noopener"`.
Everything else is removed or escaped, so the stored HTML can be shown as-is.

People mostly type plain text: line breaks become `<br>`, bare URLs become links, `**bold**`,
`*italic*` and `` `code` `` get their tags, and `@handle` (or a remote `@user@host`) becomes a link
to that profile when the profile exists here. The result goes through bleach once more at the end.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass

import bleach
from bleach.linkifier import Linker

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(text: str) -> str:
    """Plain text as people type it, minus control characters (NUL above all: PostgreSQL refuses
    it, and no one means to type it). Tabs and line breaks stay."""
    return _CONTROL_CHARS.sub("", text)


ALLOWED_TAGS = frozenset(
    {
        "p",
        "br",
        "span",
        "a",
        "del",
        "pre",
        "blockquote",
        "code",
        "b",
        "strong",
        "u",
        "i",
        "em",
        "ul",
        "ol",
        "li",
    }
)
ALLOWED_ATTRIBUTES = {"a": ["href", "rel", "class"], "span": ["class"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
ALLOWED_CLASSES = frozenset({"mention", "hashtag", "ellipsis", "invisible"})
MENTION_RE = re.compile(r"(?<![\w@/])@([a-z0-9_]{2,30})\b", re.IGNORECASE)
# `@user@host` (a host may carry a port): a remote account. Never inside a word, so an e-mail
# address (`me@example.com`) is not one. Trailing dots and dashes end the sentence, not the host.
REMOTE_MENTION_RE = re.compile(
    r"(?<![\w@/])@([A-Za-z0-9_][A-Za-z0-9_.\-]{0,99})@([A-Za-z0-9][A-Za-z0-9.\-]{0,252})((?::\d{1,5})?)"
)
_ANY_MENTION_RE = re.compile(f"{REMOTE_MENTION_RE.pattern}|{MENTION_RE.pattern}", re.IGNORECASE)
# A hashtag: '#' then word characters (any script) with at least one letter; not inside a word,
# an entity (`&#39;`) or a URL fragment.
HASHTAG_RE = re.compile(r"(?<![\w&#/])#(\w*[^\W\d_]\w*)")
MAX_TAG_LEN = 100
_TAG_SPLIT = re.compile(r"(<[^>]*>)")
_MARKUP = [
    (re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*"), r"<strong>\1</strong>"),
    (re.compile(r"(?<![*\w])\*(?=\S)(.+?)(?<=\S)\*(?![*\w])"), r"<em>\1</em>"),
    (re.compile(r"`([^`\n]+)`"), r"<code>\1</code>"),
]


def _filter_attributes(tag: str, name: str, value: str) -> bool:
    if name == "class":
        return all(c in ALLOWED_CLASSES for c in value.split())
    return name in ALLOWED_ATTRIBUTES.get(tag, [])


def _link_rel(attrs: dict, new: bool = False) -> dict | None:
    href = attrs.get((None, "href"), "")
    if not href.lower().startswith(("http://", "https://", "mailto:", "/")):
        return None  # drop the link, keep its text
    attrs[(None, "rel")] = "nofollow noopener"
    return attrs


_linker = Linker(callbacks=[_link_rel], skip_tags={"pre", "code"}, parse_email=False)


def clean_html(text: str) -> str:
    """Allowlisted HTML only; links made safe. Idempotent."""
    cleaned = bleach.clean(
        text,
        tags=ALLOWED_TAGS,
        attributes=_filter_attributes,
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        strip_comments=True,
    )
    return _linker.linkify(cleaned)


@dataclass(frozen=True)
class Rendered:
    html: str
    text: str  # plain text (for length limits, previews, search)
    mentions: tuple[str, ...]  # handles that exist, lower-case
    tags: tuple[str, ...] = ()  # hashtags used, lower-case, without '#'


def _text_segments(markup: str, transform: Callable[[str], str]) -> str:
    """Apply `transform` to the text between tags (never inside tags, pre or code)."""
    out, skip = [], 0
    for part in _TAG_SPLIT.split(markup):
        if part.startswith("<"):
            name = part.strip("</>").split()[0].lower() if part.strip("</>") else ""
            if name in ("pre", "code", "a"):
                skip += -1 if part.startswith("</") else 1
            out.append(part)
        else:
            out.append(part if skip > 0 else transform(part))
    return "".join(out)


def _split_remote(user: str, host: str, port: str) -> tuple[str, str, str]:
    """(user, host:port, trailing text) with the sentence's trailing dots and dashes given back."""
    bare = host.rstrip(".-")
    if port and bare != host:
        return user, "", ""  # `@a@host.:80` is no address
    return user, bare + port, host[len(bare) :]


def _mention_handle(match: re.Match[str], local_host: str) -> tuple[str | None, str]:
    """The handle a mention names (lower-case; `user@host` when remote) and the text after it."""
    if match.group(1) is None:
        return match.group(4).lower(), ""
    user, host, rest = _split_remote(match.group(1), match.group(2), match.group(3))
    if not host or user.endswith((".", "-")):
        return None, ""
    if local_host and host.lower() == local_host.lower():
        return (user.lower(), rest) if re.fullmatch(r"[a-z0-9_]{2,30}", user, re.IGNORECASE) else (None, "")
    return f"{user}@{host}".lower(), rest


def remote_addresses(raw: str, local_host: str = "") -> list[str]:
    """The remote accounts (`user@host`, lower-case, in order, once each) typed in `raw`."""
    found: list[str] = []
    for match in REMOTE_MENTION_RE.finditer(html.unescape(raw)):
        user, host, _ = _split_remote(match.group(1), match.group(2), match.group(3))
        if host and not user.endswith((".", "-")) and host.lower() != local_host.lower():
            address = f"{user}@{host}".lower()
            if address not in found:
                found.append(address)
    return found


def render_text(
    raw: str,
    handle_exists: Callable[[str], bool],
    profile_url: Callable[[str], str],
    tag_url: Callable[[str], str] | None = None,
    *,
    local_host: str = "",
) -> Rendered:
    """Turn what someone typed (plain text, or allowlisted HTML) into safe HTML. `handle_exists`
    is asked about local handles (`ada`) and remote ones (`bob@host`, lower-case);
    `@ada@<local_host>` is the local `ada`."""
    raw = clean_text(raw.replace("\r\n", "\n")).strip()
    looks_like_html = bool(
        re.search(r"</?(p|br|a|strong|em|b|i|ul|ol|li|pre|code|blockquote|del|u|span)\b", raw, re.I)
    )
    if looks_like_html:
        markup = clean_html(raw)
    else:
        markup = html.escape(raw, quote=False)
        for pattern, replacement in _MARKUP:
            markup = pattern.sub(replacement, markup)
        markup = "<p>" + "</p><p>".join(p.replace("\n", "<br>") for p in re.split(r"\n{2,}", markup)) + "</p>"
        markup = clean_html(markup)
    found: list[str] = []

    def link_mentions(segment: str) -> str:
        def replace(match: re.Match[str]) -> str:
            handle, rest = _mention_handle(match, local_host)
            if handle is None or not handle_exists(handle):
                return match.group(0)
            if handle not in found:
                found.append(handle)
            link = html.escape(profile_url(handle))
            return f'<span class="mention"><a href="{link}" class="mention">@{handle}</a></span>{rest}'

        return _ANY_MENTION_RE.sub(replace, segment)

    tags: list[str] = []

    def link_tags(segment: str) -> str:
        def replace(match: re.Match[str]) -> str:
            tag = match.group(1).lower()
            if len(tag) > MAX_TAG_LEN or tag_url is None:
                return match.group(0)
            if tag not in tags:
                tags.append(tag)
            return f'<a href="{html.escape(tag_url(tag))}" class="hashtag">#{html.escape(match.group(1))}</a>'

        return HASHTAG_RE.sub(replace, segment)

    markup = _text_segments(markup, link_mentions)
    if tag_url is not None:
        markup = _text_segments(markup, link_tags)
    markup = clean_html(markup)
    text = re.sub(r"<br\s*/?>|</p><p>", "\n", markup)
    text = html.unescape(re.sub(r"<[^>]+>", "", text)).strip()  # strip tags first: "&lt;3" is text
    return Rendered(markup, text, tuple(found), tuple(tags))


def plain_bio(raw: str) -> str:
    """A profile bio: plain text (markup typed into it shows as typed), paragraphs and line
    breaks kept, links made clickable."""
    paragraphs = re.split(r"\n{2,}", html.escape(raw.replace("\r\n", "\n").strip(), quote=False))
    return clean_html("<p>" + "</p><p>".join(p.replace("\n", "<br>") for p in paragraphs) + "</p>")


def bio_source(bio_html: str) -> str:
    """The text a bio was written from (for editing it again)."""
    text = re.sub(r"<br\s*/?>", "\n", bio_html).replace("</p><p>", "\n\n")
    return html.unescape(re.sub(r"<[^>]+>", "", text))
