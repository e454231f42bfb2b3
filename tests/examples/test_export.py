"""The example's export end to end: a signed-in user's "Export my posts" enqueues export_posts in the view's
own transaction, a real `rqledger worker` runs it, and the posts arrive by mail as a JSON attachment; a second
export while the first runs is refused in the page. On a SQLite file and on PostgreSQL, with real Redis."""

from __future__ import annotations

import json

import pytest

from examples.flask_app.extensions import rqledger_ext
from examples.flask_app.models import SEED
from tests.examples.conftest import mails, sign_in
from tests.processes import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.timeout(120)]

SUSANS_POSTS = next(bodies for (name, *_), bodies in SEED.items() if name == "susan")
ALREADY = "An export of your posts is already in progress"


def in_progress(client) -> list[dict]:
    response = client.get("/tasks/api/tasks?status=queued,running")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def ledger_task(app, task_id: int):
    with app.app_context():
        return rqledger_ext.ledger.get(task_id)


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_a_users_export_runs_on_a_worker_and_mails_their_posts_as_json(app, start_worker, outbox):
    worker = start_worker()
    susan = sign_in(app, "susan")
    page = susan.post("/export_posts", follow_redirects=True).get_data(as_text=True)
    assert "Exporting your posts" in page
    [task] = in_progress(susan)
    assert (task["name"], task["owner"]) == ("export_posts", str(task["args"][0]))
    assert f'data-rqledger-task="{task["id"]}"' in page  # the progress alert the page's script keeps current

    with app.app_context():
        done = rqledger_ext.ledger.wait(task["id"], timeout=30)
    assert done.status == "finished", f"{done.status}: {done.log}\n{worker.output}"
    assert done.result["posts"] == len(SUSANS_POSTS) and done.result["sent_to"] == "susan@example.com"
    [mail] = wait_for(lambda: mails(outbox), 5, what="the mail in the outbox")
    assert mail["To"] == "susan@example.com" and mail["Subject"] == "[Microblog] Your blog posts"
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_filename() == "posts.json" and attachment.get_content_type() == "application/json"
    exported = json.loads(attachment.get_content())
    assert [post["body"] for post in exported["posts"]] == SUSANS_POSTS
    assert in_progress(susan) == []
    page = susan.get("/user/susan").get_data(as_text=True)
    assert f"{len(SUSANS_POSTS)} posts mailed to susan@example.com" in page


def test_a_second_export_while_the_first_runs_is_refused_in_the_page(app, start_worker):
    start_worker()
    susan = sign_in(app, "susan")
    susan.post("/export_posts")
    [first] = in_progress(susan)
    wait_for(lambda: ledger_task(app, first["id"]).status == "running", 15, what="the export running")

    page = susan.post("/export_posts", follow_redirects=True).get_data(as_text=True)
    assert ALREADY in page
    assert [t["id"] for t in in_progress(susan)] == [first["id"]]  # the refused one left no row
    john = sign_in(app, "john")
    assert ALREADY not in john.post("/export_posts", follow_redirects=True).get_data(as_text=True)  # per user

    with app.app_context():
        assert rqledger_ext.ledger.wait(first["id"], timeout=30).status == "finished"
    page = susan.post("/export_posts", follow_redirects=True).get_data(as_text=True)
    assert ALREADY not in page and "Exporting your posts" in page  # once it ended, a new export is taken
    assert len(susan.get("/tasks/api/tasks").get_json()["items"]) == 2
