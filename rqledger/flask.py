"""The Flask extension: `from rqledger.flask import RQLedger` (see rqledger.entrypoints.flask_ext)."""

from rqledger.entrypoints.flask_ext import RQLedger, progress_script, settings_from

__all__ = ["RQLedger", "progress_script", "settings_from"]
