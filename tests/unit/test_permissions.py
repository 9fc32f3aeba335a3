"""Permissions: what each role may do, on which bots."""

from __future__ import annotations

import pytest

from clawnet.enums import Role
from clawnet.security.permissions import (
    Action,
    PermissionDenied,
    Principal,
    accessible_bot_ids,
    can,
    require,
)
from tests.factories import assign, make_bot, make_user


@pytest.fixture
def world(session):
    admin = make_user(session, Role.ADMIN)
    operator = make_user(session, Role.OPERATOR)
    other_operator = make_user(session, Role.OPERATOR)
    viewer = make_user(session, Role.VIEWER)
    member = make_user(session, Role.MEMBER)
    own_bot = make_bot(session, operator)
    assigned_bot = make_bot(session, admin)
    foreign_bot = make_bot(session, other_operator)
    assign(session, operator, assigned_bot)
    assign(session, viewer, assigned_bot)
    return {k: v for k, v in locals().items() if k != "session"}


def as_principal(user) -> Principal:
    return Principal.of(user)


def test_admin_may_do_everything_on_every_bot(session, world):
    admin = as_principal(world["admin"])
    for action in Action:
        assert can(session, admin, action, world["foreign_bot"].id), action


def test_operator_acts_on_owned_and_assigned_bots_only(session, world):
    op = as_principal(world["operator"])
    for bot in (world["own_bot"], world["assigned_bot"]):
        for action in (Action.VIEW_BOT, Action.OPERATE_BOT, Action.CONFIGURE_BOT):
            assert can(session, op, action, bot.id)
    for action in (Action.VIEW_BOT, Action.OPERATE_BOT, Action.CONFIGURE_BOT, Action.DELETE_BOT):
        assert not can(session, op, action, world["foreign_bot"].id)
    assert can(session, op, Action.CREATE_BOT)
    assert not can(session, op, Action.MANAGE_USERS)
    assert not can(session, op, Action.MANAGE_PROVIDERS)


def test_only_owners_delete_bots_and_change_their_social_settings(session, world):
    op = as_principal(world["operator"])
    assert can(session, op, Action.DELETE_BOT, world["own_bot"].id)
    assert can(session, op, Action.MANAGE_BOT_SOCIAL, world["own_bot"].id)
    assert not can(session, op, Action.DELETE_BOT, world["assigned_bot"].id)
    assert not can(session, op, Action.MANAGE_BOT_SOCIAL, world["assigned_bot"].id)


def test_viewer_reads_assigned_bots_and_acts_on_nothing(session, world):
    viewer = as_principal(world["viewer"])
    assert can(session, viewer, Action.VIEW_BOT, world["assigned_bot"].id)
    assert not can(session, viewer, Action.VIEW_BOT, world["foreign_bot"].id)
    for action in (Action.OPERATE_BOT, Action.CONFIGURE_BOT, Action.DELETE_BOT):
        assert not can(session, viewer, action, world["assigned_bot"].id)
    assert not can(session, viewer, Action.CREATE_BOT)
    assert can(session, viewer, Action.VIEW_FLEET)


def test_member_uses_the_social_side_only(session, world):
    member = as_principal(world["member"])
    assert can(session, member, Action.USE_SOCIAL)
    for action in Action:
        if action is not Action.USE_SOCIAL:
            assert not can(session, member, action, world["assigned_bot"].id), action


def test_deactivated_and_anonymous_callers_may_do_nothing(session, world):
    world["admin"].is_active = False
    inactive = as_principal(world["admin"])
    for action in Action:
        assert not can(session, inactive, action, world["own_bot"].id)
        assert not can(session, None, action, world["own_bot"].id)
    with pytest.raises(PermissionDenied, match="deactivated"):
        require(session, inactive, Action.USE_SOCIAL)
    with pytest.raises(PermissionDenied, match="Sign in"):
        require(session, None, Action.USE_SOCIAL)


def test_require_explains_the_refusal(session, world):
    with pytest.raises(PermissionDenied, match="not start, stop or chat"):
        require(session, as_principal(world["viewer"]), Action.OPERATE_BOT, world["assigned_bot"].id)


def test_accessible_bots_per_role(session, world):
    assert accessible_bot_ids(session, as_principal(world["admin"])) is None
    assert accessible_bot_ids(session, as_principal(world["operator"])) == {
        world["own_bot"].id,
        world["assigned_bot"].id,
    }
    assert accessible_bot_ids(session, as_principal(world["viewer"])) == {world["assigned_bot"].id}
    assert accessible_bot_ids(session, as_principal(world["member"])) == set()
