"""send_mail against a local SMTP server (aiosmtpd), with STARTTLS and login, and the dev outbox folder."""

from __future__ import annotations

import base64
import email
import email.policy
import shutil
import ssl
import subprocess

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from rqledger.adapters.mail import MailNotConfigured, MailNotSent, SmtpMailSender
from rqledger.demo import send_mail
from rqledger.demo.send_mail import InvalidMail, build_message
from tests.services import free_port


class Inbox:
    """An aiosmtpd handler that keeps every message it is given."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


@pytest.fixture
def certificate(tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return key, cert


def test_sends_a_rendered_mail_through_smtp(smtp_server, service_env, request):
    controller, inbox = smtp_server
    service_env.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=str(controller.port), MAIL_SENDER="ledger@example.test")
    request.getfixturevalue("service")

    result = send_mail("Welcome", ["ada@example.test", "bob@example.test"], "welcome",
                       context={"name": "Ada <admin>", "link": "http://example.test/start"})

    [message] = inbox.messages
    assert message["Subject"] == "Welcome"
    assert message["From"] == "ledger@example.test"
    assert inbox.envelopes[0].rcpt_tos == ["ada@example.test", "bob@example.test"]
    assert "Hello Ada <admin>," in message.get_body(("plain",)).get_content()
    assert "Hello Ada &lt;admin&gt;," in message.get_body(("html",)).get_content()  # HTML escapes the context
    assert result["sent_to"] == ["ada@example.test", "bob@example.test"]
    assert result["delivered_to"] == message["Message-ID"]


def test_attachments_travel_with_the_mail(smtp_server, service_env, request):
    controller, inbox = smtp_server
    service_env.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=str(controller.port))
    request.getfixturevalue("service")
    png = b"\x89PNG\r\n\x1a\nnot really"

    result = send_mail("Report", ["ada@example.test"], "report", context={"lines": ["all good"]}, attachments=[
        {"filename": "notes.txt", "content": "plain notes"},
        {"filename": "chart.png", "content": base64.b64encode(png).decode(), "encoding": "base64"},
    ])

    [message] = inbox.messages
    parts = {part.get_filename(): part for part in message.iter_attachments()}
    assert parts["notes.txt"].get_content().strip() == "plain notes"
    assert parts["chart.png"].get_content_type() == "image/png"
    assert parts["chart.png"].get_content() == png
    assert result["attachments"] == ["notes.txt", "chart.png"]


def test_starttls_and_login(smtp_server, certificate):
    key, cert = certificate
    inbox = Inbox()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    logins = []

    def authenticate(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"secret", handled=False)

    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), tls_context=server_context,
                            require_starttls=True, authenticator=authenticate, auth_require_tls=True)
    controller.start()
    try:
        client_context = ssl.create_default_context(cafile=str(cert))
        sender = SmtpMailSender("127.0.0.1", controller.port, username="ada", password="secret", use_tls=True,
                                ssl_context=client_context)
        sender.send(build_message("Secret", ["bob@example.test"], "welcome", {}, [], "ada@example.test"))
        assert logins == [(b"ada", b"secret")]
        assert inbox.messages[0]["Subject"] == "Secret"

        wrong = SmtpMailSender("127.0.0.1", controller.port, username="ada", password="nope", use_tls=True,
                               ssl_context=client_context)
        with pytest.raises(MailNotSent, match="refused the login of 'ada'"):
            wrong.send(build_message("Secret", ["bob@example.test"], "welcome", {}, [], "ada@example.test"))
    finally:
        controller.stop()


def test_an_unreachable_mail_server_fails_clearly(service_env, request):
    port = free_port()
    service_env.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=str(port))
    request.getfixturevalue("service")
    with pytest.raises(MailNotSent, match=f"could not reach the mail server 127.0.0.1:{port}"):
        send_mail("Hi", ["ada@example.test"], "welcome")


def test_without_a_mail_server_dev_writes_the_mail_to_the_outbox(service, tmp_path):
    result = send_mail("Hi", ["ada@example.test"], "welcome", context={"name": "Ada"})
    [path] = (tmp_path / "outbox").glob("*.eml")
    assert result["delivered_to"] == str(path)
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["To"] == "ada@example.test"
    assert "Hello Ada," in message.get_body(("plain",)).get_content()


def test_without_a_mail_server_or_an_outbox_it_says_what_to_set(service_env, request):
    del service_env["RQLEDGER_MAIL_OUTBOX"]
    request.getfixturevalue("service")
    with pytest.raises(MailNotConfigured, match="set MAIL_SERVER"):
        send_mail("Hi", ["ada@example.test"], "welcome")


@pytest.mark.parametrize("args,error", [
    (("Hi", ["ada@example.test"], "nope"), "unknown mail template 'nope'; available: report, welcome"),
    (("Hi", ["ada@example.test"], "../send_mail"), "unknown mail template"),
    (("Hi", [], "welcome"), "at least one address"),
    (("Hi", ["not-an-address"], "welcome"), "not a mail address"),
    (("Hi\r\nBcc: eve@example.test", ["ada@example.test"], "welcome"), "invalid mail header"),
])
def test_refuses_a_mail_that_cannot_be_sent(service, args, error):
    with pytest.raises(InvalidMail, match=error.replace("(", r"\(")):
        send_mail(*args)


def test_refuses_bad_attachments(service):
    with pytest.raises(InvalidMail, match="not valid base64"):
        send_mail("Hi", ["ada@example.test"], "welcome",
                  attachments=[{"filename": "a.bin", "content": "%%%", "encoding": "base64"}])
    with pytest.raises(InvalidMail, match="without folders"):
        send_mail("Hi", ["ada@example.test"], "welcome", attachments=[{"filename": "../a", "content": "x"}])
