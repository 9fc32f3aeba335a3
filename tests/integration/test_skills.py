"""Skills on a real gateway: two bots in one pool (fake LLM). A skill turned off for one bot stays
on for its neighbour, a pack attached to both reaches both, and a custom skill uploaded for one
bot is installed in its workspace through the gateway's own upload methods; each checked in what
the gateway reports for each agent (`skills.status`: what its model sees)."""

from __future__ import annotations

import asyncio
import io
import time
import zipfile
from collections.abc import Callable

import pytest

from clawnet.bots.skills_views import BotSkillsView
from clawnet.db import session_scope
from clawnet.enums import BotStatus
from clawnet.models import Bot
from tests.integration.conftest import Fleet

pytestmark = pytest.mark.gateway

SKILL_MD = b"---\nname: house-rules\ndescription: The house rules of this bot\n---\n\nGreet politely.\n"


def visible(view: BotSkillsView) -> set[str]:
    return {r.name for r in view.rows if r.visible}


async def until(
    fleet: Fleet, bot_id: int, check: Callable[[BotSkillsView], bool], timeout: float = 90
) -> BotSkillsView:
    """The bot's Skills view once `check` holds for what the gateway reports."""
    deadline = time.monotonic() + timeout
    view = await fleet.service.bot_skills(fleet.admin, bot_id)
    while not check(view):
        if time.monotonic() > deadline:
            raise AssertionError(f"the gateway still reports {sorted(visible(view))} ({view.gateway_note})")
        await asyncio.sleep(0.5)
        view = await fleet.service.bot_skills(fleet.admin, bot_id)
    return view


async def test_skills_per_bot_packs_and_a_custom_skill_in_one_pool(fleet: Fleet):
    service, admin = fleet.service, fleet.admin
    alpha = await service.create_bot(admin, fleet.bot_input("Alpha"))
    beta = await service.create_bot(admin, fleet.bot_input("Beta"))
    for bot_id in (alpha, beta):
        await service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=180)
    with session_scope() as s:
        assert s.get(Bot, alpha).gateway_id == s.get(Bot, beta).gateway_id  # pool neighbours

    # What OpenClaw ships, with requirements and readiness, as the gateway reports it.
    view = await until(fleet, alpha, lambda v: "weather" in visible(v))
    rows = {r.name: r for r in view.rows}
    assert not view.chosen and rows["weather"].ready and rows["weather"].enabled
    assert not rows["1password"].ready and rows["1password"].needs == "bin op"

    # Off for Beta only: Alpha still sees it; Beta keeps its other skills.
    await service.set_bot_skill(admin, beta, "weather", False)
    beta_view = await until(fleet, beta, lambda v: "weather" not in visible(v))
    assert "tmux" in visible(beta_view) and not {r.name: r for r in beta_view.rows}["weather"].enabled
    assert "weather" in visible(await service.bot_skills(admin, alpha))

    # A pack attached to both at once: both see its skills; Beta's "off" still wins.
    pack = await service.save_skill_pack(admin, None, "Helpers", "", "healthcheck, diagram-maker, weather")
    await service.attach_skill_pack(admin, pack, [alpha, beta])
    alpha_view = await until(
        fleet, alpha, lambda v: visible(v) == {"diagram-maker", "healthcheck", "weather"}
    )
    assert alpha_view.chosen and alpha_view.effective == "diagram-maker, healthcheck, weather"
    beta_view = await until(fleet, beta, lambda v: {"diagram-maker", "healthcheck"} <= visible(v))
    assert "weather" not in visible(beta_view)

    # A custom skill for Alpha, installed through skills.upload.* and skills.install.
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("house-rules/SKILL.md", SKILL_MD)
    await service.add_custom_skill(admin, alpha, [("house-rules.zip", archive.getvalue())])
    alpha_view = await until(fleet, alpha, lambda v: "house-rules" in visible(v), timeout=120)
    assert [(c.name, c.installed) for c in alpha_view.custom] == [("house-rules", True)]
    assert "house-rules" not in {r.name for r in (await service.bot_skills(admin, beta)).rows}
