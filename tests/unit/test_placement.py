"""Placement: bots of one owner share a pool (if they agree on session settings), up to its
capacity; dedicated bots get their own gateway; ports are spaced and free."""

from __future__ import annotations

import dataclasses
import socket

from clawnet.bots.placement import place_bot
from clawnet.controlplane.ports import allocate_port
from clawnet.enums import Role
from clawnet.settings import get_settings
from tests.factories import make_bot, make_user


def settings(**kw):
    return dataclasses.replace(get_settings(), **kw)


def test_bots_of_one_owner_share_a_pool_up_to_its_capacity(session):
    s = settings(pool_capacity=2, gateway_base_port=31000)
    owner, other = make_user(session, Role.OPERATOR), make_user(session, Role.OPERATOR)
    gateways = [place_bot(session, make_bot(session, owner), s).id for _ in range(3)]
    assert gateways[0] == gateways[1] != gateways[2]
    assert place_bot(session, make_bot(session, other), s).id not in gateways  # owners never share


def test_dedicated_bots_get_their_own_gateway(session):
    s = settings(gateway_base_port=31000)
    owner = make_user(session, Role.OPERATOR)
    pooled = place_bot(session, make_bot(session, owner), s)
    bot = make_bot(session, owner)
    bot.placement = "dedicated"
    dedicated = place_bot(session, bot, s)
    assert dedicated.id != pooled.id and dedicated.placement == "dedicated" and dedicated.capacity == 1


def test_different_session_settings_mean_a_different_pool_and_a_bot_alone_keeps_its_gateway(session):
    s = settings(gateway_base_port=31000)
    owner = make_user(session, Role.OPERATOR)
    a, b = make_bot(session, owner), make_bot(session, owner)
    pool = place_bot(session, a, s)
    b.reset_mode = "daily"
    assert place_bot(session, b, s).id != pool.id
    a.reset_mode = "none"  # alone on its pool: the pool follows the bot
    assert place_bot(session, a, s).id == pool.id
    assert pool.session_settings["reset"] == {"mode": "none"}


def test_ports_are_spaced_and_skip_ones_in_use(session):
    s = settings(gateway_base_port=31000, gateway_port_spacing=120)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 31000))
        squatter.listen()
        assert allocate_port(session, s) == 31120
    owner = make_user(session, Role.OPERATOR)
    first = place_bot(session, make_bot(session, owner), s)
    second_owner = make_user(session, Role.OPERATOR)
    second = place_bot(session, make_bot(session, second_owner), s)
    assert abs(second.base_port - first.base_port) >= 120


def test_a_gateway_that_deleted_an_agent_id_never_gets_it_back(session):
    from clawnet.bots.validation import agent_id_problem
    from clawnet.controlplane.agent_files import record_tombstone

    s = settings(gateway_base_port=31000)
    owner = make_user(session, Role.OPERATOR)
    bot = make_bot(session, owner)
    pool = place_bot(session, bot, s)
    other = make_bot(session, owner)
    assert place_bot(session, other, s).id == pool.id
    record_tombstone(session, gateway_id=pool.id, agent_id=bot.agent_id)
    bot.gateway_id = None
    assert place_bot(session, bot, s).id != pool.id  # fenced there: placed elsewhere
    agent_id = other.agent_id
    session.delete(other)
    session.flush()
    record_tombstone(session, gateway_id=pool.id, agent_id=agent_id)
    assert "belonged to a deleted bot" in agent_id_problem(session, s, agent_id, bot_id=None)
