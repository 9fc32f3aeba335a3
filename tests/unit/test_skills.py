"""Skills without a gateway: the effective-skills rule, what uploads and pack forms must be,
the config a bot's choices make, and who may change skills and packs (with a fake gateway
answering `skills.status`)."""

from __future__ import annotations

import contextlib
import io
import zipfile
from typing import Any

import pytest
from sqlmodel import select

from clawnet.bots.service import BotsService
from clawnet.bots.skill_rules import check_pack, front_matter, parse_skill_list, read_skill
from clawnet.controlplane import openclaw_config as oc
from clawnet.controlplane.db_runner import DbRunner
from clawnet.controlplane.gateway_api import GatewayApi
from clawnet.controlplane.gateway_skills import skill_report
from clawnet.controlplane.protocol import GatewayError
from clawnet.controlplane.skill_choices import effective_skills, load_choices
from clawnet.controlplane.skill_sync import SkillSync, uploads_allowed
from clawnet.enums import Role
from clawnet.errors import PermissionDenied, UserError
from clawnet.events import EventBus
from clawnet.models import AuditEvent, Bot, Gateway
from clawnet.models.skills import BotSkill, CustomSkill
from clawnet.security.permissions import Principal
from clawnet.settings import get_settings
from tests.factories import assign, make_bot, make_user

SKILL_MD = b"---\nname: house-rules\ndescription: The house rules\n---\n\nBe kind.\n"


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buffer.getvalue()


def encrypted_zip() -> bytes:
    """A zip whose entry says it is encrypted (zipfile cannot write one; the flag is set by hand)."""
    data = bytearray(zipped({"SKILL.md": SKILL_MD}))
    data[data.index(b"PK\x03\x04") + 6] |= 0x1  # local header: general purpose flags
    data[data.index(b"PK\x01\x02") + 8] |= 0x1  # central directory: the same flags
    return bytes(data)


# --- the rule ------------------------------------------------------------------------------------


def test_no_choice_and_no_pack_keeps_openclaws_default():
    assert effective_skills({}, []) is None
    assert effective_skills({}, [], ["house-rules"]) is None  # a custom skill alone is in the workspace


def test_effective_skills_are_choices_plus_packs_plus_custom_minus_offs():
    choices = {"weather": True, "tmux": False}
    packs = [("tmux", "notion"), ("notion", "healthcheck")]
    assert effective_skills(choices, packs, ["house-rules"]) == (
        "healthcheck",
        "house-rules",
        "notion",
        "weather",
    )
    assert effective_skills({"weather": False}, []) == ()  # a list that leaves everything out


def test_the_config_carries_the_list_only_when_there_is_one():
    plain = oc.build_config(oc.GatewaySpec(local=False, agents=(oc.AgentSpec("a", "A", ""),)))
    assert "skills" not in plain["agents"]["entries"]["a"] and "skills" not in plain
    chosen = oc.build_config(
        oc.GatewaySpec(
            local=False, agents=(oc.AgentSpec("a", "A", "", skills=("weather",)),), allow_skill_uploads=True
        )
    )
    assert chosen["agents"]["entries"]["a"]["skills"] == ["weather"]
    assert chosen["skills"] == {"install": {"allowUploadedArchives": True}}


def test_the_gateways_report_reads_requirements_and_visibility():
    report = skill_report(
        {
            "agentId": "a",
            "agentSkillFilter": ["weather"],
            "skills": [
                {"name": "weather", "eligible": True, "modelVisible": True, "source": "openclaw-bundled"},
                {
                    "name": "1password",
                    "eligible": False,
                    "blockedByAgentFilter": True,
                    "requirements": {"bins": ["op"], "anyBins": ["a", "b"]},
                    "missing": {"bins": ["op"]},
                },
            ],
        }
    )
    assert report.agent_filter == ("weather",) and report.visible_names() == ["weather"]
    op = report.find("1password")
    assert op is not None and op.missing == ("bin op",) and op.requirements == ("bin op", "one of a/b")


# --- validation -----------------------------------------------------------------------------------


def test_a_zip_or_a_folder_with_skill_md_is_a_skill():
    from_zip = read_skill(
        [("rules.zip", zipped({"house-rules/SKILL.md": SKILL_MD, "house-rules/x.txt": b"1"}))]
    )
    assert (from_zip.name, from_zip.description) == ("house-rules", "The house rules")
    with zipfile.ZipFile(io.BytesIO(from_zip.archive)) as z:
        assert sorted(z.namelist()) == ["SKILL.md", "x.txt"]  # the single top folder is dropped
    from_folder = read_skill([("SKILL.md", SKILL_MD), ("notes/a.md", b"a")])
    assert from_folder.name == "house-rules"


@pytest.mark.parametrize(
    ("files", "problem"),
    [
        ([], "Choose"),
        ([("x.zip", b"not a zip")], "not a zip"),
        ([("x.zip", encrypted_zip())], "not a zip"),
        ([("README.md", b"hi")], "SKILL.md at its root"),
        ([("SKILL.md", b"no frontmatter")], "name and a description"),
        ([("SKILL.md", b"---\nname: Bad Name\ndescription: d\n---\n")], "not a skill name"),
        ([("x.zip", zipped({"../SKILL.md": SKILL_MD}))], "Unsafe path"),
        ([("SKILL.md", SKILL_MD + b"x" * 1_000_001)], "at most"),
    ],
)
def test_uploads_that_are_not_skills_say_why(files, problem):
    with pytest.raises(UserError) as caught:
        read_skill(files)
    assert problem in caught.value.field_errors["file"]


def test_pack_forms_name_each_problem():
    assert parse_skill_list("weather, tmux\nnotion weather") == ["weather", "tmux", "notion"]
    with pytest.raises(UserError) as caught:
        check_pack("", "x" * 501, "Not A Skill")
    assert set(caught.value.field_errors) == {"name", "description", "skills"}
    assert check_pack(" Ops ", "", ["weather"]) == ("Ops", "", ["weather"])
    assert front_matter("---\nname: a\ndescription: 'b: c'\n---\n") == {"name": "a", "description": "b: c"}


# --- the service ---------------------------------------------------------------------------------

REPORT = {
    "agentId": "x",
    "skills": [
        {"name": "weather", "eligible": True, "modelVisible": True, "source": "openclaw-bundled"},
        {"name": "tmux", "eligible": True, "modelVisible": True, "source": "openclaw-bundled"},
        {"name": "github", "eligible": False, "missing": {"bins": ["gh"]}, "source": "openclaw-bundled"},
    ],
}


class FakeCaller:
    def __init__(self) -> None:
        self.calls: list[str] = []

    @property
    def is_connected(self) -> bool:
        return True

    async def call(self, method: str, params: dict[str, Any] | None = None, **_kw: Any) -> Any:
        self.calls.append(method)
        return REPORT


class FakeControl:
    def __init__(self) -> None:
        self.caller = FakeCaller()
        self.kicks = 0

    @property
    def runs_here(self) -> bool:
        return True

    def kick(self) -> None:
        self.kicks += 1

    def gateway(self, gateway_id: int) -> GatewayApi:
        return GatewayApi(self.caller)


@pytest.fixture
def world(session):
    owner = make_user(session, Role.OPERATOR)
    other = make_user(session, Role.OPERATOR)
    viewer = make_user(session, Role.VIEWER)
    admin = make_user(session, Role.ADMIN)
    gateway = Gateway(name="gw", token_enc="x")
    session.add(gateway)
    session.flush()
    mine, neighbour, theirs = make_bot(session, owner), make_bot(session, owner), make_bot(session, other)
    for b in (mine, neighbour, theirs):
        b.gateway_id = gateway.id
    assign(session, viewer, mine)
    session.commit()
    control = FakeControl()
    return {
        "service": BotsService(get_settings(), EventBus(), control),  # type: ignore[arg-type]
        "control": control,
        "owner": Principal.of(owner),
        "other": Principal.of(other),
        "viewer": Principal.of(viewer),
        "admin": Principal.of(admin),
        "mine": mine.id,
        "neighbour": neighbour.id,
        "theirs": theirs.id,
    }


async def test_turning_one_skill_off_keeps_the_others_the_bot_had(world, session):
    service = world["service"]
    view = await service.bot_skills(world["owner"], world["mine"])
    assert not view.chosen and [r.enabled for r in view.rows] == [True, True, False]
    await service.set_bot_skill(world["owner"], world["mine"], "tmux", False)
    assert load_choices(session, world["mine"]).effective() == ("weather",)
    assert load_choices(session, world["neighbour"]).effective() is None  # the pool neighbour is untouched
    view = await service.bot_skills(world["viewer"], world["mine"])
    assert view.chosen and {r.name: r.enabled for r in view.rows} == {
        "tmux": False,
        "weather": True,
        "github": False,
    }
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "skills.set")).one()
    await service.reset_bot_skills(world["owner"], world["mine"])
    assert load_choices(session, world["mine"]).effective() is None


async def test_only_those_who_configure_a_bot_change_its_skills(world):
    service = world["service"]
    for who in ("viewer", "other"):
        with pytest.raises(PermissionDenied):
            await service.set_bot_skill(world[who], world["mine"], "weather", True)
        with pytest.raises(PermissionDenied):
            await service.add_custom_skill(world[who], world["mine"], [("SKILL.md", SKILL_MD)])
    with pytest.raises(UserError):
        await service.set_bot_skill(world["owner"], world["mine"], "../etc", True)


async def test_a_pack_attaches_to_many_bots_and_needs_the_owner_of_each(world, session):
    service = world["service"]
    pack = await service.save_skill_pack(world["owner"], None, "Ops", "", "weather, notion")
    await service.attach_skill_pack(world["owner"], pack, [world["mine"], world["neighbour"]])
    for bot in ("mine", "neighbour"):
        assert load_choices(session, world[bot]).effective() == ("notion", "weather")
    with pytest.raises(PermissionDenied):  # not the owner of every bot
        await service.attach_skill_pack(world["owner"], pack, [world["mine"], world["theirs"]])
    with pytest.raises(PermissionDenied):  # attached to bots "other" does not own
        await service.save_skill_pack(world["other"], pack, "Ops", "", "weather")
    await service.save_skill_pack(world["admin"], pack, "Ops", "", "weather")
    session.expire_all()
    assert load_choices(session, world["neighbour"]).effective() == ("weather",)
    await service.detach_skill_pack(world["owner"], pack, world["neighbour"])
    assert load_choices(session, world["neighbour"]).effective() is None
    [view] = await service.skill_packs(world["owner"], bot_id=world["mine"])
    assert view.attached and view.can_edit and view.bot_count == 1


async def test_a_custom_skill_is_kept_and_joins_a_chosen_list(world, session):
    service = world["service"]
    await service.add_custom_skill(
        world["owner"], world["mine"], [("rules.zip", zipped({"SKILL.md": SKILL_MD}))]
    )
    row = session.exec(select(CustomSkill)).one()
    assert row.name == "house-rules" and row.size == len(row.archive)
    session.add(BotSkill(bot_id=world["mine"], skill="weather"))
    session.commit()
    assert load_choices(session, world["mine"]).effective() == ("house-rules", "weather")
    session.expire_all()
    assert session.get(Bot, world["mine"]).config_version > 1  # the change reaches the gateway


# --- custom skills re-applied by the reconciler ------------------------------------------------


class InstallCaller(FakeCaller):
    """Answers like a gateway that lists no workspace skill and fails installs as told."""

    def __init__(self, error: GatewayError | None) -> None:
        super().__init__()
        self.error = error

    async def call(self, method: str, params: dict[str, Any] | None = None, **_kw: Any) -> Any:
        self.calls.append(method)
        if method == "skills.status":
            return {"agentId": "x", "skills": []}
        if method == "skills.install" and self.error is not None:
            raise self.error
        return {"uploadId": "u1", "targetDir": "/ws/skills/house-rules"}


@pytest.mark.parametrize(
    ("error", "again"),
    [
        (None, False),  # installed: not again while the gateway runs
        (GatewayError("INVALID_REQUEST", "bad archive"), False),  # refused: not re-sent every pass
        (GatewayError("UNAVAILABLE", "uploads are disabled"), True),  # not yet possible: next pass
    ],
)
async def test_custom_skills_are_installed_once_and_retried_only_when_worth_it(world, session, error, again):
    await world["service"].add_custom_skill(world["owner"], world["mine"], [("SKILL.md", SKILL_MD)])
    bot = session.get(Bot, world["mine"])
    sync = SkillSync(DbRunner(get_settings().database_url), EventBus())
    caller = InstallCaller(error)
    for _ in range(2):
        with contextlib.suppress(GatewayError):
            await sync.sync(1, GatewayApi(caller), {bot.agent_id: bot.id})
    assert caller.calls.count("skills.install") == (2 if again else 1)
    assert "skills.upload.commit" in caller.calls
    assert uploads_allowed({"skills": {"install": {"allowUploadedArchives": True}}})
    assert not uploads_allowed({"tools": {}})
