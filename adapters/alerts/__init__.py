"""Where alerts go: webhooks over HTTP (the AlertSender port), and a recording sender for tests."""

from rqledger.adapters.alerts.webhook import RecordingSender, WebhookSender, check_targets

__all__ = ["WebhookSender", "RecordingSender", "check_targets"]
