"""The `[mailjet]` configuration, resolved through dlt's providers (env vars, .dlt/*.toml)."""

from __future__ import annotations

from dlt.common.configuration import configspec, resolve_configuration
from dlt.common.configuration.exceptions import ConfigFieldMissingException
from dlt.common.configuration.specs import BaseConfiguration
from dlt.common.typing import TSecretStrValue

from sources.mailjet import settings


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


def load_mailjet_config() -> MailjetConfiguration:
    """Resolve `[mailjet]`; a missing key raises ConfigError naming the env var and the toml key."""
    try:
        return resolve_configuration(MailjetConfiguration(), sections=("mailjet",))
    except ConfigFieldMissingException as exc:
        missing = ", ".join(exc.fields)
        hints = " and ".join(f"MAILJET__{name.upper()}" for name in exc.fields)
        raise ConfigError(
            f"missing Mailjet setting(s): {missing}. Set {hints} in the environment, or put them under "
            "[mailjet] in .dlt/secrets.toml (see .dlt/example.secrets.toml)."
        ) from None
