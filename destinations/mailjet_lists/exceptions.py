"""The destination's own errors, beside the client's `MailjetError` hierarchy: a list apply cannot use."""

from __future__ import annotations


class MailjetListsError(Exception):
    """A list the destination cannot send to; the message names the list and the fix."""


class ListNotFound(MailjetListsError):
    """A list named by an ID Mailjet does not have: it is never created (a name is)."""


class ListNotEmpty(MailjetListsError):
    """A list to create exists in Mailjet already, with members the sync did not add."""
