"""Accounts: registration, sign-in with throttling, login sessions, roles and assignments."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlmodel import select

from clawnet.accounts import registration, sign_in, users
from clawnet.enums import Role
from clawnet.errors import UserError
from clawnet.models import AuditEvent, LoginSession, LoginTicket, Profile, User
from clawnet.security.permissions import PermissionDenied, Principal
from clawnet.settings import get_settings
from tests.factories import PASSWORD, make_bot, make_user


def _register(s, email="ann@example.com", handle="ann", **kw):
    return registration.register(
        s,
        email=email,
        display_name=kw.pop("name", "Ann"),
        password=kw.pop("password", PASSWORD),
        handle=handle,
        **kw,
    )


def test_first_account_becomes_admin_and_later_ones_members(session):
    first = _register(session)
    second = _register(session, email="bob@example.com", handle="bob")
    assert first.role == Role.ADMIN.value
    assert second.role == Role.MEMBER.value
    assert session.exec(select(Profile).where(Profile.user_id == first.id)).one().handle == "ann"


def test_registration_reports_every_bad_field_and_saves_nothing(session):
    _register(session)
    with pytest.raises(UserError) as err:
        registration.register(
            session, email="ANN@example.com ", display_name="", password="short", handle="Ann!"
        )
    assert set(err.value.field_errors) == {"email", "display_name", "password", "handle"}
    assert "already exists" in err.value.field_errors["email"]
    assert session.exec(select(User)).all().__len__() == 1


def test_email_is_case_insensitive(session):
    _register(session, email="Mixed@Example.com")
    assert sign_in.sign_in(session, "mixed@example.COM", PASSWORD, "10.0.0.1").ticket


def test_sign_in_failure_message_does_not_reveal_whether_the_account_exists(session):
    _register(session)
    wrong_password = sign_in.sign_in(session, "ann@example.com", "wrong password!", "10.0.0.1")
    no_account = sign_in.sign_in(session, "nobody@example.com", "wrong password!", "10.0.0.1")
    assert wrong_password.ticket is None and no_account.ticket is None
    assert wrong_password.error == no_account.error == "Wrong email or password."


def _small_throttle():
    return dataclasses.replace(get_settings(), login_max_failures=3, login_failure_window_s=300)


def test_account_is_throttled_after_too_many_failures_even_with_the_right_password(session):
    _register(session)
    s = _small_throttle()
    for i in range(3):
        assert (
            sign_in.sign_in(session, "ann@example.com", "nope nope nope", f"10.0.0.{i}", s).error
            == "Wrong email or password."
        )
    blocked = sign_in.sign_in(session, "ann@example.com", PASSWORD, "10.9.9.9", s)
    assert blocked.ticket is None
    assert blocked.error.startswith("Too many failed sign-in attempts. Try again in")
    assert 0 < blocked.retry_after_s <= 300


def test_client_is_throttled_across_accounts(session):
    _register(session)
    s = _small_throttle()
    for i in range(3):
        sign_in.sign_in(session, f"guess{i}@example.com", "nope nope nope", "10.0.0.7", s)
    assert "Too many" in sign_in.sign_in(session, "ann@example.com", PASSWORD, "10.0.0.7", s).error
    assert sign_in.sign_in(session, "ann@example.com", PASSWORD, "10.0.0.8", s).ticket


def test_failures_older_than_the_window_do_not_count(session):
    _register(session)
    s = dataclasses.replace(_small_throttle(), login_failure_window_s=1)
    for _ in range(3):
        sign_in.sign_in(session, "ann@example.com", "nope nope nope", "10.0.0.1", s)
    from clawnet.models import LoginFailure

    for row in session.exec(select(LoginFailure)).all():
        row.at -= timedelta(seconds=5)
        session.add(row)
    session.flush()
    assert sign_in.sign_in(session, "ann@example.com", PASSWORD, "10.0.0.1", s).ticket


def test_deactivated_account_cannot_sign_in(session):
    admin = _register(session)
    bob = _register(session, email="bob@example.com", handle="bob")
    users.set_active(session, Principal.of(admin), bob.id, False)
    assert "deactivated" in sign_in.sign_in(session, "bob@example.com", PASSWORD, "10.0.0.1").error


def test_ticket_is_single_use_and_becomes_a_256_bit_session_token(session):
    _register(session)
    ticket = sign_in.sign_in(session, "ann@example.com", PASSWORD, "10.0.0.1").ticket
    issued = sign_in.redeem_login_ticket(session, ticket)
    assert len(issued.token) >= 43  # 32 random bytes, url-safe base64
    assert sign_in.principal_for_token(session, issued.token).email == "ann@example.com"
    with pytest.raises(UserError, match="expired"):
        sign_in.redeem_login_ticket(session, ticket)
    stored = session.exec(select(LoginSession)).one()
    assert stored.token_hash != issued.token and issued.token not in stored.token_hash


def test_expired_ticket_is_refused(session):
    _register(session)
    ticket = sign_in.sign_in(session, "ann@example.com", PASSWORD, "10.0.0.1").ticket
    row = session.exec(select(LoginTicket)).one()
    row.expires_at -= timedelta(minutes=5)
    session.add(row)
    session.flush()
    with pytest.raises(UserError):
        sign_in.redeem_login_ticket(session, ticket)


def test_sign_in_rotates_the_session_token(session):
    _register(session)
    first = sign_in.redeem_login_ticket(
        session, sign_in.sign_in(session, "ann@example.com", PASSWORD, "").ticket
    )
    second = sign_in.redeem_login_ticket(
        session, sign_in.sign_in(session, "ann@example.com", PASSWORD, "").ticket, previous_token=first.token
    )
    assert second.token != first.token
    assert sign_in.principal_for_token(session, first.token) is None
    assert sign_in.principal_for_token(session, second.token) is not None


def test_expired_and_revoked_sessions_are_refused(session):
    _register(session)
    issued = sign_in.redeem_login_ticket(
        session, sign_in.sign_in(session, "ann@example.com", PASSWORD, "").ticket
    )
    row = session.exec(select(LoginSession)).one()
    row.expires_at = row.created_at - timedelta(seconds=1)
    session.add(row)
    session.flush()
    assert sign_in.principal_for_token(session, issued.token) is None
    other = sign_in.redeem_login_ticket(
        session, sign_in.sign_in(session, "ann@example.com", PASSWORD, "").ticket
    )
    sign_in.revoke_session(session, other.token)
    assert sign_in.principal_for_token(session, other.token) is None
    assert sign_in.principal_for_token(session, "garbage") is None


def test_role_change_is_admin_only_audited_and_keeps_one_admin(session):
    admin = _register(session)
    bob = _register(session, email="bob@example.com", handle="bob")
    with pytest.raises(PermissionDenied):
        users.set_role(session, Principal.of(bob), bob.id, "admin")
    users.set_role(session, Principal.of(admin), bob.id, "operator")
    assert bob.role == "operator"
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "user.role")).one()
    assert (event.actor_id, event.before, event.after) == (admin.id, {"role": "member"}, {"role": "operator"})
    with pytest.raises(UserError, match="last admin"):
        users.set_role(session, Principal.of(admin), admin.id, "member")
    with pytest.raises(UserError, match="Unknown role"):
        users.set_role(session, Principal.of(admin), bob.id, "superuser")


def test_deactivation_revokes_sessions(session):
    admin = _register(session)
    bob = _register(session, email="bob@example.com", handle="bob")
    issued = sign_in.redeem_login_ticket(
        session, sign_in.sign_in(session, "bob@example.com", PASSWORD, "").ticket
    )
    users.set_active(session, Principal.of(admin), bob.id, False)
    assert sign_in.principal_for_token(session, issued.token) is None


def test_bot_assignments_are_replaced_and_validated(session):
    admin = _register(session)
    op = make_user(session, Role.OPERATOR)
    b1, b2 = make_bot(session, admin), make_bot(session, admin)
    assert users.set_bot_assignments(session, Principal.of(admin), op.id, [b1.id, b2.id]) == [b1.id, b2.id]
    assert users.set_bot_assignments(session, Principal.of(admin), op.id, [b2.id]) == [b2.id]
    summary = next(u for u in users.list_users(session, Principal.of(admin)) if u.id == op.id)
    assert summary.bot_ids == [b2.id]
    with pytest.raises(UserError, match="No bot with id 999"):
        users.set_bot_assignments(session, Principal.of(admin), op.id, [999])
