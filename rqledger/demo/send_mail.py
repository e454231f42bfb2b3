"""send_mail: a mail rendered from a template in demo_tasks/templates/, sent through the configured sender."""

from __future__ import annotations

import base64
import binascii
import mimetypes
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid

from jinja2 import Environment, PackageLoader, TemplateNotFound, select_autoescape

from rqledger.demo.resources import mail_from, mail_sender
from rqledger import set_progress, task

MAX_RECIPIENTS = 50
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024

# Templates come from this package only: a request names a template, never a path.
_templates = Environment(loader=PackageLoader("rqledger.demo", "templates"),
                         autoescape=select_autoescape(["html"]), keep_trailing_newline=True)


class InvalidMail(ValueError):
    """The arguments do not make a mail that can be sent."""


@task(description="Sends a mail rendered from a template (SMTP, or the outbox folder in dev)")
def send_mail(subject: str, recipients: list, template_name: str, context: dict | None = None,
              attachments: list | None = None, sender: str | None = None) -> dict:
    """`template_name` picks <name>.txt (and <name>.html, when there is one) from demo_tasks/templates/.

    `attachments`: a list of {"filename", "content", "encoding"?: "text" | "base64", "content_type"?}.
    """
    message = build_message(subject, recipients, template_name, context or {}, attachments or [],
                            sender or mail_from())
    set_progress(50)
    receipt = mail_sender().send(message)
    return {"sent_to": list(recipients), "subject": subject, "template": template_name,
            "attachments": [a["filename"] for a in attachments or []], "message_id": message["Message-ID"],
            "delivered_to": receipt}


def build_message(subject: str, recipients: list, template_name: str, context: dict, attachments: list,
                  sender: str) -> EmailMessage:
    """The mail, ready to send. Raises InvalidMail naming what is wrong."""
    _check_recipients(recipients)
    text, html = _render(template_name, context)
    message = EmailMessage()
    try:
        message["Subject"] = subject
        message["From"] = sender
        message["To"] = ", ".join(recipients)
    except ValueError as exc:  # a line break in a header would let a request add headers of its own
        raise InvalidMail(f"invalid mail header: {exc}") from None
    message["Message-ID"] = make_msgid(domain=_domain(sender))
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    for number, attachment in enumerate(attachments):
        _attach(message, number, attachment)
    return message


def available_templates() -> list[str]:
    return sorted({name.rsplit(".", 1)[0] for name in _templates.list_templates(extensions=["txt", "html"])})


def _render(template_name: str, context: dict) -> tuple[str, str | None]:
    if not template_name or "/" in template_name or "\\" in template_name or template_name.startswith("."):
        raise InvalidMail(f"unknown mail template {template_name!r}; available: {', '.join(available_templates())}")
    try:
        text = _templates.get_template(f"{template_name}.txt").render(context)
    except TemplateNotFound:
        raise InvalidMail(f"unknown mail template {template_name!r}; "
                          f"available: {', '.join(available_templates())}") from None
    try:
        html = _templates.get_template(f"{template_name}.html").render(context)
    except TemplateNotFound:
        html = None
    return text, html


def _check_recipients(recipients: list) -> None:
    if not recipients:
        raise InvalidMail("'recipients' must list at least one address")
    if len(recipients) > MAX_RECIPIENTS:
        raise InvalidMail(f"at most {MAX_RECIPIENTS} recipients, got {len(recipients)}")
    for recipient in recipients:
        if not isinstance(recipient, str) or "@" not in recipient or any(c in recipient for c in "\r\n,"):
            raise InvalidMail(f"not a mail address: {recipient!r}")


def _attach(message: EmailMessage, number: int, attachment) -> None:
    if not isinstance(attachment, dict) or not isinstance(attachment.get("filename"), str) \
            or not isinstance(attachment.get("content"), str):
        raise InvalidMail(f"attachment {number} must be an object with a 'filename' and a 'content' string")
    filename = attachment["filename"]
    if not filename or any(c in filename for c in "/\\\r\n"):
        raise InvalidMail(f"attachment {number}: a file name without folders, got {filename!r}")
    encoding = attachment.get("encoding", "text")
    if encoding == "base64":
        try:
            data = base64.b64decode(attachment["content"], validate=True)
        except (binascii.Error, ValueError):
            raise InvalidMail(f"attachment {number} ({filename}): 'content' is not valid base64") from None
    elif encoding == "text":
        data = attachment["content"].encode()
    else:
        raise InvalidMail(f"attachment {number} ({filename}): 'encoding' must be 'text' or 'base64'")
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise InvalidMail(f"attachment {number} ({filename}) is larger than {MAX_ATTACHMENT_BYTES} bytes")
    content_type = attachment.get("content_type") or mimetypes.guess_type(filename)[0] or "application/octet-stream"
    maintype, _, subtype = content_type.partition("/")
    if not subtype:
        raise InvalidMail(f"attachment {number} ({filename}): 'content_type' must look like type/subtype")
    message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)


def _domain(sender: str) -> str:
    try:
        return Address(addr_spec=sender.split("<")[-1].rstrip(">").strip()).domain or "localhost"
    except (ValueError, IndexError):
        return "localhost"
