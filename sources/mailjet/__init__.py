"""The Mailjet dlt source: one resource per Mailjet endpoint, loaded as typed Arrow pages into tables
named as in `schema.py` (the CLI loads them into the `mailjet_api` dataset).

Full-refresh resources (contacts, lists, memberships, properties, drafts, campaign stats) re-read the
whole listing on every run and replace their table with it, in one transaction: rows Mailjet no longer
has are gone with the old rows. A listing that cannot be trusted to be whole (read short of Mailjet's
count, or its pages shifted because rows were deleted while it was read) merges on its key instead, so
that run removes nothing. Event resources (messages, campaigns, opens, clicks, bounces, SMS) are
incremental on their timestamp through `dlt.sources.incremental`: the first run backfills the whole
history in time windows, later runs read from the cursor minus a lag (opens, clicks and bounces from a
trailing horizon before that: late events on older messages; messages from that horizon too, so that a
status that changed within it is updated), and merge on the key.

`contacts_listed` and `memberships_listed` (every contact and membership Mailjet has listed, never
deleted; emails as MD5) are made from the pages of `contacts` and `list_recipients`: they come along
with those."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial

import dlt
from dlt.common.configuration.specs import BaseConfiguration
from dlt.extract.resource import DltResource
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth

from sources.mailjet import schema, settings
from sources.mailjet.client import MailjetHttp
from sources.mailjet.config import MailjetConfiguration, resolve_mailjet_config
from sources.mailjet.paging import PageReader
from sources.mailjet.resources import (
    ListedCallback,
    ProgressCallback,
    contacts_listed,
    full_refresh,
    incremental,
    listed_resource,
    memberships_listed,
)

__all__ = [
    "DERIVED_RESOURCES",
    "FULL_REFRESH_RESOURCES",
    "INCREMENTAL_RESOURCES",
    "ListedCallback",
    "ProgressCallback",
    "mailjet_source",
]

# Resources that are made from another one's pages, with the one they need.
DERIVED_RESOURCES = {"contacts_listed": "contacts", "memberships_listed": "list_recipients"}

FULL_REFRESH_RESOURCES = (
    "contacts",
    "contact_lists",
    "list_recipients",
    "contact_properties",
    "contact_property_definitions",
    "campaign_drafts",
    "campaign_stats",
)
INCREMENTAL_RESOURCES = ("campaigns", "messages", "opens", "clicks", "bounces", "sms_messages")


# spec=BaseConfiguration: dlt injects no argument from `sources.mailjet.*`; the settings are `[mailjet]`,
# the one section the CLI reads too, resolved below when no configuration is passed.
@dlt.source(name="mailjet", max_table_nesting=0, spec=BaseConfiguration)
def mailjet_source(
    config: MailjetConfiguration | None = None,
    progress: ProgressCallback | None = None,
    listed: ListedCallback | None = None,
    http: MailjetHttp | None = None,
    extracted_at: datetime | None = None,
) -> list[DltResource]:
    """Mailjet contacts, lists, memberships, properties, campaigns, drafts, statistics, messages and
    engagement events (and SMS when `[mailjet] sms_token` is set).

    Args:
        config: the `[mailjet]` configuration (account, paging, rate limit, retries, timeouts); default:
            resolved through dlt's providers (`MAILJET__<NAME>` env vars, `.dlt/secrets.toml`,
            `.dlt/config.toml`), exactly as the CLI resolves it. Raises MailjetConfigError naming a
            missing or unusable setting.
        progress: called with (resource, rows fetched, rows expected) as work advances.
        listed: called with (resource, ReadOutcome) when a full-refresh resource has read its whole
            listing (rows read, rows Mailjet counted, whether its overlapping pages met); only such a
            resource may have rows Mailjet no longer has removed, and only when the read was whole.
        http: the client, already built from `config` (`MailjetHttp.from_config`), so the caller can read
            its request counters; default: built here.
        extracted_at: the run's time, stamped on every row as `_extracted_at` (default: now).
    """
    config = resolve_mailjet_config() if config is None else config
    config.check()
    http = http or MailjetHttp.from_config(config)
    reader = PageReader(http, config.page_size, config.concurrency)
    extracted_at = extracted_at or datetime.now(UTC)
    replaced = partial(full_refresh, reader, extracted_at=extracted_at, progress=progress, listed=listed)
    windowed = partial(
        incremental,
        extracted_at=extracted_at,
        progress=progress,
        lag_seconds=config.lag_seconds,
        window_rows=config.window_rows,
    )
    # The event logs are read again over the horizon: late events on older messages; the messages too,
    # kept this time: a status that changed since (opened, clicked, bounced) replaces the old one.
    horizon = int(config.event_horizon_days * 86400)

    contacts = replaced(schema.CONTACTS, "ID")
    memberships = replaced(schema.LIST_RECIPIENTS, "ID")
    resources = [
        contacts,
        listed_resource(schema.CONTACTS_LISTED, contacts, contacts_listed),
        memberships,
        listed_resource(schema.MEMBERSHIPS_LISTED, memberships, memberships_listed),
        replaced(schema.CONTACT_LISTS, "ID"),
        replaced(schema.CONTACT_PROPERTIES, "ID", transform=schema.property_rows),
        replaced(schema.CONTACT_PROPERTY_DEFINITIONS, "ID"),
        replaced(schema.CAMPAIGN_DRAFTS, "ID"),
        replaced(schema.CAMPAIGN_STATS, "SourceID", params=settings.CAMPAIGN_COUNTERS),
        windowed(reader, schema.CAMPAIGNS, "CreatedAt"),
        windowed(reader, schema.MESSAGES, "ArrivedAt", params=settings.MESSAGE_EXTRA_FIELDS, refresh=horizon),
        windowed(reader, schema.OPENS, "OpenedAt", horizon=horizon),
        windowed(reader, schema.CLICKS, "ClickedAt", horizon=horizon),
        windowed(reader, schema.BOUNCES, "BouncedAt", horizon=horizon),
    ]
    if config.sms_token:
        sms_reader = PageReader(
            http.with_auth(BearerTokenAuth(str(config.sms_token))),
            config.page_size,
            config.concurrency,
            reader.budget,  # one budget of pages for the whole run
        )
        sms = f"{settings.SMS_PREFIX}/sms"
        resources.append(windowed(sms_reader, schema.SMS_MESSAGES, None, path=sms, count_path=f"{sms}/count"))
    return resources
