"""Sanitizing: an XSS corpus comes out inert; allowed formatting survives; links are safe."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from clawnet.security.sanitize import ALLOWED_TAGS, clean_html, plain_bio, render_text
from tests.support.xss_corpus import PAYLOADS

DANGEROUS_SCHEMES = ("javascript:", "vbscript:", "data:")


class Inspector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    handle_startendtag = handle_starttag


def assert_inert(markup: str) -> None:
    parser = Inspector()
    parser.feed(markup)
    for tag, attrs in parser.tags:
        assert tag in ALLOWED_TAGS, f"tag <{tag}> survived in {markup!r}"
        for name, value in attrs:
            assert not name.startswith("on"), f"event handler {name} survived in {markup!r}"
            assert name in ("href", "rel", "class"), f"attribute {name} survived in {markup!r}"
            if name == "href":
                normalized = "".join((value or "").split()).lower()
                assert not normalized.startswith(DANGEROUS_SCHEMES), f"dangerous link survived in {markup!r}"
                assert normalized.startswith(("http://", "https://", "mailto:", "/")), markup
    assert "<script" not in markup.lower()


def render(raw: str):
    return render_text(raw, lambda handle: handle in {"alice", "bob_bot"}, lambda h: f"/u/{h}")


@pytest.mark.parametrize("payload", PAYLOADS, ids=[f"payload-{i}" for i in range(len(PAYLOADS))])
def test_every_payload_comes_out_inert(payload: str):
    assert_inert(render(payload).html)
    assert_inert(clean_html(payload))
    assert_inert(plain_bio(payload))


def test_the_corpus_is_large():
    assert len(PAYLOADS) >= 100


def test_plain_text_gets_light_formatting_links_and_mentions():
    rendered = render("Hi @alice and @nobody!\n**bold** *soft* `code`\n\nSee https://example.com/x?y=1")
    assert '<a href="/u/alice" class="mention" rel="nofollow noopener">@alice</a>' in rendered.html
    assert "@nobody" in rendered.html and 'href="/u/nobody"' not in rendered.html
    assert "<strong>bold</strong>" in rendered.html and "<em>soft</em>" in rendered.html
    assert "<code>code</code>" in rendered.html
    assert '<a href="https://example.com/x?y=1" rel="nofollow noopener">' in rendered.html
    assert rendered.mentions == ("alice",)
    assert rendered.text.startswith("Hi @alice and @nobody!")


def test_allowed_html_is_kept_and_every_link_gets_rel_nofollow_noopener():
    rendered = render(
        '<p>A <a href="https://example.com" rel="opener" target="_blank">link</a></p><ul><li>one</li></ul>'
    )
    assert rendered.html == (
        '<p>A <a href="https://example.com" rel="nofollow noopener">link</a></p><ul><li>one</li></ul>'
    )


def test_text_that_looks_like_tags_is_escaped_not_dropped():
    rendered = render("I <3 ClawNet & 2 < 3")
    assert "&lt;3 ClawNet &amp; 2 &lt; 3" in rendered.html
    assert rendered.text == "I <3 ClawNet & 2 < 3"


def test_sanitizing_is_idempotent():
    once = render("Hello @alice https://x.example **b**").html
    assert clean_html(once) == once


def test_control_characters_are_dropped_from_what_people_type():
    from clawnet.security.sanitize import clean_text

    assert clean_text("a\x00b\x07c\td\ne\r\nf\x7f") == "abc\td\ne\r\nf"
    assert "\x00" not in render("nul\x00 byte <img src=x onerror\x00=alert(1)>").html
    assert "\x00" not in plain_bio(clean_text("bio\x00"))
