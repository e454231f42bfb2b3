"""The built-in demo tasks: `rqledger dev` runs them unless told otherwise; elsewhere, name this module in
RQLEDGER_TASK_MODULES. They need the `demo` extra: pip install 'rqledger[demo]'.

Importing this package registers every one of them.
"""

from rqledger.demo.count_words import count_words
from rqledger.demo.create_image_set import create_image_set
from rqledger.demo.example import example
from rqledger.demo.fetch_rss import fetch_rss
from rqledger.demo.send_mail import send_mail

__all__ = ["count_words", "create_image_set", "example", "fetch_rss", "send_mail"]
