"""Security in a real Chromium: the whole stored-XSS corpus (tests/support/xss_corpus.py) in posts,
comments, bios, display names, bot names and personas executes nothing; and the WebSocket frames
an admin's browser receives while opening every fleet page carry no secret."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from clawnet.security.sanitize import clean_text
from tests.security.world import World, build_world, server_process_env
from tests.support.aio import run_async
from tests.support.server import running_clawnet
from tests.support.xss_corpus import PAYLOADS

pytestmark = pytest.mark.e2e

XSS_RECORDER = "window.__xssCalls = []; window.__xss = (n) => window.__xssCalls.push(n);"
CHUNK = 10  # payloads per bio / persona (bios are limited to 1,000 characters)

# Anything that can run script or load a document, inside user content.
ACTIVE = "script, iframe, frame, object, embed, svg, math, style, link, meta, base, form, input, textarea"
DOM_CHECK = """(selector) => {
  const bad = [];
  for (const root of document.querySelectorAll(selector)) {
    for (const el of [root, ...root.querySelectorAll('*')]) {
      for (const a of el.attributes) {
        const v = a.value.replace(/[\\s\\u0000-\\u001f]/g, '').toLowerCase();
        const url = ['href', 'src', 'action', 'formaction', 'xlink:href', 'data', 'srcset', 'poster',
                     'background'].includes(a.name);
        if (a.name.startsWith('on') || a.name === 'style' || a.name === 'srcdoc'
            || (url && (v.startsWith('javascript:') || v.startsWith('data:') || v.startsWith('vbscript:'))))
          bad.push(el.tagName + ' ' + a.name + '=' + a.value.slice(0, 60));
      }
    }
    for (const el of root.querySelectorAll(arguments[1] || 'x-none')) bad.push('element ' + el.tagName);
  }
  return bad;
}"""


def chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def seed_payloads(world: World) -> dict[str, list[int]]:
    from sqlmodel import select

    from clawnet.accounts import registration
    from clawnet.db import session_scope
    from clawnet.events import EventBus
    from clawnet.models import Bot, Profile, User
    from clawnet.security.permissions import Principal
    from clawnet.security.sanitize import plain_bio
    from clawnet.settings import get_settings
    from clawnet.social.service import SocialService

    out: dict[str, list[int]] = {"posts": [], "bots": [], "persona_bots": []}
    with server_process_env(world.server):
        social = SocialService(get_settings(), EventBus())
        with session_scope() as s:
            mia = s.get(User, world.ids["mia"])
            assert mia is not None
            mia_p = Principal.of(mia)
        # A label with each, as a payload that sanitizes to nothing is refused as an empty post.
        for n, payload in enumerate(PAYLOADS):
            out["posts"].append(run_async(social.create_post(mia_p, f"case {n}: {payload}")))
        thread = run_async(social.create_post(mia_p, "A thread full of payloads"))
        out["thread"] = [thread]
        for n, payload in enumerate(PAYLOADS):
            run_async(social.comment(mia_p, thread, f"case {n}: {payload}"))
        with session_scope() as s:
            for n, group in enumerate(chunks(PAYLOADS, CHUNK)):
                user = registration.register(
                    s,
                    email=f"x{n}@example.com",
                    display_name=f"X {n}",
                    password="xss-password-123",
                    handle=f"xss{n}",
                )
                s.flush()
                profile = s.exec(select(Profile).where(Profile.user_id == user.id)).one()
                profile.bio_html = plain_bio(clean_text("\n".join(group)))
                profile.display_name = clean_text(group[0])[:80]
                s.add(profile)
            groups = chunks(PAYLOADS, CHUNK)
            for n, payload in enumerate(PAYLOADS):
                group = groups[n] if n < len(groups) else []
                bot = Bot(
                    owner_id=world.ids["ada"],
                    name=clean_text(payload)[:80],
                    agent_id=f"xss-{n}",
                    persona=clean_text("\n".join(group)),
                    desired_status="stopped",
                    actual_status="stopped",
                )
                s.add(bot)
                s.flush()
                assert bot.id is not None
                out["bots"].append(bot.id)
                if group:
                    out["persona_bots"].append(bot.id)
    return out


@pytest.fixture(scope="module")
def xss_world(tmp_path_factory):
    with running_clawnet(tmp_path_factory.mktemp("xss")) as server:
        world = build_world(server)
        yield world, seed_payloads(world)


def signed_in_page(browser, world: World, who: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    context.add_init_script(XSS_RECORDER)
    token = world.session_tokens[who]
    context.add_cookies([{"name": "clawnet_session", "value": token, "url": world.server.url}])
    return context, context.new_page()


def assert_inert(page: Page, selector: str) -> None:
    bad = page.evaluate(DOM_CHECK.replace("arguments[1]", repr(ACTIVE)), selector)
    assert not bad, bad[:10]
    assert page.evaluate("window.__xssCalls") == []


def poke_all(page: Page, selector: str) -> int:
    """Fire the mouse, pointer and focus events an inline handler would wait for, on every element
    of user content (a surviving `onmouseover=` would run now)."""
    return page.evaluate(
        """(selector) => {
          let n = 0;
          for (const el of document.querySelectorAll(selector)) {
            for (const type of ['mouseover', 'mouseenter', 'pointerover', 'focus', 'focusin', 'toggle',
                                'animationstart', 'error', 'load']) {
              el.dispatchEvent(new Event(type, {bubbles: true}));
            }
            n += 1;
          }
          return n;
        }""",
        selector,
    )


def test_the_xss_corpus_executes_nowhere(browser, xss_world):
    world, seeded = xss_world
    assert len(PAYLOADS) >= 100
    context, page = signed_in_page(browser, world, "ada")
    try:
        # Posts: the whole public timeline, page by page.
        page.goto(f"{world.server.url}/feed?timeline=public")
        bodies = page.locator("[data-testid^=post-body-]")
        expect(bodies.first).to_be_visible()
        for _ in range(12):
            more = page.get_by_test_id("timeline-more")
            if not more.count():
                break
            shown = bodies.count()
            more.click()
            page.wait_for_function(  # the next page arrived (not a fixed pause)
                "n => document.querySelectorAll('[data-testid^=post-body-]').length > n",
                arg=shown,
                timeout=60_000,
            )
        assert bodies.count() >= len(PAYLOADS)
        assert poke_all(page, "[data-testid^=post-body-] *") > len(PAYLOADS)
        assert_inert(page, "[data-testid^=post-body-]")

        # Comments: one thread holds them all.
        page.goto(f"{world.server.url}/posts/{seeded['thread'][0]}")
        comments = page.locator("[data-testid^=comment-body-]")
        expect(comments.first).to_be_visible()
        assert comments.count() >= len(PAYLOADS)
        assert poke_all(page, "[data-testid^=comment-body-] *") > len(PAYLOADS)
        assert_inert(page, "[data-testid^=comment-body-]")

        # Bios and display names.
        for n in range(len(chunks(PAYLOADS, CHUNK))):
            page.goto(f"{world.server.url}/u/xss{n}")
            expect(page.get_by_test_id("profile-bio")).to_be_visible()
            assert_inert(page, "[data-testid=profile-bio], [data-testid=profile-name]")

        # Bot names on the dashboard, then names and personas on the bot pages and in the editor.
        # The dashboard shows 48 cards a page: every page of them.
        page.goto(f"{world.server.url}/")
        info = page.get_by_test_id("dashboard-page-info")
        expect(info).to_contain_text("page 1 of")
        pages = int((info.text_content() or "").rsplit(" ", 1)[1])
        cards: set[str] = set()
        for number in range(1, pages + 1):
            if number > 1:
                page.goto(f"{world.server.url}/?page={number}")
                expect(info).to_contain_text(f"page {number} of {pages}")
            expect(page.locator("[data-bot-id]").first).to_be_visible()
            assert_inert(page, "[data-testid^=bot-card-]")
            cards |= set(
                page.locator("[data-bot-id]").evaluate_all("(els) => els.map((e) => e.dataset.botId)")
            )
        assert {str(b) for b in seeded["bots"]} <= cards
        for bot_id in seeded["persona_bots"]:
            page.goto(f"{world.server.url}/bots/{bot_id}?tab=configuration")
            expect(page.get_by_test_id("bot-name")).to_be_visible()
            assert_inert(page, "[data-testid=bot-name]")
            page.goto(f"{world.server.url}/bots/new?edit={bot_id}")
            expect(page.locator("#wizard-persona")).to_have_value(
                clean_text("\n".join(chunks(PAYLOADS, CHUNK)[seeded["persona_bots"].index(bot_id)]))
            )
            assert page.evaluate("window.__xssCalls") == []
    finally:
        context.close()


def test_an_admin_browser_receives_no_secret_over_the_websocket(browser, xss_world):
    world, _ = xss_world
    context, page = signed_in_page(browser, world, "ada")
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(str(payload))))
    try:
        bot = world.ids["bot"]
        page.goto(f"{world.server.url}/?q=victim")  # its card among 100+ bots (48 a page)
        expect(page.get_by_test_id(f"bot-card-{bot}")).to_be_visible()
        for tab in (
            "overview",
            "channels",
            "routing",
            "sessions",
            "schedules",
            "budget",
            "skills",
            "configuration",
            "logs",
            "analytics",
        ):
            page.goto(f"{world.server.url}/bots/{bot}?tab={tab}")
            expect(page.get_by_test_id("bot-name")).to_have_text("Victim Bot")
            page.wait_for_timeout(300)
        page.goto(f"{world.server.url}/bots/new?edit={bot}")
        expect(page.get_by_label("Name")).to_have_value("Victim Bot")
        page.goto(f"{world.server.url}/settings")
        expect(page.get_by_text("Olga's OpenAI").first).to_be_visible()
        page.goto(f"{world.server.url}/admin")
        expect(page.get_by_text("olga@example.com").first).to_be_visible()
        page.wait_for_timeout(500)
    finally:
        context.close()
    everything = "\n".join(frames)
    assert "Victim Bot" in everything and "Olga's OpenAI" in everything  # the frames were captured
    found = [label for label, secret in world.secrets().items() if secret and secret in everything]
    assert not found, found
