"""The mail service: `smtplib` in a worker thread (never on the event loop), a few retries."""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from clawnet.settings import Settings

log = logging.getLogger(__name__)

RETRY_DELAYS_S = (1.0, 3.0)  # two more tries after the first, then give up


class MailError(Exception):
    """The message could not be handed to the SMTP server (after the retries)."""


class MailNotConfigured(MailError):
    """No SMTP server is set (CLAWNET_SMTP_HOST is empty)."""


class MailService:
    def __init__(self, settings: Settings, *, retry_delays_s: tuple[float, ...] = RETRY_DELAYS_S) -> None:
        self.settings = settings
        self.retry_delays_s = retry_delays_s

    @property
    def configured(self) -> bool:
        return bool(self.settings.smtp_host)

    def message(self, to: str, subject: str, text: str) -> EmailMessage:
        s = self.settings
        msg = EmailMessage()
        msg["From"] = s.smtp_from or f"ClawNet <clawnet@{s.smtp_host or 'localhost'}>"
        msg["To"] = to
        msg["Subject"] = subject.replace("\n", " ").replace("\r", " ")[:200]
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = make_msgid(domain="clawnet")
        msg.set_content(text)
        return msg

    async def send(self, to: str, subject: str, text: str) -> None:
        """Send one plain-text message. Raises MailNotConfigured without a server, MailError when
        every try failed (temporary failures are retried, a refused recipient is not)."""
        if not self.configured:
            raise MailNotConfigured("Outgoing email is not configured (CLAWNET_SMTP_HOST is not set).")
        if not to or "@" not in to or "\n" in to or "\r" in to:
            raise MailError(f"Not an email address: {to!r}.")
        msg = self.message(to, subject, text)
        delays = (0.0, *self.retry_delays_s)
        last: Exception | None = None
        for attempt, delay in enumerate(delays, start=1):
            if delay:
                await asyncio.sleep(delay)
            try:
                await asyncio.to_thread(self._deliver, msg)
                return
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as exc:
                raise MailError(f"The mail server refused the message: {exc}") from None
            except (OSError, smtplib.SMTPException) as exc:
                last = exc
                log.warning("mail to %s: try %s failed: %s", to, attempt, exc)
        raise MailError(f"The mail server could not be reached: {last}")

    def _deliver(self, msg: EmailMessage) -> None:
        s = self.settings
        timeout = float(s.smtp_timeout_s)
        context = ssl.create_default_context()
        client: smtplib.SMTP
        if s.smtp_tls == "ssl":
            client = smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=timeout, context=context)
        else:
            client = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=timeout)
        with client:
            if s.smtp_tls == "starttls":
                client.starttls(context=context)
            if s.smtp_user:
                client.login(s.smtp_user, s.smtp_password)
            client.send_message(msg)
