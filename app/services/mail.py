"""Email: `send(to, subject, body)` sends one plain-text message, delivered the way MAIL_BACKEND says.

- "smtp" (production's default): through the mail server named by MAIL_SERVER and MAIL_PORT, with STARTTLS unless
  MAIL_USE_TLS is off, signing in with MAIL_USERNAME and MAIL_PASSWORD when a username is set.
- "file" (development's default): each message saved as an .eml file in MAIL_FILE_DIR (instance/mail/) and printed
  on the console, so invitations can be followed on a machine with no mail server.
- "memory" (the tests' default): kept in the list app.extensions["mail_outbox"], which the tests read.

Messages come from MAIL_FROM. A message that cannot be handed over raises MailError; nothing is half sent.
"""

import logging
import secrets
import smtplib
import ssl
import sys
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path

from flask import current_app

from ..models.base import utcnow

BACKENDS = ("smtp", "file", "memory")
OUTBOX = "mail_outbox"
# How long to wait for the mail server at each step before giving up (the person is waiting for the page).
TIMEOUT_SECONDS = 15

logger = logging.getLogger("app.mail")


class MailError(Exception):
    """The message could not be sent. The text says why, for the log; it holds no message content."""


def send(to: str, subject: str, body: str) -> None:
    """Send one plain-text email to one address."""
    config = current_app.config
    message = compose(config["MAIL_FROM"], to, subject, body)
    backend = config["MAIL_BACKEND"]
    if backend == "smtp":
        _send_smtp(message, to, config)
    elif backend == "file":
        _save_file(message, to, subject, body, Path(config["MAIL_FILE_DIR"]))
    elif backend == "memory":
        current_app.extensions.setdefault(OUTBOX, []).append(message)
    else:
        raise MailError(f"MAIL_BACKEND is {backend!r}: set it to one of {', '.join(BACKENDS)}")
    logger.info("Email sent through the %s backend", backend)


def compose(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text message. Header values with line breaks are refused (ValueError), so nothing can be smuggled
    into the headers."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    # Named for the sender's domain: make_msgid's default looks up this machine's name, which can be slow.
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    # Plain ASCII stays readable as sent (and a link is never split by soft line breaks); anything else is encoded.
    message.set_content(body, cte="7bit" if body.isascii() else "quoted-printable")
    return message


def outbox() -> list[EmailMessage]:
    """Messages sent through the memory backend, oldest first."""
    return current_app.extensions.setdefault(OUTBOX, [])


def _send_smtp(message: EmailMessage, to: str, config) -> None:
    server, port = config["MAIL_SERVER"], config["MAIL_PORT"]
    try:
        with smtplib.SMTP(server, port, timeout=TIMEOUT_SECONDS) as smtp:
            if config["MAIL_USE_TLS"]:
                smtp.starttls(context=ssl.create_default_context())
            if config["MAIL_USERNAME"]:
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            # The envelope names the one recipient, whatever the To header might be read to say.
            smtp.send_message(message, to_addrs=[to])
    except (smtplib.SMTPException, OSError) as error:
        logger.error("Email could not be sent through %s:%s: %s", server, port, type(error).__name__)
        raise MailError(f"{server}:{port} did not accept the message ({type(error).__name__})") from error


def _save_file(message: EmailMessage, to: str, subject: str, body: str, directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{utcnow():%Y%m%dT%H%M%S}-{secrets.token_hex(4)}.eml"
        path.write_bytes(bytes(message))
    except OSError as error:
        raise MailError(f"the message could not be saved in {directory} ({type(error).__name__})") from error
    # The console is where a developer looks: the whole message, readable, with any link in it to follow.
    print(f"\n--- Email saved as {path} ---\nTo: {to}\nSubject: {subject}\n\n{body}\n--- End of email ---\n",
          file=sys.stderr, flush=True)  # fmt: skip
