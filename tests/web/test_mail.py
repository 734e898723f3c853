"""Email: saved to files for a developer, delivered to a real SMTP server (plain, and STARTTLS with a password), and
production refusing to start with nowhere to send it."""

import email
import shutil
import ssl
import subprocess
from email import policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from app.config import ConfigError, build_config, check_config
from app.services import mail
from tests.servers import free_port

SENDER = "PCN Neighbourhood Readiness <readiness@example.org>"
BODY = "Hello Jo,\n\nOpen this link to choose a password:\n\nhttps://readiness.example/invitations/accept/abc\n"


class Inbox:
    """An SMTP server's handler that keeps what it is given."""

    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self):
        return [email.message_from_bytes(e.content, policy=policy.default) for e in self.envelopes]

    def bodies(self) -> list[str]:
        """Each message's text, with the network's CRLF line ends read as newlines."""
        return [m.get_content().replace("\r\n", "\n") for m in self.messages()]


@pytest.fixture
def smtp_settings(app, monkeypatch):
    """The shared app sends through SMTP for this test (put back afterwards)."""

    def use(port: int, **settings):
        values = {"MAIL_BACKEND": "smtp", "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port, "MAIL_USE_TLS": False,
                  "MAIL_USERNAME": "", "MAIL_PASSWORD": "", "MAIL_FROM": SENDER, **settings}  # fmt: skip
        for key, value in values.items():
            monkeypatch.setitem(app.config, key, value)

    return use


@pytest.fixture
def smtp_server():
    started = []

    def start(**options):
        inbox = Inbox()
        controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), **options)
        controller.start()
        started.append(controller)
        return inbox, controller.port

    yield start
    for controller in started:
        controller.stop()


# --- The development default: files and the console -------------------------------------------------------------


def test_the_file_backend_saves_each_message_and_prints_it(app, monkeypatch, tmp_path, capsys):
    folder = tmp_path / "mail"
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "file")
    monkeypatch.setitem(app.config, "MAIL_FILE_DIR", str(folder))
    with app.app_context():
        mail.send("jo.lewis@example.org", "Your invitation", BODY)
        mail.send("sam@example.org", "Another invitation", "Hello Sam\n")
    files = sorted(folder.glob("*.eml"))
    assert len(files) == 2
    saved = [email.message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]
    first = next(m for m in saved if m["To"] == "jo.lewis@example.org")
    assert first["Subject"] == "Your invitation" and first["From"] == app.config["MAIL_FROM"]
    assert first.get_content() == BODY  # the link is there whole, ready to follow
    console = capsys.readouterr().err
    assert "To: jo.lewis@example.org" in console and "https://readiness.example/invitations/accept/abc" in console


def test_development_sends_to_files_and_the_tests_to_memory(tmp_path, monkeypatch):
    monkeypatch.delenv("MAIL_BACKEND", raising=False)
    assert build_config(tmp_path, {"APP_ENV": "development"})["MAIL_BACKEND"] == "file"
    assert build_config(tmp_path, {"APP_ENV": "development"})["MAIL_FILE_DIR"] == str(tmp_path / "mail")
    assert build_config(tmp_path, {"APP_ENV": "testing"})["MAIL_BACKEND"] == "memory"
    assert build_config(tmp_path, {"APP_ENV": "production"})["MAIL_BACKEND"] == "smtp"


def test_the_memory_backend_keeps_messages_for_the_tests(app):
    with app.app_context():
        before = len(mail.outbox())
        mail.send("jo.lewis@example.org", "Your invitation", BODY)
        message = mail.outbox()[-1]
        assert len(mail.outbox()) == before + 1
    assert message["To"] == "jo.lewis@example.org" and message.get_content() == BODY


def test_a_line_break_in_a_header_is_refused_and_nothing_is_sent(app):
    with app.app_context():
        before = len(mail.outbox())
        with pytest.raises(ValueError):
            mail.send("jo.lewis@example.org", "Invitation\nBcc: someone@example.com", BODY)
        assert len(mail.outbox()) == before


# --- SMTP ----------------------------------------------------------------------------------------------------------


def test_smtp_delivers_to_a_mail_server(app, smtp_server, smtp_settings):
    inbox, port = smtp_server()
    smtp_settings(port)
    with app.app_context():
        mail.send("jo.lewis@example.org", "Your invitation to Riverside PCN", BODY)
    assert len(inbox.envelopes) == 1
    envelope = inbox.envelopes[0]
    assert envelope.mail_from == "readiness@example.org" and envelope.rcpt_tos == ["jo.lewis@example.org"]
    message = inbox.messages()[0]
    assert message["Subject"] == "Your invitation to Riverside PCN" and message["From"] == SENDER
    assert inbox.bodies() == [BODY] and message["Message-ID"].endswith("@example.org>")


@pytest.fixture
def certificate(tmp_path, monkeypatch):
    """A self-signed certificate for 127.0.0.1 that this test's client trusts."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a certificate for the STARTTLS test")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client's trust store: this certificate only
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def test_smtp_uses_starttls_and_signs_in(app, smtp_server, smtp_settings, certificate):
    tried = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        tried.append(session.ssl is not None)  # only ever over the encrypted connection
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"readiness", b"s3cret")
        return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535 itself

    inbox, port = smtp_server(
        tls_context=certificate, require_starttls=True, authenticator=authenticator, auth_require_tls=True
    )
    smtp_settings(port, MAIL_USE_TLS=True, MAIL_USERNAME="readiness", MAIL_PASSWORD="s3cret")
    with app.app_context():
        mail.send("jo.lewis@example.org", "Your invitation", BODY)
    assert inbox.bodies() == [BODY]
    assert tried == [True]

    smtp_settings(port, MAIL_USE_TLS=True, MAIL_USERNAME="readiness", MAIL_PASSWORD="wrong")
    with app.app_context(), pytest.raises(mail.MailError):
        mail.send("jo.lewis@example.org", "Your invitation", BODY)
    assert len(inbox.envelopes) == 1


def test_a_server_that_requires_starttls_refuses_a_plain_connection(app, smtp_server, smtp_settings, certificate):
    inbox, port = smtp_server(tls_context=certificate, require_starttls=True)
    smtp_settings(port, MAIL_USE_TLS=False)
    with app.app_context(), pytest.raises(mail.MailError):
        mail.send("jo.lewis@example.org", "Your invitation", BODY)
    assert inbox.envelopes == []


def test_no_mail_server_is_a_mail_error(app, smtp_settings):
    smtp_settings(free_port())  # nothing listens there
    with app.app_context(), pytest.raises(mail.MailError):
        mail.send("jo.lewis@example.org", "Your invitation", BODY)


# --- Production settings -----------------------------------------------------------------------------------------


@pytest.fixture
def production(monkeypatch, tmp_path):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    for name in ("MAIL_BACKEND", "MAIL_SERVER", "MAIL_FROM", "MAIL_USERNAME", "MAIL_PASSWORD", "MAIL_USE_TLS"):
        monkeypatch.delenv(name, raising=False)
    return lambda: check_config(build_config(tmp_path))


def test_production_refuses_to_start_with_nowhere_to_send_email(production, monkeypatch):
    with pytest.raises(ConfigError, match="MAIL_SERVER and MAIL_FROM must be set in production"):
        production()
    monkeypatch.setenv("MAIL_SERVER", "smtp.example.org")
    with pytest.raises(ConfigError, match="MAIL_SERVER and MAIL_FROM"):
        production()
    monkeypatch.setenv("MAIL_FROM", SENDER)
    production()  # starts


def test_production_may_choose_another_way_to_send_email(production, monkeypatch):
    monkeypatch.setenv("MAIL_BACKEND", "file")
    production()  # starts: an operator said where email goes


def test_production_refuses_to_send_a_mail_password_unencrypted(production, monkeypatch):
    monkeypatch.setenv("MAIL_SERVER", "smtp.example.org")
    monkeypatch.setenv("MAIL_FROM", SENDER)
    monkeypatch.setenv("MAIL_USERNAME", "readiness")
    monkeypatch.setenv("MAIL_PASSWORD", "s3cret")
    monkeypatch.setenv("MAIL_USE_TLS", "false")
    with pytest.raises(ConfigError, match="MAIL_USE_TLS is off"):
        production()
    monkeypatch.setenv("MAIL_USE_TLS", "true")
    production()


def test_an_unknown_mail_backend_is_refused_everywhere(tmp_path, monkeypatch):
    monkeypatch.setenv("MAIL_BACKEND", "carrier-pigeon")
    with pytest.raises(ConfigError, match="MAIL_BACKEND is 'carrier-pigeon'"):
        check_config(build_config(tmp_path, {"APP_ENV": "development"}))
