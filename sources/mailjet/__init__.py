"""The Mailjet dlt source: one resource per Mailjet endpoint, loaded as typed Arrow pages into tables
named as in `schema.py` (the CLI loads them into the `mailjet_api` dataset).

Full-refresh resources (contacts, lists, memberships, properties, drafts, campaign stats) re-read the
whole listing on every run and replace their table with it, in one transaction: rows Mailjet no longer
has are gone with the old rows. A listing that cannot be trusted to be whole (read short of Mailjet's
count, or its pages shifted because rows were deleted while it was read) merges on its key instead, so
that run removes nothing. Event resources (messages, campaigns, opens, clicks, bounces, SMS) are
incremental on their timestamp through `dlt.sources.incremental`: the first run backfills the whole
history in time windows, later runs read from the cursor minus a lag (opens, clicks and bounces from a
trailing horizon before that: late events on older messages), and merge on the key.

`contacts_listed` and `memberships_listed` (every contact and membership Mailjet has listed, never
deleted; emails as MD5) are made from the pages of `contacts` and `list_recipients`: they come along
with those."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import dlt
import pyarrow as pa
from dlt.common.configuration.specs import BaseConfiguration
from dlt.extract.resource import DltResource
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth

from sources.mailjet import schema, settings
from sources.mailjet.client import MailjetHttp
from sources.mailjet.config import MailjetConfiguration, resolve_mailjet_config
from sources.mailjet.paging import Listing, PageReader, ReadOutcome, split_windows, start_of_history

log = logging.getLogger(__name__)
# (resource name, rows fetched, rows expected): the CLI's progress lines.
ProgressCallback = Callable[[str, int, int], None]
# (resource name, how the read went): a full-refresh listing was read to its end.
ListedCallback = Callable[[str, ReadOutcome], None]
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
    page_size, concurrency = config.page_size, config.concurrency
    lag_seconds, window_rows = config.lag_seconds, config.window_rows
    horizon_seconds = int(config.event_horizon_days * 86400)
    sms_token = str(config.sms_token) if config.sms_token else None
    http = http or MailjetHttp.from_config(config)
    reader = PageReader(http, page_size, concurrency)
    extracted_at = extracted_at or datetime.now(UTC)

    def tell(name: str, done: int, expected: int) -> None:
        if progress is not None:
            progress(name, done, expected)

    def full_refresh(
        table: schema.Table,
        path: str,
        sort: str,
        params: Mapping[str, Any] | None = None,
        transform: schema.Transform | None = None,
    ) -> DltResource:
        """A resource that reads the whole listing and replaces the table with it; when the listing was
        not read whole, it merges on the table's key instead (nothing is removed that run)."""
        query = {**(params or {}), "Sort": sort}

        def rows() -> Iterator[Any]:
            total = reader.count(path, query)
            log.info("%s: %s rows counted at %s; reading the whole listing", table.name, f"{total:,}", path)
            tell(table.name, 0, total)
            outcomes: list[ReadOutcome] = []
            yield from reader.read(
                [Listing(path, query, total, overlap=True)],
                lambda page: table.to_arrow(transform(page) if transform else page, extracted_at),
                lambda n: tell(table.name, n, 0),
                outcomes.append,
            )
            outcome = outcomes[0]
            if not outcome.whole:
                # dlt takes the table's hints as they stand at the end of the run's data: merge it.
                yield dlt.mark.with_hints([], dlt.mark.make_hints(write_disposition="merge"))
            if listed is not None:
                listed(table.name, outcome)

        return table.resource(rows, "replace")

    def incremental(
        table: schema.Table,
        path: str,
        sort: str | None,
        params: Mapping[str, Any] | None = None,
        reader_for: PageReader = reader,
        count_path: str | None = None,
        horizon: int = 0,
    ) -> DltResource:
        """A resource read in time windows from its cursor (minus the lag) to now, merged on its key.
        Without a cursor it backfills the whole history: as one window when it fits in one, else from
        the oldest row, found with one sorted call (or from the start of time when the endpoint cannot
        sort). Windows are halved until each holds at most `window_rows` rows, so offsets stay shallow
        and every window's pages can be read in parallel.
        With a `horizon` (seconds), a run with a cursor starts that much earlier: rows older than the
        cursor are read and passed over (dlt's incremental keeps only those from the cursor on), but an
        event Mailjet lists under its message's send time arrives."""
        assert table.cursor is not None
        base = {**(params or {}), **({"Sort": sort} if sort else {})}

        def rows(
            # dlt binds the cursor through this default; it is dlt's documented incremental pattern.
            cursor: dlt.sources.incremental[datetime] = dlt.sources.incremental(  # noqa: B008
                table.cursor, lag=lag_seconds, range_start="closed"
            ),
        ) -> Iterator[pa.Table]:
            end = int(datetime.now(UTC).timestamp())

            def count(spans: list[tuple[int, int]]) -> list[int]:
                return reader_for.counts(path, [{**base, **edges(lo, hi)} for lo, hi in spans], count_path)

            if cursor.start_value is not None:
                start = max(1, int(cursor.start_value.timestamp()) - horizon)
                windows = split_windows(count, start, end, window_rows)
            else:
                # A first run: one count of all history. A history that fits in one window is read as
                # it is (its listing costs that count and its pages); a larger one starts its windows
                # at the oldest row, rather than halving its way there from 1970.
                whole = count([(1, end)])[0]
                if whole <= window_rows:
                    windows = [(1, end, whole)] if whole else []
                else:
                    oldest = start_of_history(reader_for, path, base, table, end)
                    windows = [] if oldest is None else split_windows(count, oldest, end, window_rows)
            counted = sum(rows for _, _, rows in windows)
            since = "all history" if cursor.start_value is None else "the cursor, minus the lag"
            if cursor.start_value is not None and horizon:
                since += f" and {horizon / 86400:g} days (event_horizon_days)"
            log.info(
                "%s: %s rows at %s, from %s, in %d window(s)",
                table.name,
                f"{counted:,}",
                path,
                since,
                len(windows),
            )
            tell(table.name, 0, counted)
            yield from reader_for.read(
                [Listing(path, {**base, **edges(lo, hi)}, rows) for lo, hi, rows in windows],
                lambda page: table.to_arrow(page, extracted_at),
                lambda n: tell(table.name, n, 0),
            )

        return table.resource(rows)

    def edges(lo: int, hi: int) -> dict[str, int]:
        """The filters of the window [lo, hi] (seconds, both ends included), one second wider on each side:
        the reference says "after FromTS" and "before ToTS", and a widely used reader takes FromTS as
        exclusive, so the window holds [lo, hi] whichever way Mailjet reads its edges. Read inclusively,
        neighbouring windows share a second or two: the merge on the table's key keeps one row. Costs no
        request. (FromTS=0 would mean "today": the lowest is 1, all history.)"""
        return {"FromTS": max(1, lo - 1), "ToTS": hi + 1}

    def path(table: schema.Table) -> str:
        return f"{settings.REST_PREFIX}/{settings.ENDPOINTS[table.name]}"

    contacts = full_refresh(schema.CONTACTS, path(schema.CONTACTS), "ID")
    memberships = full_refresh(schema.LIST_RECIPIENTS, path(schema.LIST_RECIPIENTS), "ID")

    def contacts_listed(page: Any) -> Iterator[pa.Table]:
        if isinstance(page, pa.Table):  # not the end-of-listing hint
            emails = page.column("email").to_pylist()
            hashed = pa.array([schema.email_md5(e) if e else None for e in emails], pa.string())
            stamp = schema.EXTRACTED_AT_COLUMN
            table = pa.table({"id": page.column("id"), "email_md5": hashed, stamp: page.column(stamp)})
            yield table.drop_null().cast(schema.CONTACTS_LISTED.arrow_schema())

    def memberships_listed(page: Any) -> Iterator[pa.Table]:
        if isinstance(page, pa.Table):
            target = schema.MEMBERSHIPS_LISTED.arrow_schema()
            yield page.select(target.names).drop_null().cast(target)

    def listed_resource(table: schema.Table, parent: DltResource, make: Callable[[Any], Any]) -> DltResource:
        return dlt.transformer(
            make,
            data_from=parent,
            name=table.name,
            primary_key=list(table.primary_key),
            write_disposition="merge",
            columns=table.column_hints(),
        )

    resources = [
        contacts,
        listed_resource(schema.CONTACTS_LISTED, contacts, contacts_listed),
        memberships,
        listed_resource(schema.MEMBERSHIPS_LISTED, memberships, memberships_listed),
        full_refresh(schema.CONTACT_LISTS, path(schema.CONTACT_LISTS), "ID"),
        full_refresh(
            schema.CONTACT_PROPERTIES, path(schema.CONTACT_PROPERTIES), "ID", transform=schema.property_rows
        ),
        full_refresh(schema.CONTACT_PROPERTY_DEFINITIONS, path(schema.CONTACT_PROPERTY_DEFINITIONS), "ID"),
        full_refresh(schema.CAMPAIGN_DRAFTS, path(schema.CAMPAIGN_DRAFTS), "ID"),
        full_refresh(
            schema.CAMPAIGN_STATS, path(schema.CAMPAIGN_STATS), "SourceID", settings.CAMPAIGN_COUNTERS
        ),
        incremental(schema.CAMPAIGNS, path(schema.CAMPAIGNS), "CreatedAt"),
        incremental(schema.MESSAGES, path(schema.MESSAGES), "ArrivedAt", settings.MESSAGE_EXTRA_FIELDS),
        # The event logs are read again over the horizon: late events on older messages.
        incremental(schema.OPENS, path(schema.OPENS), "OpenedAt", horizon=horizon_seconds),
        incremental(schema.CLICKS, path(schema.CLICKS), "ClickedAt", horizon=horizon_seconds),
        incremental(schema.BOUNCES, path(schema.BOUNCES), "BouncedAt", horizon=horizon_seconds),
    ]
    if sms_token:
        sms_reader = PageReader(http.with_auth(BearerTokenAuth(sms_token)), page_size, concurrency)
        sms = f"{settings.SMS_PREFIX}/sms"
        resources.append(
            incremental(schema.SMS_MESSAGES, sms, None, reader_for=sms_reader, count_path=f"{sms}/count")
        )
    return resources
