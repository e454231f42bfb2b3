"""GET <prefix>/openapi.json: the OpenAPI description, from apiflask, for whichever app serves the blueprint.

apiflask builds the description from an APIFlask app's routes. `rqledger web` is one and answers from its own
spec. A host app (the Flask extension) is usually a plain Flask app: the description is built once from a
private APIFlask app holding the same blueprint at the root, with the prefix as its `servers` entry.
"""

from __future__ import annotations

import copy
import warnings

from apiflask import APIFlask

from rqledger.entrypoints.web.context import KEY

SPEC_APP_KEY = "rqledger.spec_app"
PREFIX_KEY = "rqledger.url_prefix"
TITLE, VERSION = "rqledger", "1"
DESCRIPTION = "Background tasks on RQ with a durable SQL ledger of every task and scheduled run."


def describe(app: APIFlask, container) -> APIFlask:
    """Sets the title, version, description and spec processor of an APIFlask app serving the blueprint."""
    from rqledger.entrypoints.web.records import ErrorOut
    from rqledger.entrypoints.web.openapi import complete_spec

    app.config.update(HTTP_ERROR_SCHEMA=ErrorOut, VALIDATION_ERROR_SCHEMA=ErrorOut, SYNC_LOCAL_SPEC=False,
                      INFO={"description": DESCRIPTION})
    app.spec_processor(lambda spec: complete_spec(spec, container))
    return app


def spec_for(app) -> dict:
    with warnings.catch_warnings():  # apispec's note on a schema registered twice: complete_spec merges them
        warnings.filterwarnings("ignore", message=".* has already been added to the spec", category=UserWarning)
        return _spec_for(app)


def _spec_for(app) -> dict:
    if isinstance(app, APIFlask) and app.extensions.get(SPEC_APP_KEY) is app:
        return app.spec
    shadow = app.extensions.get(SPEC_APP_KEY)
    if shadow is None:
        from rqledger.entrypoints.web.app import install_converters
        from rqledger.entrypoints.web.blueprint import build_blueprint

        shadow = describe(APIFlask(__name__, title=TITLE, version=VERSION, spec_path=None, docs_path=None,
                                   static_folder=None), app.extensions[KEY])
        shadow.extensions[KEY] = app.extensions[KEY]
        install_converters(shadow)
        shadow.register_blueprint(build_blueprint())
        app.extensions[SPEC_APP_KEY] = shadow
    spec = copy.deepcopy(shadow.spec)
    prefix = app.extensions.get(PREFIX_KEY) or ""
    if prefix:
        spec["servers"] = [{"url": prefix}]
    return spec
