"""The `[mailjet]` configuration, resolved through dlt's providers (env vars, .dlt/*.toml)."""

from __future__ import annotations

import math
from urllib.parse import urlsplit

from dlt.common.configuration import configspec, resolve_configuration
from dlt.common.configuration.exceptions import (
    ConfigFieldMissingException,
    ConfigValueCannotBeCoercedException,
)
from dlt.common.configuration.specs import BaseConfiguration
from dlt.common.typing import TSecretStrValue

from sources.mailjet import settings

SECRET_FIELDS = frozenset({"api_key", "api_secret", "sms_token"})


class ConfigError(Exception):
    """Configuration that cannot work; the message names the key and how to set it."""


@configspec
class MailjetConfiguration(BaseConfiguration):
    """How to reach a Mailjet account."""

    api_key: TSecretStrValue = None  # type: ignore[assignment]  # required: dlt resolves it
    """API key (Account settings -> REST API -> API Key Management)."""
    api_secret: TSecretStrValue = None  # type: ignore[assignment]  # required: dlt resolves it
    """Secret key paired with the API key."""
    base_url: str = settings.DEFAULT_BASE_URL
    """API root; the sandbox's URL to work locally."""
    sms_token: TSecretStrValue | None = None
    """Bearer token of Mailjet's SMS API; `sms_messages` is extracted only when it is set."""
    page_size: int = settings.PAGE_SIZE_MAX
    """Rows per page; 1000 is the API maximum."""
    concurrency: int = settings.DEFAULT_CONCURRENCY
    """Pages fetched in parallel."""
    requests_per_second: float = 0.0
    """Client-side rate limit over all requests; 0 = none (429s are still retried with backoff)."""
    lag_seconds: int = settings.DEFAULT_LAG_SECONDS
    """Incremental resources re-read this far behind their cursor, for events recorded late."""
    window_rows: int = settings.DEFAULT_WINDOW_ROWS
    """History is read in time windows holding at most this many rows each."""
    max_attempts: int = settings.DEFAULT_MAX_ATTEMPTS
    """Attempts per request on 429, 5xx, timeouts and dropped connections."""
    backoff_seconds: float = settings.DEFAULT_BACKOFF_SECONDS
    """First retry delay; doubles on each attempt, with jitter."""
    timeout_seconds: float = settings.DEFAULT_TIMEOUT_SECONDS
    """How long one whole request (connect, headers and body) may take before it counts as failed
    (and is retried)."""

    def check(self) -> None:
        """Raise ConfigError naming a setting whose value cannot work."""
        check_base_url(self.base_url)
        for name in ("timeout_seconds", "requests_per_second", "backoff_seconds"):
            if not math.isfinite(getattr(self, name)):
                raise ConfigError(
                    f"[mailjet] {name}={getattr(self, name)}: must be a finite number; set "
                    f"MAILJET__{name.upper()} or {name} under [mailjet] in .dlt/config.toml"
                )
        if not 1 <= self.page_size <= settings.PAGE_SIZE_MAX:
            raise ConfigError(f"[mailjet] page_size={self.page_size}: must be 1..{settings.PAGE_SIZE_MAX}")
        for name in ("concurrency", "max_attempts", "window_rows"):
            if getattr(self, name) < 1:
                raise ConfigError(f"[mailjet] {name}={getattr(self, name)}: must be at least 1")
        if not 0 < self.timeout_seconds <= settings.MAX_TIMEOUT_SECONDS:
            raise ConfigError(
                f"[mailjet] timeout_seconds={self.timeout_seconds}: must be positive and at most "
                f"{settings.MAX_TIMEOUT_SECONDS:g}"
            )
        for name in ("requests_per_second", "lag_seconds", "backoff_seconds"):
            if getattr(self, name) < 0:
                raise ConfigError(f"[mailjet] {name}={getattr(self, name)}: must not be negative")


def check_base_url(url: str) -> None:
    """Raise ConfigError unless `url` is an http(s) URL with a host."""
    try:
        parts = urlsplit(url)
        usable = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # a port that is not a number, an unclosed [IPv6 address
        usable = False
    if not usable or any(c.isspace() for c in url):
        raise ConfigError(
            f"[mailjet] base_url={url!r} is not an http(s) URL. Set MAILJET__BASE_URL (or base_url under "
            f"[mailjet] in .dlt/config.toml) to Mailjet's API root, {settings.DEFAULT_BASE_URL}, or to "
            "a sandbox's URL such as http://127.0.0.1:8765"
        )


def load_mailjet_config() -> MailjetConfiguration:
    """Resolve `[mailjet]`; a missing key raises ConfigError naming the env var and the toml key."""
    try:
        config = resolve_configuration(MailjetConfiguration(), sections=("mailjet",))
    except ConfigValueCannotBeCoercedException as exc:
        shown = "the given value" if exc.field_name in SECRET_FIELDS else repr(exc.field_value)
        kind = getattr(exc.hint, "__name__", str(exc.hint))
        raise ConfigError(f"[mailjet] {exc.field_name}: cannot use {shown} as {kind}") from None
    except ConfigFieldMissingException as exc:
        missing = ", ".join(exc.fields)
        hints = " and ".join(f"MAILJET__{name.upper()}" for name in exc.fields)
        raise ConfigError(
            f"missing Mailjet setting(s): {missing}. Set {hints} in the environment, or put them under "
            "[mailjet] in .dlt/secrets.toml (see .dlt/example.secrets.toml)."
        ) from None
    config.check()
    return config
