"""Mailjet's Event API (webhooks) as a source: the receiver's settings, its durable spool, the HTTP
receiver, and the registration of callback URLs with Mailjet.

A delivery (one event object, Version 1, or an array of them, Version 2) is appended to a spool file on
disk and fsynced before the receiver answers 200: an event Mailjet was told we have is on disk. Sealed
spool files are read back as typed Arrow rows of `mailjet_api.events` and `webhook_rejections`
(`events.py`); loading them into the warehouse is the `webhooks serve` flow's (`pipelines/webhooks.py`)."""

from sources.mailjet_webhooks.config import WebhooksConfiguration, resolve_webhooks_config
from sources.mailjet_webhooks.exceptions import SpoolBusy, WebhooksConfigError, WebhooksError
from sources.mailjet_webhooks.receiver import Receiver
from sources.mailjet_webhooks.spool import Spool, read_spool

__all__ = [
    "Receiver",
    "Spool",
    "SpoolBusy",
    "WebhooksConfigError",
    "WebhooksConfiguration",
    "WebhooksError",
    "read_spool",
    "resolve_webhooks_config",
]
