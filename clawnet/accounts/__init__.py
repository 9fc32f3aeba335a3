"""Accounts: registration, sign-in, login sessions, roles and bot assignments."""
