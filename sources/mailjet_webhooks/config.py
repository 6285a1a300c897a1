"""`[mailjet.webhooks]`: the receiver's credentials and limits, resolved through dlt's providers."""

from __future__ import annotations

from dlt.common.configuration import configspec, resolve_configuration
from dlt.common.configuration.exceptions import (
    ConfigFieldMissingException,
    ConfigValueCannotBeCoercedException,
)
from dlt.common.configuration.specs import BaseConfiguration
from dlt.common.typing import TSecretStrValue

from sources.mailjet_webhooks.exceptions import WebhooksConfigError

SECTION = ("mailjet", "webhooks")


@configspec
class WebhooksConfiguration(BaseConfiguration):
    """`[mailjet.webhooks]`: the receiver's credentials (the ones embedded in the callback URL registered
    with Mailjet, `https://user:password@host/events`) and its limits."""

    username: TSecretStrValue = None  # type: ignore[assignment]  # required: dlt resolves it
    password: TSecretStrValue = None  # type: ignore[assignment]  # required: dlt resolves it
    max_body_bytes: int = 4_194_304
    """Bodies larger than this are refused (413)."""
    max_events: int = 20_000
    """Deliveries of more events (array items) than this are refused (413)."""
    flush_seconds: float = 2.0
    """How often received events are loaded into the database."""
    flush_events: int = 20_000
    """Load sooner once this many events wait."""

    def check(self) -> None:
        for name in ("max_body_bytes", "max_events", "flush_events"):
            if getattr(self, name) < 1:
                raise WebhooksConfigError(
                    f"[mailjet.webhooks] {name}={getattr(self, name)}: must be at least 1"
                )
        if not 0 < self.flush_seconds <= 3600:
            raise WebhooksConfigError(
                f"[mailjet.webhooks] flush_seconds={self.flush_seconds}: give a number of seconds, above 0 "
                "and at most 3600",
            )


def resolve_webhooks_config() -> WebhooksConfiguration:
    """`[mailjet.webhooks]` resolved and checked; WebhooksConfigError naming what is missing or wrong."""
    try:
        config = resolve_configuration(WebhooksConfiguration(), sections=SECTION)
    except ConfigFieldMissingException as exc:
        hints = " and ".join(f"MAILJET__WEBHOOKS__{name.upper()}" for name in exc.fields)
        raise WebhooksConfigError(
            f"missing webhook setting(s): {', '.join(exc.fields)}. The receiver only accepts deliveries "
            f"that carry these credentials: set {hints}, or put them under [mailjet.webhooks] in "
            ".dlt/secrets.toml, and register the callback URL with them (https://USER:PASSWORD@host/events)",
        ) from None
    except ConfigValueCannotBeCoercedException as exc:
        raise WebhooksConfigError(
            f"[mailjet.webhooks] {exc.field_name}: cannot use {exc.field_value!r}"
        ) from None
    config.check()
    return config
