"""Account security: password reset links, email verification, TOTP two-factor sign-in with
recovery codes, required 2FA for staff, and a person's own login sessions."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlmodel import select

from clawnet.accounts import login_sessions, recovery, sign_in, totp, two_factor
from clawnet.accounts.registration import hash_secret
from clawnet.accounts.service import AccountsService
from clawnet.enums import Role
from clawnet.errors import NotFound, PermissionDenied, RateLimited, UserError
from clawnet.models import AccountToken, LoginSession, RecoveryCode, User, utcnow
from clawnet.security.permissions import Principal
from clawnet.security.rate_limit import use_redis
from clawnet.security.secret_fields import TOTP_SECRET
from tests.factories import PASSWORD, make_user

NEW_PASSWORD = "another-long-password"


def _login(s, user: User, agent: str = "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0") -> str:
    outcome = sign_in.sign_in(s, user.email, PASSWORD, "10.0.0.9")
    assert outcome.ticket, outcome
    return sign_in.redeem_login_ticket(s, outcome.ticket, user_agent=agent).token


def _live_sessions(s, user_id: int) -> int:
    return len(
        s.exec(
            select(LoginSession).where(LoginSession.user_id == user_id, LoginSession.revoked_at == None)  # noqa: E711
        ).all()
    )


# --- password reset ----------------------------------------------------------------------------


def test_reset_link_works_once_stores_only_a_hash_and_ends_every_session(session):
    user = make_user(session)
    _login(session, user)
    _login(session, user)
    to, token = recovery.request_reset(session, user.email.upper())
    assert to == user.email
    stored = session.exec(select(AccountToken)).one()
    assert stored.token_hash == hash_secret(token) and token not in stored.token_hash
    assert recovery.reset_link_valid(session, token)

    recovery.reset_password(session, token, NEW_PASSWORD, NEW_PASSWORD)

    assert _live_sessions(session, user.id) == 0  # signed out everywhere
    assert sign_in.sign_in(session, user.email, NEW_PASSWORD, "10.0.0.9").ticket
    assert not sign_in.sign_in(session, user.email, PASSWORD, "10.0.0.8").ticket
    assert not recovery.reset_link_valid(session, token)
    with pytest.raises(UserError, match="expired or was already used"):
        recovery.reset_password(session, token, "yet-another-password", None)


def test_reset_link_expires_and_a_newer_one_replaces_it(session):
    user = make_user(session)
    _, first = recovery.request_reset(session, user.email)
    _, second = recovery.request_reset(session, user.email)
    assert not recovery.reset_link_valid(session, first)  # the newer link wins
    row = session.exec(select(AccountToken).where(AccountToken.token_hash == hash_secret(second))).one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.add(row)
    session.flush()
    with pytest.raises(UserError, match="expired"):
        recovery.reset_password(session, second, NEW_PASSWORD)


def test_reset_refuses_a_weak_password_without_using_the_link(session):
    user = make_user(session)
    _, token = recovery.request_reset(session, user.email)
    with pytest.raises(UserError) as caught:
        recovery.reset_password(session, token, "short")
    assert "password" in caught.value.field_errors
    assert recovery.reset_link_valid(session, token)


class FakeMailer:
    configured = True

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    async def send(self, to: str, subject: str, text: str) -> None:
        self.sent.append((to, subject, text))


def _service(settings, mailer: FakeMailer | None) -> AccountsService:
    service = AccountsService(dataclasses.replace(settings, public_url="http://clawnet.test"))
    if mailer is not None:
        service.mailer = lambda: mailer  # type: ignore[method-assign]
    return service


async def test_forgot_answers_the_same_for_unknown_addresses_and_mails_only_real_accounts(migrated):
    from clawnet.db import session_scope

    with session_scope() as s:
        email = make_user(s).email
    use_redis("")
    mailer = FakeMailer()
    service = _service(migrated, mailer)
    known = await service.forgot_password(email, "10.1.0.1")
    unknown = await service.forgot_password("nobody@example.com", "10.1.0.2")
    await service.wait_for_mail()
    assert known == unknown
    assert [m[0] for m in mailer.sent] == [email]
    link = mailer.sent[0][2].split("http://clawnet.test/reset/")[1].split()[0]
    assert await service.reset_link_valid(link)


async def test_forgot_is_rate_limited_per_client(migrated):
    service = _service(migrated, FakeMailer())
    for n in range(5):
        await service.forgot_password(f"someone{n}@example.com", "10.2.0.1")
    with pytest.raises(RateLimited):
        await service.forgot_password("someone-else@example.com", "10.2.0.1")


async def test_without_mail_nothing_is_sent_and_nobody_needs_verifying(migrated):
    service = _service(migrated, None)
    assert not service.mail_configured
    outcome = await service.register(
        email="nomail@example.com", display_name="N", password=PASSWORD, handle="nomail"
    )
    assert outcome.ticket
    from clawnet.db import session_scope

    with session_scope() as s:
        user = s.exec(select(User).where(User.email == "nomail@example.com")).one()
        principal = Principal.of(user)
    assert not await service.needs_verification(principal)
    with pytest.raises(UserError, match="not set up"):
        await service.forgot_password("nomail@example.com", "10.3.0.1")


# --- email verification ------------------------------------------------------------------------


async def test_registration_mails_a_verification_link_that_works_once(migrated):
    mailer = FakeMailer()
    service = _service(migrated, mailer)
    await service.register(email="vera@example.com", display_name="Vera", password=PASSWORD, handle="vera")
    await service.wait_for_mail()
    assert [m[0] for m in mailer.sent] == ["vera@example.com"]
    token = mailer.sent[0][2].split("http://clawnet.test/verify/")[1].split()[0]
    from clawnet.db import session_scope

    with session_scope() as s:
        principal = Principal.of(s.exec(select(User).where(User.email == "vera@example.com")).one())
    assert await service.needs_verification(principal)
    await service.resend_verification(principal)  # the banner's "Resend"
    await service.wait_for_mail()
    assert len(mailer.sent) == 2
    token = mailer.sent[1][2].split("http://clawnet.test/verify/")[1].split()[0]
    assert await service.verify_email(token) == "vera@example.com"
    assert not await service.needs_verification(principal)
    with pytest.raises(UserError, match="already used"):
        await service.verify_email(token)
    with pytest.raises(UserError, match="already verified"):
        await service.resend_verification(principal)


def test_resending_verification_is_limited(session):
    user = make_user(session)
    user.email_verified_at = None
    session.add(user)
    for _ in range(recovery.RESENDS_PER_HOUR):
        recovery.issue_verification(session, user.id)
    with pytest.raises(UserError, match="several times"):
        recovery.issue_verification(session, user.id)


# --- TOTP ----------------------------------------------------------------------------------------


def test_totp_matches_the_rfc_6238_test_vector():
    secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # base32 of "12345678901234567890"
    assert totp.code_at(secret, 59 // 30) == "287082"  # RFC 6238: 94287082 at T=59 (8 digits)
    assert totp.code_at(secret, 1111111109 // 30) == "081804"
    assert totp.verify(secret, "287082", now=59) == 1
    assert totp.verify(secret, "287082", now=59, after_step=1) is None  # a step is accepted once
    assert totp.verify(secret, "000000", now=59) is None


def _enable(session, user: User) -> tuple[str, list[str]]:
    me = Principal.of(user)
    setup = two_factor.begin_setup(session, me)
    assert setup.uri.startswith("otpauth://totp/ClawNet:") and f"secret={setup.secret}" in setup.uri
    with pytest.raises(UserError):
        two_factor.enable(session, me, "000000" if totp.now_code(setup.secret) != "000000" else "111111")
    codes = two_factor.enable(session, me, totp.now_code(setup.secret))
    return setup.secret, codes


def test_enabling_totp_needs_a_right_code_seals_the_secret_and_gives_ten_hashed_codes(session):
    user = make_user(session)
    secret, codes = _enable(session, user)
    session.refresh(user)
    assert user.totp_enabled_at is not None
    assert secret not in user.totp_secret_enc and TOTP_SECRET.unseal(user.totp_secret_enc) == secret
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = session.exec(select(RecoveryCode).where(RecoveryCode.user_id == user.id)).all()
    assert len(stored) == 10 and not {r.code_hash for r in stored} & set(codes)


def test_sign_in_asks_for_the_code_after_the_password(session):
    user = make_user(session)
    secret, _codes = _enable(session, user)
    session.refresh(user)
    user.totp_last_step = 0  # the code used to enable may be used to sign in again for this test
    session.add(user)
    outcome = sign_in.sign_in(session, user.email, PASSWORD, "10.0.0.1")
    assert outcome.ticket is None and outcome.challenge
    wrong = two_factor.complete_challenge(session, outcome.challenge, "12345")
    assert isinstance(wrong, str) and "Wrong code" in wrong
    found = two_factor.complete_challenge(session, outcome.challenge, totp.now_code(secret))
    assert isinstance(found, User) and found.id == user.id
    # The challenge is spent, and the same code cannot sign in twice.
    assert two_factor.complete_challenge(session, outcome.challenge, totp.now_code(secret)) == (
        two_factor.EXPIRED_CHALLENGE
    )
    again = sign_in.sign_in(session, user.email, PASSWORD, "10.0.0.1").challenge
    assert isinstance(two_factor.complete_challenge(session, again, totp.now_code(secret)), str)


def test_a_challenge_dies_after_five_wrong_codes(session):
    user = make_user(session)
    secret, _ = _enable(session, user)
    challenge = sign_in.sign_in(session, user.email, PASSWORD, "10.0.0.1").challenge
    for _ in range(two_factor.MAX_ATTEMPTS):
        two_factor.complete_challenge(session, challenge, "abcd-efgh-jkmn")
    user.totp_last_step = 0
    session.add(user)
    assert (
        two_factor.complete_challenge(session, challenge, totp.now_code(secret))
        == two_factor.EXPIRED_CHALLENGE
    )


def test_a_recovery_code_signs_in_once(session):
    user = make_user(session)
    _, codes = _enable(session, user)
    first = sign_in.sign_in(session, user.email, PASSWORD, "10.0.0.1").challenge
    assert isinstance(two_factor.complete_challenge(session, first, codes[3].upper()), User)
    second = sign_in.sign_in(session, user.email, PASSWORD, "10.0.0.1").challenge
    assert isinstance(two_factor.complete_challenge(session, second, codes[3]), str)
    assert two_factor.status(session, Principal.of(user)).recovery_codes_left == 9


def test_turning_totp_off_needs_the_password_and_a_code(session):
    user = make_user(session)
    _, codes = _enable(session, user)
    me = Principal.of(user)
    with pytest.raises(UserError) as caught:
        two_factor.disable(session, me, "wrong-password-here", codes[0])
    assert "password" in caught.value.field_errors
    with pytest.raises(UserError) as caught:
        two_factor.disable(session, me, PASSWORD, "zzzz-zzzz-zzzz")
    assert "code" in caught.value.field_errors
    two_factor.disable(session, me, PASSWORD, codes[0])
    session.refresh(user)
    assert user.totp_enabled_at is None and user.totp_secret_enc == ""
    assert sign_in.sign_in(session, user.email, PASSWORD, "10.0.0.1").ticket
    with pytest.raises(PermissionDenied):
        two_factor.begin_setup(session, None)


def test_required_2fa_applies_to_admins_and_operators_only_and_only_admins_set_it(session):
    admin = make_user(session, Role.ADMIN)
    operator = make_user(session, Role.OPERATOR)
    member = make_user(session, Role.MEMBER)
    with pytest.raises(PermissionDenied):
        two_factor.set_required(session, Principal.of(operator), True)
    assert not two_factor.must_set_up(session, operator)
    two_factor.set_required(session, Principal.of(admin), True)
    assert two_factor.must_set_up(session, admin) and two_factor.must_set_up(session, operator)
    assert not two_factor.must_set_up(session, member)
    _, codes = _enable(session, operator)
    assert not two_factor.must_set_up(session, operator)
    with pytest.raises(UserError, match="required"):
        two_factor.disable(session, Principal.of(operator), PASSWORD, codes[0])


async def test_the_service_reports_who_must_set_up_2fa(migrated):
    from clawnet.db import session_scope

    with session_scope() as s:
        admin = Principal.of(make_user(s, Role.ADMIN))
    service = _service(migrated, None)
    assert not await service.must_set_up_two_factor(admin)
    await service.set_two_factor_required(admin, True)
    assert await service.must_set_up_two_factor(admin)
    assert (await service.two_factor_status(admin)).must_set_up


# --- login sessions ----------------------------------------------------------------------------


def test_sessions_are_listed_with_this_one_marked_and_can_be_revoked(session):
    user = make_user(session)
    other_user = make_user(session)
    here = _login(session, user, "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0")
    _login(session, user, "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Safari/604.1")
    third = _login(session, user, "Mozilla/5.0 (Windows NT 10.0) Chrome/120.0 Safari/537.36")
    theirs = _login(session, other_user)
    me = Principal.of(user)

    rows = login_sessions.list_sessions(session, me, here)
    assert len(rows) == 3 and rows[0].current and not any(r.current for r in rows[1:])
    assert rows[0].device == "Firefox on Linux"
    assert {r.device for r in rows[1:]} == {"Safari on iPhone", "Chrome on Windows"}

    windows = next(r for r in rows if r.device == "Chrome on Windows")
    login_sessions.revoke(session, me, windows.id)
    assert sign_in.principal_for_token(session, third) is None
    their_row = session.exec(select(LoginSession).where(LoginSession.user_id == other_user.id)).one()
    with pytest.raises(NotFound):
        login_sessions.revoke(session, me, their_row.id)  # someone else's session
    assert login_sessions.revoke_others(session, me, here) == 1
    assert [r.current for r in login_sessions.list_sessions(session, me, here)] == [True]
    assert sign_in.principal_for_token(session, here) is not None
    assert sign_in.principal_for_token(session, theirs) is not None
    with pytest.raises(PermissionDenied):
        login_sessions.list_sessions(session, None, here)


def test_recovery_codes_are_distinct_and_readable():
    codes = totp.new_recovery_codes()
    assert len(codes) == 10 and all(len(c) == 14 and c.count("-") == 2 for c in codes)
    assert totp.hash_recovery_code(1, codes[0]) == totp.hash_recovery_code(
        1, codes[0].upper().replace("-", " ")
    )
    assert totp.hash_recovery_code(1, codes[0]) != totp.hash_recovery_code(2, codes[0])


async def test_changing_the_email_needs_the_password_and_mails_a_link_to_the_new_address(migrated):
    mailer = FakeMailer()
    service = _service(migrated, mailer)
    await service.register(email="old@example.com", display_name="Olga", password=PASSWORD, handle="olga")
    await service.wait_for_mail()
    old_token = mailer.sent[0][2].split("http://clawnet.test/verify/")[1].split()[0]
    from clawnet.db import session_scope

    with session_scope() as s:
        principal = Principal.of(s.exec(select(User).where(User.email == "old@example.com")).one())
    with pytest.raises(UserError) as caught:
        await service.change_email(principal, "new@example.com", "not-the-password")
    assert "password" in caught.value.field_errors
    await service.change_email(principal, "New@Example.com", PASSWORD)
    await service.wait_for_mail()
    assert mailer.sent[-1][0] == "new@example.com"
    with pytest.raises(UserError, match="expired"):
        await service.verify_email(old_token)  # a link to the old address is void
    new_token = mailer.sent[-1][2].split("http://clawnet.test/verify/")[1].split()[0]
    assert await service.verify_email(new_token) == "new@example.com"


# --- brute force on the second factor ----------------------------------------------------------


def _wrong_code(secret: str) -> str:
    return "000000" if totp.now_code(secret) != "000000" else "111111"


def test_a_right_password_does_not_clear_failures_before_the_second_factor(session):
    from clawnet.settings import get_settings

    settings = dataclasses.replace(get_settings(), login_max_failures=3, login_failure_window_s=300)
    user = make_user(session)
    secret, _ = _enable(session, user)
    for _ in range(2):
        challenge = sign_in.sign_in(session, user.email, PASSWORD, "10.0.0.1", settings).challenge
        assert challenge
        wrong = two_factor.complete_challenge(session, challenge, _wrong_code(secret), "", settings)
        assert isinstance(wrong, str) and "Wrong code" in wrong
    challenge = sign_in.sign_in(session, user.email, PASSWORD, "10.0.0.1", settings).challenge
    assert challenge  # two failures so far: still below the limit
    two_factor.complete_challenge(session, challenge, _wrong_code(secret), "", settings)
    # Three wrong codes across three password sign-ins: the throttle holds for both steps.
    assert "Too many" in sign_in.sign_in(session, user.email, PASSWORD, "10.0.0.1", settings).error


def test_the_second_factor_is_throttled_and_a_right_code_clears_the_failures(session):
    from clawnet.settings import get_settings

    settings = dataclasses.replace(get_settings(), login_max_failures=3, login_failure_window_s=300)
    user = make_user(session)
    secret, _ = _enable(session, user)
    session.refresh(user)
    user.totp_last_step = 0
    session.add(user)
    challenge = sign_in.sign_in(session, user.email, PASSWORD, "10.0.0.1", settings).challenge
    for _ in range(3):
        two_factor.complete_challenge(session, challenge, _wrong_code(secret), "", settings)
    refused = two_factor.complete_challenge(session, challenge, totp.now_code(secret), "", settings)
    assert isinstance(refused, str) and "Too many" in refused  # even the right code, while throttled

    from clawnet.models import LoginFailure

    for row in session.exec(select(LoginFailure)).all():
        session.delete(row)
    session.flush()
    sign_in.sign_in(session, user.email, "wrong-password-here", "10.0.0.1", settings)
    challenge = sign_in.sign_in(session, user.email, PASSWORD, "10.0.0.1", settings).challenge
    assert session.exec(select(LoginFailure)).all()  # not cleared by the password alone
    assert isinstance(two_factor.complete_challenge(session, challenge, totp.now_code(secret)), User)
    assert not session.exec(select(LoginFailure)).all()  # cleared once the code was right


def test_one_live_challenge_per_person(session):
    user = make_user(session)
    secret, _ = _enable(session, user)
    session.refresh(user)
    user.totp_last_step = 0
    session.add(user)
    first = sign_in.sign_in(session, user.email, PASSWORD, "10.0.0.1").challenge
    second = sign_in.sign_in(session, user.email, PASSWORD, "10.0.0.1").challenge
    assert first != second
    assert (
        two_factor.complete_challenge(session, first, totp.now_code(secret)) == two_factor.EXPIRED_CHALLENGE
    )
    assert isinstance(two_factor.complete_challenge(session, second, totp.now_code(secret)), User)


# --- API tokens end with the password ----------------------------------------------------------


def _tokens(session, user: User):
    from clawnet.models import OAuthToken, Profile

    other = make_user(session)
    person = Profile(handle=f"p{user.id}", display_name="P", user_id=user.id)
    bot = Profile(handle=f"b{user.id}", display_name="B", user_id=user.id, is_bot=True)
    session.add(person)
    session.add(bot)
    session.flush()
    rows = {
        "pat": OAuthToken(token_hash="a" * 64, user_id=user.id, profile_id=person.id),
        "by_profile": OAuthToken(token_hash="b" * 64, profile_id=person.id),
        "bot": OAuthToken(token_hash="c" * 64, profile_id=bot.id),
        "other": OAuthToken(token_hash="d" * 64, user_id=other.id),
    }
    for row in rows.values():
        session.add(row)
    session.flush()
    return rows


def _revoked(session, rows) -> set[str]:
    for row in rows.values():
        session.refresh(row)
    return {name for name, row in rows.items() if row.revoked_at is not None}


def test_a_password_reset_revokes_the_persons_api_tokens(session):
    user = make_user(session)
    rows = _tokens(session, user)
    _, token = recovery.request_reset(session, user.email)
    recovery.reset_password(session, token, NEW_PASSWORD, NEW_PASSWORD)
    assert _revoked(session, rows) == {"pat", "by_profile"}  # not a bot's, not someone else's


def test_signing_out_everywhere_revokes_the_persons_api_tokens(session):
    user = make_user(session)
    rows = _tokens(session, user)
    sign_in.revoke_all_sessions(session, user.id)
    assert _revoked(session, rows) == {"pat", "by_profile"}


# --- required 2FA holds in the service layer, not only as a page redirect ------------------------


def test_staff_without_required_2fa_are_refused_staff_actions(session):
    from clawnet.security.permissions import Action, require

    admin = make_user(session, Role.ADMIN)
    operator = make_user(session, Role.OPERATOR)
    member = make_user(session, Role.MEMBER)
    require(session, Principal.of(operator), Action.CREATE_BOT)  # not required yet
    two_factor.set_required(session, Principal.of(admin), True)
    for staff, action in ((admin, Action.MANAGE_USERS), (operator, Action.CREATE_BOT)):
        with pytest.raises(PermissionDenied, match="Two-factor sign-in is required"):
            require(session, Principal.of(staff), action)
        require(session, Principal.of(staff), Action.USE_SOCIAL)  # the social side stays open
    require(session, Principal.of(member), Action.USE_SOCIAL)
    with pytest.raises(PermissionDenied, match="Two-factor sign-in is required"):
        two_factor.set_required(session, Principal.of(admin), False)  # a service call, not a page
    _enable(session, admin)
    session.refresh(admin)
    require(session, Principal.of(admin), Action.MANAGE_USERS)
    two_factor.set_required(session, Principal.of(admin), False)
    require(session, Principal.of(operator), Action.CREATE_BOT)
