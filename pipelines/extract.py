"""`mailjet-elt extract`: Mailjet -> the `mailjet` dataset, incremental where the API allows."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from dlt.destinations.exceptions import (
    DatabaseUndefinedRelation,
)
from dlt.pipeline.exceptions import PipelineStepFailed
from dlt.pipeline.helpers import pipeline_drop
from dlt.pipeline.pipeline import Pipeline

from pipelines.config import ConfigError, MailjetConfiguration, load_mailjet_config
from pipelines.errors import EXIT_FAILURE, EXIT_USAGE, CommandError
from pipelines.identity import merge_identities
from pipelines.interrupts import InterruptHandler, reraise_if_interrupted
from pipelines.logs import console
from pipelines.progress import ExtractProgress
from pipelines.settings import DEFAULT_LOCK_WAIT_SECONDS
from pipelines.warehouse import (
    DATASET,
    ResumeFailed,
    WarehouseBusy,
    WarehouseError,
    raise_if_busy,
    writing,
)
from sources.mailjet import FULL_REFRESH_RESOURCES, INCREMENTAL_RESOURCES, mailjet_source
from sources.mailjet.client import MailjetHttp
from sources.mailjet.exceptions import MailjetAuthError, MailjetError
from sources.mailjet.paging import ReadOutcome
from sources.mailjet.schema import EXTRACTED_AT_COLUMN, SOURCE_COLUMN

ALL_RESOURCES = (*FULL_REFRESH_RESOURCES, *INCREMENTAL_RESOURCES)


@dataclass(frozen=True)
class TableCount:
    """Rows one table received from this run, and rows removed because Mailjet no longer has them."""

    name: str
    rows: int
    removed: int = 0


@dataclass(frozen=True)
class ExtractResult:
    """What an extract did."""

    tables: list[TableCount]
    requests: int
    retries: dict[str, int]
    seconds: float
    database: str | None  # the DuckDB file, when the destination is DuckDB
    notes: list[str] = field(default_factory=list)
    resumed: list[str] = field(default_factory=list)
    merged_contacts: int = 0  # contacts first seen in a CSV file, now one with Mailjet's (same email)
    merged_lists: int = 0
    orphans_removed: int = 0  # imported rows of contacts Mailjet deleted

    @property
    def rows(self) -> int:
        """Rows extracted, all tables together."""
        return sum(t.rows for t in self.tables)


def choose_resources(spec: str | None, config: MailjetConfiguration) -> list[str]:
    """The resources `--resources a,b` names (all by default; sms_messages only with an SMS token)."""
    available = [r for r in ALL_RESOURCES if r != "sms_messages" or config.sms_token]
    if spec is None:
        return available
    wanted = [name.strip() for name in spec.split(",") if name.strip()]
    if not wanted:
        raise CommandError(
            f"--resources {spec!r} names no resource; choose from {', '.join(ALL_RESOURCES)}", EXIT_USAGE
        )
    unknown = [name for name in wanted if name not in ALL_RESOURCES]
    if unknown:
        raise CommandError(
            f"unknown resource(s) {', '.join(unknown)}; choose from {', '.join(ALL_RESOURCES)}", EXIT_USAGE
        )
    if "sms_messages" in wanted and not config.sms_token:
        raise CommandError(
            "sms_messages needs Mailjet's SMS API token: set MAILJET__SMS_TOKEN or sms_token under "
            "[mailjet] in .dlt/secrets.toml",
            EXIT_USAGE,
        )
    return list(dict.fromkeys(wanted))


def _mailjet_cause(exc: BaseException) -> BaseException | None:
    """The MailjetError (or conversion error) at the root of a dlt step failure, if any."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, MailjetError | ValueError) and not isinstance(seen, PipelineStepFailed):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


class RemovalRefused(Exception):
    """Removing rows would contradict Mailjet's own count of them."""


def remove_deleted(
    pipeline: Pipeline, listed: dict[str, ReadOutcome], extracted_at: datetime
) -> tuple[dict[str, int], list[str]]:
    """Delete the API rows Mailjet no longer has, from the full-refresh tables whose whole listing this
    run read (`listed`) and loaded: every row it saw carries its `extracted_at`, to the microsecond, so
    the others are gone from Mailjet. Rows of other provenance (CSV imports) are left alone. A listing
    read short, or whose pages shifted (rows deleted in Mailjet while it was read), removes nothing
    this run. Raises RemovalRefused, before deleting anything, when a table would keep fewer rows than
    Mailjet counted. Returns the rows removed per table, and notes for the user."""
    removed: dict[str, int] = {}
    notes: list[str] = []
    plans: list[tuple[str, str, int]] = []
    with pipeline.sql_client() as client:
        for table in FULL_REFRESH_RESOURCES:
            if table not in listed:
                continue
            read, counted = listed[table].read, listed[table].counted
            if read < counted:
                notes.append(
                    f"{table}: read {read:,} of the {counted:,} rows Mailjet counted (rows deleted while the "
                    "listing was read); rows Mailjet no longer has are removed on the next run"
                )
                continue
            if not listed[table].pages_met:
                notes.append(
                    f"{table}: Mailjet's listing shifted while it was read (rows deleted meanwhile), so a "
                    "row may have been skipped; rows Mailjet no longer has are removed on the next run"
                )
                continue
            name = client.make_qualified_table_name(table)
            api = f"from {name} where {SOURCE_COLUMN} = 'api'"
            try:
                rows = client.execute_sql(
                    f"select count(*) filter (where {EXTRACTED_AT_COLUMN} = %s), "
                    f"count(*) filter (where {EXTRACTED_AT_COLUMN} <> %s) {api}",
                    extracted_at,
                    extracted_at,
                )
            except DatabaseUndefinedRelation:
                continue
            seen, stale = (int(v) for v in rows[0]) if rows else (0, 0)
            # contact_properties has one row per property value, not per listed row: no count to compare.
            if table != "contact_properties" and seen < counted:
                raise RemovalRefused(
                    f"refusing to remove {stale:,} rows from {DATASET}.{table}: Mailjet counts {counted:,} "
                    f"rows but only {seen:,} of this run's are in the table. The rows read were loaded; "
                    "nothing was removed. Rerun `extract`; if this persists, report it with the output of -v"
                )
            plans.append((table, f"delete {api} and {EXTRACTED_AT_COLUMN} <> %s", stale))
        with client.begin_transaction():
            for table, sql, stale in plans:
                if stale:
                    client.execute_sql(sql, extracted_at)
                removed[table] = stale
    return removed, notes


def extract(
    db: str,
    destination: str | None,
    resources: str | None,
    full_refresh: bool,
    progress: ExtractProgress | None = None,
    config: MailjetConfiguration | None = None,
    interrupts: InterruptHandler | None = None,
    lock_wait: float = DEFAULT_LOCK_WAIT_SECONDS,
) -> ExtractResult:
    """Run the extract; returns what it did, or raises CommandError (or the signal's exception
    when `interrupts` says the user stopped it). `config` defaults to the `[mailjet]` settings resolved
    through dlt's providers."""
    try:
        config = config or load_mailjet_config()
    except ConfigError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from None
    names = choose_resources(resources, config)
    http = MailjetHttp.from_config(config)  # its counters feed the summary
    extracted_at = datetime.now(UTC)
    listed: dict[str, ReadOutcome] = {}
    source = mailjet_source(
        config,
        progress=progress,
        listed=listed.__setitem__,
        http=http,
        extracted_at=extracted_at,
    ).with_resources(*names)
    stop = interrupts or InterruptHandler("extract")
    try:
        with writing(db, destination, "extract", lock_wait, _say, interrupts=stop) as warehouse:
            pipeline = warehouse.pipeline
            started = time.monotonic()
            try:
                pipeline.sync_destination()
                cursors = [n for n in names if n in INCREMENTAL_RESOURCES]
                if full_refresh and cursors and pipeline.default_schema_name:
                    pipeline_drop(pipeline, resources=cursors, state_only=True)()
                warehouse.journal("extract", None)
                with stop.immediate():  # reading Mailjet writes nothing that matters: stop at once
                    extracted = pipeline.extract(source)
                warehouse.journal("extract", extracted.loads_ids[-1])
                stop.check()
                pipeline.normalize()
                info = pipeline.load()
            except PipelineStepFailed as exc:
                reraise_if_interrupted(exc)
                raise_if_busy(exc, "`extract`")
                cause = _mailjet_cause(exc)
                if isinstance(cause, MailjetAuthError):
                    raise CommandError(str(cause), EXIT_USAGE) from None
                detail = str(cause) if cause is not None else f"{exc.step} failed: {exc.exception}"
                raise CommandError(
                    f"{detail}. Nothing was reported done; rerun `extract` to resume (rows already loaded "
                    "are merged, never duplicated).",
                    EXIT_FAILURE,
                ) from None
            stop.check()
            try:
                removed, notes = remove_deleted(pipeline, listed, extracted_at)
            except RemovalRefused as exc:
                raise CommandError(str(exc), EXIT_FAILURE) from None
            merged = merge_identities(pipeline)  # contacts and lists first seen in a CSV file, now in Mailjet
            warehouse.close_journal()
            resumed = warehouse.resumed
    except WarehouseError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from None
    except (WarehouseBusy, ResumeFailed) as exc:
        raise CommandError(str(exc), EXIT_FAILURE) from None
    seconds = time.monotonic() - started
    trace = pipeline.last_trace
    normalized = trace.last_normalize_info if trace is not None else None
    counts = dict(normalized.row_counts) if normalized is not None and info.loads_ids else {}
    return ExtractResult(
        tables=[TableCount(n, counts.get(n, 0), removed.get(n, 0)) for n in names],
        requests=http.stats.requests,
        retries=dict(http.stats.retries),
        seconds=seconds,
        database=db if destination in (None, "duckdb") else None,
        notes=notes,
        resumed=resumed,
        merged_contacts=merged.contacts,
        merged_lists=merged.lists,
        orphans_removed=merged.orphans_removed,
    )


def _say(text: str) -> None:
    console().warning(f"mailjet-elt extract: {text}")
