"""The errors of the webhook source; the CLI gives each its exit code."""

from __future__ import annotations


class WebhooksError(Exception):
    """A webhook setting, URL or spool that cannot be used."""


class WebhooksConfigError(WebhooksError):
    """A `[mailjet.webhooks]` setting, an event type or a callback URL that is missing or wrong: the
    message names it and the fix."""


class SpoolBusy(WebhooksError):
    """Another receiver holds the spool folder: one receiver per database."""
