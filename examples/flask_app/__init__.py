"""The Flask Mega-Tutorial's chapter 22 ("Background Jobs": export your posts) rebuilt on rqledger.

    flask --app examples.flask_app run                                  # the app, from the repository root
    RQLEDGER_TASK_MODULES=examples.flask_app.tasks rqledger worker      # its worker, from the same folder

README.md beside this file says more (PostgreSQL, mail, the admin).
"""

from __future__ import annotations

import os

from flask import Flask

from examples.flask_app import config
from examples.flask_app.extensions import rqledger_ext
from examples.flask_app.models import db, seed
from examples.flask_app.views import bp


def create_app(settings: dict | None = None) -> Flask:
    """The app; `settings` override its config (tests)."""
    app = Flask(__name__)
    app.config.from_mapping(
        SECRET_KEY=os.environ.get("SECRET_KEY", "dev-only-secret"),  # set SECRET_KEY anywhere but on your machine
        SESSION_COOKIE_SAMESITE="Lax",  # another site's form posts without the session: no export on its behalf
        SQLALCHEMY_DATABASE_URI=config.database_url(),  # the ledger's tables go beside the app's (same database)
        RQLEDGER_DB_UPGRADE=True,                        # creates or updates the rqledger_* tables at start
        RQLEDGER_TASK_MODULES=f"{__name__}.tasks",
    )
    app.config.from_mapping(settings or {})
    db.init_app(app)
    rqledger_ext.init_app(app, url_prefix="/tasks")
    with app.app_context():
        db.create_all()
        seed()
    app.register_blueprint(bp)
    return app
