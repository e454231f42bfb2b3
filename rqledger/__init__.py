"""The task-author API: everything a task module needs, and nothing that imports rq.

    from rqledger import task, set_progress, Retry
"""

from application.progress import set_progress
from application.registry import task
from domain.retry import Retry

__all__ = ["task", "set_progress", "Retry"]
