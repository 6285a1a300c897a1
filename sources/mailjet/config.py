"""The `[mailjet]` configuration: one credentials spec and the settings every reader and writer of the
account shares, resolved through dlt's providers (`MAILJET__<NAME>` env vars, `.dlt/secrets.toml`,
`.dlt/config.toml`). The CLI, `mailjet_source()` in a plain dlt pipeline and the client read this one
section; nothing reads `os.environ` directly."""

from __future__ import annotations

import math
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit

from dlt.common.configuration import configspec, resolve_configuration
from dlt.common.configuration.exceptions import (
    ConfigFieldMissingException,
    ConfigValueCannotBeCoercedException,
)
from dlt.common.configuration.specs import CredentialsConfiguration
from dlt.common.typing import TSecretStrValue

from sources.mailjet import settings
from sources.mailjet.exceptions import MailjetConfigError

SECTION = "mailjet"
SECRET_FIELDS = frozenset({"api_key", "api_secret", "sms_token"})


@configspec
class MailjetCredentials(CredentialsConfiguration):
    """How to reach one Mailjet account: the API key pair, the API root and the SMS token."""

    # The fields sit directly under [mailjet] (MAILJET__API_KEY), not under [mailjet.credentials].
    __section__: ClassVar[str] = None  # type: ignore[assignment]

    api_key: TSecretStrValue = None  # type: ignore[assignment]  # required: dlt resolves it
    """API key (Account settings -> REST API -> API Key Management)."""
    api_secret: TSecretStrValue = None  # type: ignore[assignment]  # required: dlt resolves it
    """Secret key paired with the API key."""
    base_url: str = settings.DEFAULT_BASE_URL
    """API root; the sandbox's URL to work locally."""
    sms_token: TSecretStrValue | None = None
    """Bearer token of Mailjet's SMS API; `sms_messages` is extracted only when it is set."""

    def check(self) -> None:
        """Raise MailjetConfigError naming a setting whose value cannot work."""
        check_base_url(self.base_url)


@configspec
class MailjetConfiguration(MailjetCredentials):
    """`[mailjet]`: the account and how to talk to it and read it."""

    page_size: int = settings.PAGE_SIZE_MAX
    """Rows per page; 1000 is the API maximum."""
    concurrency: int = settings.DEFAULT_CONCURRENCY
    """Pages fetched in parallel; also sizes the client's connection pool."""
    requests_per_second: float = 0.0
    """Client-side rate limit over all requests, reads and writes; 0 = none (429s are still retried)."""
    lag_seconds: int = settings.DEFAULT_LAG_SECONDS
    """Incremental resources re-read this far behind their cursor, for events recorded late."""
    event_horizon_days: float = settings.DEFAULT_EVENT_HORIZON_DAYS
    """Opens, clicks and bounces are read again this many days back on every incremental run, so that
    late events on older messages arrive even if Mailjet filters its event logs on the message's send
    time (its documentation is ambiguous); 0 = only from the cursor (minus `lag_seconds`)."""
    window_rows: int = settings.DEFAULT_WINDOW_ROWS
    """History is read in time windows holding at most this many rows each."""
    max_attempts: int = settings.DEFAULT_MAX_ATTEMPTS
    """Attempts per request on 429, 5xx, timeouts and dropped connections."""
    backoff_seconds: float = settings.DEFAULT_BACKOFF_SECONDS
    """First retry delay; doubles on each attempt, with jitter."""
    timeout_seconds: float = settings.DEFAULT_TIMEOUT_SECONDS
    """How long one whole request (connect, headers and body) may take before it counts as failed
    (and is retried)."""
    job_poll_seconds: float = settings.JOB_FIRST_POLL_SECONDS
    """The wait before a bulk job's status is first read; each later wait doubles (with jitter), up to
    30 s."""

    def check(self) -> None:
        """Raise MailjetConfigError naming a setting whose value cannot work."""
        super().check()
        for name in ("timeout_seconds", "requests_per_second", "backoff_seconds", "job_poll_seconds"):
            if not math.isfinite(getattr(self, name)):
                raise MailjetConfigError(
                    f"[mailjet] {name}={getattr(self, name)}: must be a finite number; set "
                    f"MAILJET__{name.upper()} or {name} under [mailjet] in .dlt/config.toml"
                )
        if not 1 <= self.page_size <= settings.PAGE_SIZE_MAX:
            raise MailjetConfigError(
                f"[mailjet] page_size={self.page_size}: must be 1..{settings.PAGE_SIZE_MAX}"
            )
        for name in ("concurrency", "max_attempts", "window_rows"):
            if getattr(self, name) < 1:
                raise MailjetConfigError(f"[mailjet] {name}={getattr(self, name)}: must be at least 1")
        if not 0 < self.timeout_seconds <= settings.MAX_TIMEOUT_SECONDS:
            raise MailjetConfigError(
                f"[mailjet] timeout_seconds={self.timeout_seconds}: must be positive and at most "
                f"{settings.MAX_TIMEOUT_SECONDS:g}"
            )
        if not 0 < self.job_poll_seconds <= settings.JOB_MAX_POLL_SECONDS:
            raise MailjetConfigError(
                f"[mailjet] job_poll_seconds={self.job_poll_seconds}: must be positive and at most "
                f"{settings.JOB_MAX_POLL_SECONDS:g}"
            )
        if not (math.isfinite(self.event_horizon_days) and 0 <= self.event_horizon_days <= 3660):
            raise MailjetConfigError(
                f"[mailjet] event_horizon_days={self.event_horizon_days}: must be 0..3660 (0 = off)"
            )
        for name in ("requests_per_second", "lag_seconds", "backoff_seconds"):
            if getattr(self, name) < 0:
                raise MailjetConfigError(f"[mailjet] {name}={getattr(self, name)}: must not be negative")


def check_base_url(url: str) -> None:
    """Raise MailjetConfigError unless `url` is an http(s) URL with a host."""
    try:
        parts = urlsplit(url)
        usable = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # a port that is not a number, an unclosed [IPv6 address
        usable = False
    if not usable or any(c.isspace() for c in url):
        raise MailjetConfigError(
            f"[mailjet] base_url={url!r} is not an http(s) URL. Set MAILJET__BASE_URL (or base_url under "
            f"[mailjet] in .dlt/config.toml) to Mailjet's API root, {settings.DEFAULT_BASE_URL}, or to "
            "a sandbox's URL such as http://127.0.0.1:8765"
        )


def resolve_mailjet_config() -> MailjetConfiguration:
    """`[mailjet]` resolved through dlt's providers and checked. Raises MailjetConfigError naming a
    missing setting (with its env var and toml key) or a value that cannot work."""
    try:
        config = resolve_configuration(MailjetConfiguration(), sections=(SECTION,))
    except ConfigValueCannotBeCoercedException as exc:
        shown = "the given value" if exc.field_name in SECRET_FIELDS else repr(exc.field_value)
        kind = getattr(exc.hint, "__name__", str(exc.hint))
        raise MailjetConfigError(f"[mailjet] {exc.field_name}: cannot use {shown} as {kind}") from None
    except ConfigFieldMissingException as exc:
        missing = ", ".join(exc.fields)
        hints = " and ".join(f"MAILJET__{name.upper()}" for name in exc.fields)
        raise MailjetConfigError(
            f"missing Mailjet setting(s): {missing}. Set {hints} in the environment, or put them under "
            f"[mailjet] in .dlt/secrets.toml{_example()}; settings files are read from the folder the "
            f"command runs in ({Path.cwd() / '.dlt'})."
        ) from None
    config.check()
    return config


def _example() -> str:
    """Where the shipped example of the secrets file is, when it ships beside the package."""
    example = Path(__file__).resolve().parents[2] / ".dlt" / "example.secrets.toml"
    return f" (see {example})" if example.is_file() else ""
