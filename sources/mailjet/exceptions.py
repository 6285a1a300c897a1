"""Errors talking to Mailjet (or configuring how to), classified terminal or transient. Messages never carry
credentials."""

from __future__ import annotations


class MailjetError(Exception):
    """Any failure talking to Mailjet."""

    transient = False

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class MailjetAuthError(MailjetError):
    """401/403: wrong, inactive or under-privileged API key. Fix the credentials; retrying won't help."""


class MailjetNotFound(MailjetError):
    """404: the addressed object does not exist."""


class MailjetBadRequest(MailjetError):
    """400: Mailjet refused the request's content."""


class MailjetRateLimited(MailjetError):
    """429: too many requests; wait and retry."""

    transient = True


class MailjetServerError(MailjetError):
    """5xx, timeouts, dropped connections: retry later."""

    transient = True


class MailjetHostUnknown(MailjetError):
    """`base_url`'s host name does not resolve: a typo in the URL, or no network. Retrying won't help."""


class MailjetUnreachable(MailjetError):
    """Nothing listens at `base_url`'s host and port (the connection refused) before anything ever answered:
    a wrong URL or port, or a server not started. Retrying won't help; once an answer came, a refusal is
    a blip and retried."""


def unreachable(exc: MailjetError) -> bool:
    """Whether an error says Mailjet could not be reached (now, or at all at that address)."""
    return exc.transient or isinstance(exc, MailjetUnreachable)


class MailjetUnexpectedAnswer(MailjetError):
    """A success whose body is not in Mailjet's shape: `base_url` is not Mailjet's API (or the API
    changed). Retrying won't help."""


class MailjetJobFailed(MailjetError):
    """An async job ended in Error or Abort."""


class MailjetJobTimeout(MailjetError):
    """An async job still running when its polling deadline passed. Mailjet may still finish it."""

    transient = True


class MailjetConfigError(MailjetError):
    """`[mailjet]` configuration that cannot work; the message names the setting and how to set it."""
