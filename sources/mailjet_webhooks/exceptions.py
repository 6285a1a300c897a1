"""The errors of the webhook source; the CLI gives each its exit code."""

from __future__ import annotations


class WebhooksError(Exception):
    """A webhook setting, URL or spool that cannot be used."""


class WebhooksConfigError(WebhooksError):
    """A `[mailjet.webhooks]` setting, an event type or a callback URL that is missing or wrong: the
    message names it and the fix."""


class SpoolBusy(WebhooksError):
    """Another receiver holds the spool folder: one receiver per database."""


class DeliveryRefused(Exception):
    """A request the receiver answers with an error and records in `webhook_rejections`, never raised
    out of it: `status` to answer, `reason` and `detail` to record, `answer` to tell the sender."""

    def __init__(self, status: int, reason: str, detail: str, answer: str) -> None:
        super().__init__(f"{status} {reason}: {detail}")
        self.status, self.reason, self.detail, self.answer = status, reason, detail, answer
