"""Outgoing email: a small service on the standard library's SMTP client (`MailService`).

Generic on purpose (`send(to, subject, text)`): alerts use it, and so will the accounts' mail
(password resets). Settings come from the environment (CLAWNET_SMTP_*); without a host the
service is "not configured", which is a state callers can show, not an error."""

from clawnet.mail.service import MailError, MailNotConfigured, MailService

__all__ = ["MailError", "MailNotConfigured", "MailService"]
