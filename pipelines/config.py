"""The CLI's `[mailjet]` configuration: the source package's spec (`sources/mailjet/config.py`), resolved
once per command through dlt's providers."""

from __future__ import annotations

from sources.mailjet.config import MailjetConfiguration, resolve_mailjet_config
from sources.mailjet.exceptions import MailjetConfigError as ConfigError

__all__ = ["ConfigError", "MailjetConfiguration", "load_mailjet_config"]


def load_mailjet_config() -> MailjetConfiguration:
    """`[mailjet]`, resolved and checked; raises ConfigError naming a missing setting (its env var and toml
    key) or a value that cannot work."""
    return resolve_mailjet_config()
