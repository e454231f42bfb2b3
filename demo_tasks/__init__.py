"""The built-in demo tasks, registered by default (RQLEDGER_TASK_MODULES overrides).

Importing this package registers every one of them.
"""

from demo_tasks.count_words import count_words
from demo_tasks.create_image_set import create_image_set
from demo_tasks.example import example
from demo_tasks.fetch_rss import fetch_rss
from demo_tasks.send_mail import send_mail

__all__ = ["count_words", "create_image_set", "example", "fetch_rss", "send_mail"]
