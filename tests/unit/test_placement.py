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


def remote_gateway(session, name: str, capacity: int):
    from clawnet.models import Gateway
    from clawnet.security.secret_fields import GATEWAY_TOKEN

    gateway = Gateway(
        name=name,
        kind="remote",
        url=f"wss://{name}.example",
        capacity=capacity,
        token_enc=GATEWAY_TOKEN.seal("t"),
    )
    session.add(gateway)
    session.flush()
    return gateway


def test_a_machine_short_of_memory_places_a_new_pool_on_the_remote_gateway_with_most_room(session):
    from clawnet.bots.placement import placement_choices

    owner = make_user(session, Role.OPERATOR)
    small, big = remote_gateway(session, "small", 1), remote_gateway(session, "big", 3)
    plenty = settings(gateway_base_port=31000, local_gateway_min_free_mb=0)
    assert place_bot(session, make_bot(session, owner), plenty).kind == "local"  # room here: local

    short = settings(gateway_base_port=31000, local_gateway_min_free_mb=10**9)  # nothing is enough
    stranger = make_user(session, Role.OPERATOR)  # no pool of their own yet
    placed = [place_bot(session, make_bot(session, stranger), short) for _ in range(2)]
    assert [g.id for g in placed] == [big.id, big.id]  # 3 free beats 1 free, then 1 vs 1: stays
    labels = {c.value: c.label for c in placement_choices(session)}
    assert labels[f"remote:{big.id}"] == "On big (another host: 2 of 3 agents)"
    assert labels[f"remote:{small.id}"] == "On small (another host: 0 of 1 agents)"

    # The owner's own pool on this machine keeps taking bots while it has room (no new memory).
    assert place_bot(session, make_bot(session, owner), short).kind == "local"


def test_a_full_remote_gateway_is_refused_with_its_name_and_the_form_names_remote_placements(session):
    from clawnet.bots.forms import BotForm, form_of
    from clawnet.bots.validation import validate_bot_input
    from clawnet.models import Bot

    s = settings(gateway_base_port=31000)
    owner = make_user(session, Role.OPERATOR)
    edge = remote_gateway(session, "edge", 1)
    form = BotForm(name="Far", placement=f"remote:{edge.id}")
    inp = form.to_input({})
    assert (inp.remote_gateway_id, inp.placement) == (edge.id, "pooled")
    assert form_of(inp).placement == f"remote:{edge.id}"
    errors = validate_bot_input(session, s, inp, owner_id=owner.id)
    assert "placement" not in errors
    occupant = make_bot(session, owner)
    occupant.gateway_id = edge.id
    session.add(occupant)
    session.flush()
    errors = validate_bot_input(session, s, inp, owner_id=owner.id)
    assert errors["placement"] == "edge is full (1 of 1 agents): choose another gateway."
    # The bot already there keeps its place when edited.
    assert "placement" not in validate_bot_input(session, s, inp, owner_id=owner.id, bot_id=occupant.id)
    assert session.get(Bot, occupant.id).gateway_id == edge.id
