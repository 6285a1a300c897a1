"""The `[sync]` settings, resolved through dlt's providers (`SYNC__<NAME>` env vars, `.dlt/config.toml`)."""

from __future__ import annotations

import math

from dlt.common.configuration import configspec, resolve_configuration
from dlt.common.configuration.exceptions import ConfigValueCannotBeCoercedException
from dlt.common.configuration.specs import BaseConfiguration

from pipelines.errors import EXIT_USAGE, CommandError

SECTION = "sync"
MAX_BATCH_SIZE = 10_000  # larger bodies risk a reset connection (mailjet-api.md §5); 5,000 is the default


@configspec
class SyncConfiguration(BaseConfiguration):
    """`[sync]`: the guards of the plan and of its apply."""

    max_removal_pct: float = 10.0
    """Removals plus unsubscribes above this share of a list's subscribed members stop `apply` (exit 3)
    unless it is given --force: the planned ones together with those applied to the list within the last
    `removal_window_days`, against the members the list had before them."""
    removal_window_days: float = 7.0
    """The window of `max_removal_pct`, in days: removals applied within it count with the planned ones
    (0: only the run's own)."""
    max_update_pct: float = 50.0
    """Property updates above this share of a list's subscribed members stop `apply` (exit 3) unless it is
    given --force."""
    max_rejected_pct: float = 5.0
    """An audience with more of its rows failing the data tests than this share removes nobody from its
    list (and unsubscribes nobody on leaving) until they are fixed."""
    max_data_age_hours: float = 24.0
    """A plan read from Mailjet data extracted longer ago than this is stale: `apply` refuses it."""
    batch_size: int = 5000
    """Contacts per bulk job of `apply` (one `managemanycontacts` request each); 1 to 10,000."""
    read_back_seconds: float = 60.0
    """How long `apply` reads again, with backoff, the changes of a completed job the list does not show
    yet (Mailjet's listings may lag behind its jobs) before it reports them as not made (0: read once)."""

    def check(self) -> None:
        for name in (
            "max_removal_pct",
            "removal_window_days",
            "max_update_pct",
            "max_rejected_pct",
            "max_data_age_hours",
            "read_back_seconds",
        ):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise CommandError(
                    f"[sync] {name}={value}: give a number, 0 or more (SYNC__{name.upper()} or {name} under "
                    "[sync] in .dlt/config.toml)",
                    EXIT_USAGE,
                )
        if not 1 <= self.batch_size <= MAX_BATCH_SIZE:
            raise CommandError(
                f"[sync] batch_size={self.batch_size}: give a whole number from 1 to {MAX_BATCH_SIZE:,} "
                "(contacts per bulk job; SYNC__BATCH_SIZE or batch_size under [sync] in .dlt/config.toml)",
                EXIT_USAGE,
            )


def resolve_sync_config() -> SyncConfiguration:
    """`[sync]` resolved and checked; raises CommandError (exit 2) naming a value that cannot work."""
    try:
        config = resolve_configuration(SyncConfiguration(), sections=(SECTION,))
    except ConfigValueCannotBeCoercedException as exc:
        raise CommandError(
            f"[sync] {exc.field_name}: cannot use {exc.field_value!r} as a number", EXIT_USAGE
        ) from None
    config.check()
    return config
