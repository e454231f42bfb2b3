"""export_posts: the Mega-Tutorial's chapter 22 task, on rqledger.

The worker imports this module (RQLEDGER_TASK_MODULES=examples.flask_app.tasks) and so does the app (its
view enqueues the task). The task reads the posts through an engine of its own (the worker has no Flask
app) and mails them as a JSON attachment through the worker's mail sender, the one the demo's send_mail
uses: SMTP when MAIL_SERVER is set, else .eml files in RQLEDGER_MAIL_OUTBOX, else (this example's
choice) in ./outbox.
"""

from __future__ import annotations

import json
import time
from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from examples.flask_app import config
from examples.flask_app.models import Post, User
from rqledger import set_progress, task
from rqledger.adapters.mail import OutboxMailSender, UnconfiguredMailSender
from rqledger.entrypoints import runtime


@task(unique=True, description="Exports a user's posts and mails them as a JSON file")
def export_posts(user_id: int) -> dict:
    """One export per user at a time (unique: per task type and owner)."""
    user, posts = read_posts(user_id)
    for done, _ in enumerate(posts, start=1):
        time.sleep(config.seconds_per_post())  # the tutorial's pause: lets the progress be seen
        set_progress(100 * done // len(posts))
    delivered_to = mail_sender().send(posts_mail(user, posts))
    return {"posts": len(posts), "sent_to": user["email"], "delivered_to": delivered_to}


def read_posts(user_id: int) -> tuple[dict, list[dict]]:
    """The user and their posts, oldest first, read on the database the app writes (DATABASE_URL)."""
    engine = create_engine(config.database_url())
    try:
        with Session(engine) as session:
            user = session.get(User, user_id)
            if user is None:
                raise LookupError(f"no user with id {user_id}")
            posts = session.scalars(select(Post).where(Post.user_id == user_id).order_by(Post.id)).all()
            return ({"username": user.username, "email": user.email},
                    [{"body": p.body, "timestamp": p.timestamp.isoformat() + "Z"} for p in posts])
    finally:
        engine.dispose()


def posts_mail(user: dict, posts: list[dict]) -> EmailMessage:
    """The tutorial's mail: a line of text, and the posts as posts.json."""
    sender = runtime.current().config.mail.sender()  # MAIL_SENDER
    message = EmailMessage()
    message["Subject"] = "[Microblog] Your blog posts"
    message["From"] = sender
    message["To"] = user["email"]
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].rstrip(">") or "localhost")
    message.set_content(f"Dear {user['username']},\n\nplease find attached the archive of the "
                        f"{len(posts)} posts that you requested.\n\nSincerely,\n\nThe Microblog Team\n")
    message.add_attachment(json.dumps({"posts": posts}, indent=4).encode(), maintype="application",
                           subtype="json", filename="posts.json")
    return message


def mail_sender():
    """The worker's mail sender (its MAIL_* settings or RQLEDGER_MAIL_OUTBOX); with none, the example's outbox."""
    sender = runtime.current().mail_sender()
    return OutboxMailSender(config.default_outbox()) if isinstance(sender, UnconfiguredMailSender) else sender
