"""The app's extensions, made once and bound to each app by create_app (the Flask-SQLAlchemy shape)."""

from flask import session

from examples.flask_app.models import User, db
from rqledger.flask import RQLedger

rqledger_ext = RQLedger()


@rqledger_ext.owner_loader
def current_owner():
    """The signed-in user's id: rqledger's API and dashboard under /tasks act for that user only."""
    return session.get("user_id")


@rqledger_ext.admin_loader
def is_admin() -> bool:
    """An admin sees every user's tasks on the dashboard."""
    user_id = session.get("user_id")
    user = db.session.get(User, user_id) if user_id is not None else None
    return user is not None and user.is_admin
