"""Passwords: argon2 hashes via passlib, and the rules for new passwords."""

from clawnet.security import passwords


def test_hash_is_argon2_and_verifies_only_the_right_password():
    hashed = passwords.hash_password("correct horse battery")
    assert hashed.startswith("$argon2id$")
    assert passwords.verify_password("correct horse battery", hashed)
    assert not passwords.verify_password("correct horse batterY", hashed)


def test_same_password_hashes_differently():
    assert passwords.hash_password("same password!") != passwords.hash_password("same password!")


def test_malformed_hash_is_a_mismatch_not_an_error():
    assert not passwords.verify_password("anything", "not-a-hash")
    assert not passwords.verify_password("anything", "")


def test_password_rules_name_the_problem():
    assert passwords.password_problem("short") == "Use at least 10 characters."
    assert passwords.password_problem("x" * 300) == "Use at most 256 characters."
    assert passwords.password_problem(" " * 12) == "A password cannot be only spaces."
    assert passwords.password_problem("long enough pass") is None
