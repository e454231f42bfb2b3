"""The pages: sign in by name, a user's posts, "Export my posts", the signed-in user's tasks."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from sqlalchemy import select

from examples.flask_app.extensions import rqledger_ext
from examples.flask_app.models import User, db
from examples.flask_app.tasks import export_posts
from rqledger import DuplicateUniqueTask

bp = Blueprint("microblog", __name__)

IN_PROGRESS = ("queued", "running")


@bp.before_app_request
def load_user() -> None:
    user_id = session.get("user_id")
    g.user = db.session.get(User, user_id) if user_id is not None else None


@bp.app_context_processor
def tasks_in_progress() -> dict:
    """What every page of the app shows at its top: the signed-in user's exports still queued or running."""
    if g.get("user") is None or request.blueprint != bp.name:  # not for rqledger's own dashboard
        return {"tasks_in_progress": []}
    return {"tasks_in_progress": rqledger_ext.ledger.tasks(owner=g.user.id, status=IN_PROGRESS).items}


def login_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if g.user is None:
            return redirect(url_for(".login", next=request.path))
        return view(*args, **kwargs)

    return wrapped


@bp.route("/login", methods=["GET", "POST"])
def login():
    """A name is enough: this example is about tasks, not passwords."""
    if request.method == "POST":
        user = db.session.scalar(select(User).where(User.username == request.form.get("username", "").strip()))
        if user is None:
            flash("No such user: try susan, john or admin.", "error")
        else:
            session.clear()
            session["user_id"] = user.id
            return redirect(_local(request.args.get("next")) or url_for(".user", username=user.username))
    users = db.session.scalars(select(User).order_by(User.id)).all()
    return render_template("login.html", users=users)


@bp.post("/logout")
def logout():
    session.clear()
    return redirect(url_for(".login"))


@bp.get("/")
@login_required
def index():
    return redirect(url_for(".user", username=g.user.username))


@bp.get("/user/<username>")
@login_required
def user(username: str):
    shown = db.session.scalar(select(User).where(User.username == username)) or abort(404)
    tasks = rqledger_ext.ledger.tasks(owner=g.user.id, limit=20).items if shown.id == g.user.id else []
    return render_template("user.html", shown=shown, tasks=tasks)


@bp.post("/export_posts")
@login_required
def export_my_posts():
    """Enqueues the export in this request's own transaction: the task row commits with it, or not at all."""
    try:
        export_posts.using(owner=g.user.id, connection=db.session,
                           description="Exporting posts").enqueue(g.user.id)
        db.session.commit()
    except DuplicateUniqueTask:
        db.session.rollback()
        flash("An export of your posts is already in progress: wait for it to finish.", "error")
    else:
        flash("Exporting your posts: they will be mailed to you as a JSON file.")
    return redirect(url_for(".user", username=g.user.username))


def _local(target: str | None) -> str | None:
    """`next` only when it is a path on this site (never another site's address)."""
    return target if target and target.startswith("/") and not target.startswith("//") else None
