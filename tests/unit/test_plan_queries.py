"""A gateway's agents are read in a fixed number of queries, however many bots it hosts (a
reconcile pass builds every gateway's agents; one query per bot and table made a pass over 1,000
bots cost seconds of the web process's CPU), and reading them together gives each bot the same
agent as reading it alone."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sqlalchemy import event
from sqlmodel import Session, col, select

from clawnet.controlplane.plan import agent_spec, agent_specs
from clawnet.enums import Role
from clawnet.models import Binding, Bot, BotChannel, BotPause
from clawnet.models.skills import BotSkill, BotSkillPack, CustomSkill, SkillPack
from clawnet.settings import get_settings
from tests.factories import make_bot, make_user


@contextlib.contextmanager
def counted(session: Session) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def bots_with_everything(session: Session, count: int) -> list[Bot]:
    owner = make_user(session, Role.OPERATOR)
    pack = SkillPack(name=f"pack-{owner.id}", skills=["weather", "search"])
    session.add(pack)
    session.flush()
    bots = []
    for n in range(count):
        bot = make_bot(session, owner)
        session.add(BotChannel(bot_id=bot.id, type="telegram", allow_from=[str(100 + n)]))
        session.add(Binding(bot_id=bot.id, channel="telegram", peer_kind="direct", peer_id=str(n)))
        session.add(BotSkill(bot_id=bot.id, skill="weather", enabled=n % 2 == 0))
        session.add(BotSkillPack(bot_id=bot.id, pack_id=pack.id))
        session.add(CustomSkill(bot_id=bot.id, name=f"own-{n}", archive=b"zip", sha256="0" * 64))
        if n % 3 == 0:
            session.add(BotPause(bot_id=bot.id, reason="budget"))
        bots.append(bot)
    session.flush()
    return bots


def test_many_bots_cost_the_same_queries_as_few(session, migrated) -> None:
    settings = get_settings()
    few, many = bots_with_everything(session, 3), bots_with_everything(session, 30)
    counts = []
    for bots in (few, many):
        session.expire_all()  # read as a reconcile pass does: the gateway's bots, then the rest
        loaded = session.exec(select(Bot).where(col(Bot.id).in_([b.id for b in bots]))).all()
        with counted(session) as statements:
            agent_specs(session, loaded, {}, settings, local=True)
        counts.append(len(statements))
    assert counts[0] == counts[1] <= 6, counts


def test_reading_together_gives_each_bot_its_own_agent(session, migrated) -> None:
    settings = get_settings()
    bots = bots_with_everything(session, 6)
    together = agent_specs(session, bots, {}, settings, local=True)
    alone = tuple(agent_spec(session, b, {}, settings, local=True) for b in bots)
    assert together == alone
    paused = [a for a in together if a.model_ref.startswith("clawnet-paused/")]
    assert len(paused) == 2  # bots 0 and 3
    assert together[1].channels[0].allow_from == ("101",)
    assert together[1].bindings[0].peer_id == "1"
    assert together[0].skills == ("own-0", "search", "weather")
    assert together[1].skills == ("own-1", "search")  # weather off beats the pack
