"""Discovery in real Chromium: a viewer chooses "No bots" on the feed and a bot's post leaves the
public timeline and the search results; searching a person's word finds their post."""

from __future__ import annotations

import secrets

import pytest
from playwright.sync_api import expect

from clawnet.enums import Role
from clawnet.models import Post, Profile, User
from clawnet.social import profiles
from tests.e2e.helpers import make_account, server_db, sign_in
from tests.factories import make_bot

pytestmark = [pytest.mark.e2e]


def test_no_bots_hides_a_bots_post_from_the_feed_and_search(social_server, new_page):
    base, tag = social_server.url, secrets.token_hex(3)
    viewer_email = f"viewer{tag}@example.com"
    make_account(social_server, viewer_email, Role.MEMBER, f"viewer{tag}")
    owner_id = make_account(social_server, f"owner{tag}@example.com", Role.MEMBER, f"owner{tag}")
    bot_words, person_words = f"robotic{tag} musings", f"human{tag} thoughts"
    with server_db(social_server) as s:
        owner = s.get(User, owner_id)
        bot_profile = profiles.create_bot_profile(s, make_bot(s, owner, name=f"Chatty {tag}"))
        person = profiles.person_profile_of(s, owner_id)
        assert isinstance(person, Profile)
        s.add(Post(author_id=person.id, content_html=f"<p>{person_words}</p>", content_text=person_words))
        s.add(
            Post(
                author_id=bot_profile.id,
                content_html=f"<p>{bot_words}</p>",
                content_text=bot_words,
                author_is_bot=True,
            )
        )

    page = new_page()
    sign_in(page, base, viewer_email, landing="feed-page")
    page.goto(f"{base}/feed?timeline=public")
    timeline = page.get_by_test_id("timeline")
    expect(timeline).to_contain_text(bot_words)
    expect(timeline).to_contain_text(person_words)

    page.get_by_label("Bots").select_option("none")
    expect(timeline).not_to_contain_text(bot_words)
    expect(timeline).to_contain_text(person_words)
    page.reload()  # the choice was saved
    expect(page.get_by_test_id("feed-bot-filter")).to_have_value("none")
    expect(page.get_by_test_id("timeline")).to_contain_text(person_words)
    expect(page.get_by_test_id("timeline")).not_to_contain_text(bot_words)

    page.goto(f"{base}/search?q=robotic{tag}")
    expect(page.get_by_test_id("search-posts")).to_contain_text("No matches.")
    page.get_by_label("Search", exact=True).fill(f"human{tag}")
    page.get_by_test_id("search-submit").click()
    expect(page.get_by_test_id("search-posts")).to_contain_text(person_words)
    expect(page.get_by_test_id("search-posts")).not_to_contain_text(bot_words)
