"""`mailjet-elt extract`: Mailjet -> the `mailjet_api` dataset (seen through the `mailjet` views),
incremental where the API allows."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from dlt.destinations.exceptions import DatabaseUndefinedRelation
from dlt.extract.source import DltSource
from dlt.pipeline.exceptions import PipelineStepFailed
from dlt.pipeline.helpers import pipeline_drop
from dlt.pipeline.pipeline import Pipeline

from pipelines import phases
from pipelines.errors import EXIT_FAILURE, EXIT_USAGE, CommandError
from pipelines.interrupts import InterruptHandler, reraise_if_interrupted
from pipelines.logs import console
from pipelines.progress import ExtractProgress
from pipelines.settings import DEFAULT_LOCK_WAIT_SECONDS
from pipelines.warehouse import raise_if_busy
from pipelines.warehouse.datasets import API_DATASET
from pipelines.warehouse.errors import WarehouseError
from pipelines.warehouse.lock import WriterLock
from pipelines.warehouse.publish import LayoutError
from pipelines.warehouse.retype import RetypeError, retype_columns
from pipelines.warehouse.writing import writing
from sources.mailjet import (
    DERIVED_RESOURCES,
    FULL_REFRESH_RESOURCES,
    INCREMENTAL_RESOURCES,
    mailjet_source,
)
from sources.mailjet.client import MailjetHttp
from sources.mailjet.config import MailjetConfiguration, resolve_mailjet_config
from sources.mailjet.exceptions import MailjetAuthError, MailjetConfigError, MailjetError
from sources.mailjet.paging import ReadOutcome

ALL_RESOURCES = (*FULL_REFRESH_RESOURCES, *INCREMENTAL_RESOURCES)


@dataclass(frozen=True)
class TableCount:
    """Rows one table received from this run. A full-refresh table read whole is `replaced` by them
    (rows Mailjet no longer has are gone); `previous` is how many rows it held before."""

    name: str
    rows: int
    replaced: bool = False
    previous: int | None = None


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

    @property
    def rows(self) -> int:
        """Rows extracted, all tables together."""
        return sum(t.rows for t in self.tables)


log = logging.getLogger(__name__)


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


def listing_notes(listed: dict[str, ReadOutcome]) -> list[str]:
    """What the user should know about full-refresh listings that were not read whole (their tables
    were merged, not replaced, so rows Mailjet no longer has stay until the next run)."""
    notes: list[str] = []
    for table, outcome in listed.items():
        if outcome.read < outcome.counted:
            notes.append(
                f"{table}: read {outcome.read:,} of the {outcome.counted:,} rows Mailjet counted (rows "
                "deleted while the listing was read); rows Mailjet no longer has are removed on the next run"
            )
        elif not outcome.pages_met:
            notes.append(
                f"{table}: Mailjet's listing shifted while it was read (rows deleted meanwhile), so a row "
                "may have been skipped; rows Mailjet no longer has are removed on the next run"
            )
    return notes


def row_counts(pipeline: Pipeline, tables: list[str]) -> dict[str, int]:
    """Rows each of `tables` holds now (tables not created yet are left out)."""
    counts: dict[str, int] = {}
    with pipeline.sql_client() as client:
        for table in tables:
            try:
                rows = client.execute_sql(f"select count(*) from {client.make_qualified_table_name(table)}")
            except DatabaseUndefinedRelation:
                continue
            counts[table] = int(rows[0][0]) if rows else 0
    return counts


def extract(
    *,
    db: str,
    destination: str | None = None,
    resources: str | None = None,
    full_refresh: bool = False,
    progress: ExtractProgress | None = None,
    config: MailjetConfiguration | None = None,
    interrupts: InterruptHandler | None = None,
    lock_wait: float = DEFAULT_LOCK_WAIT_SECONDS,
    held: WriterLock | None = None,
) -> ExtractResult:
    """Run the extract; returns what it did, or raises CommandError (or the signal's exception
    when `interrupts` says the user stopped it). `config` defaults to the `[mailjet]` settings resolved
    through dlt's providers. `held`: the writer lock, taken already by the caller (`run`)."""
    try:
        config = config or resolve_mailjet_config()
    except MailjetConfigError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from None
    names = choose_resources(resources, config)
    selected = names + [d for d, parent in DERIVED_RESOURCES.items() if parent in names]
    http = MailjetHttp.from_config(config)  # its counters feed the summary
    listed: dict[str, ReadOutcome] = {}

    def source_at(extracted_at: datetime) -> DltSource:
        return mailjet_source(
            config,
            progress=progress,
            listed=listed.__setitem__,
            http=http,
            extracted_at=extracted_at,
        ).with_resources(*selected)

    stop = interrupts or InterruptHandler("extract")
    with writing(
        db, destination, "extract", API_DATASET, lock_wait, _say, interrupts=stop, held=held
    ) as warehouse:
        pipeline = warehouse.pipeline
        started = time.monotonic()
        # Stamped once the lock is held: an import that ran meanwhile is older than this listing.
        source = source_at(datetime.now(UTC))
        try:
            retyped, previous = _prepare(pipeline, names, full_refresh)
            info = warehouse.load("extract", source, stop, lean=True)
        except PipelineStepFailed as exc:
            raise _failure(exc) from None
        warehouse.close_journal()
        resumed = warehouse.resumed
        trace = pipeline.last_trace
        normalized = trace.last_normalize_info if trace is not None else None
        counts = dict(normalized.row_counts) if normalized is not None and info.loads_ids else {}
        warehouse.summary = (
            f"{sum(counts.get(n, 0) for n in names):,} rows, {http.stats.requests:,} API requests"
        )
    seconds = time.monotonic() - started
    phases.mark("publish")
    for endpoint, sent in sorted(http.stats.by_path.items()):
        log.info("%s: %s requests", endpoint, f"{sent:,}")
    whole = {n for n, outcome in listed.items() if outcome.whole}
    return ExtractResult(
        tables=[
            TableCount(
                n, counts.get(n, 0), n in whole, previous.get(n) if n in FULL_REFRESH_RESOURCES else None
            )
            for n in names
        ],
        requests=http.stats.requests,
        retries=dict(http.stats.retries),
        seconds=seconds,
        database=db if destination in (None, "duckdb") else None,
        notes=[
            *(f"{name} is text now (it was a number); every value was kept" for name in retyped),
            *listing_notes(listed),
        ],
        resumed=resumed,
    )


def _prepare(pipeline: Pipeline, names: list[str], full_refresh: bool) -> tuple[list[str], dict[str, int]]:
    """Before the load, under the lock: columns whose type changed retyped (their names), incremental
    cursors forgotten for a full refresh, and the rows the full-refresh tables hold now (what the load
    will replace)."""
    pipeline.sync_destination()
    try:
        retyped = retype_columns(pipeline)
    except RetypeError as exc:
        raise CommandError(str(exc), EXIT_FAILURE) from None
    except LayoutError as exc:  # a view of the user's reads a view the retyping must drop
        raise WarehouseError(str(exc)) from None
    cursors = [n for n in names if n in INCREMENTAL_RESOURCES]
    if full_refresh and cursors and pipeline.default_schema_name:
        pipeline_drop(pipeline, resources=cursors, state_only=True)()
    return retyped, row_counts(pipeline, [n for n in names if n in FULL_REFRESH_RESOURCES])


def _failure(exc: PipelineStepFailed) -> CommandError:
    """The error a failed extract step ends with (the signal's own exception when the user stopped it)."""
    reraise_if_interrupted(exc)
    raise_if_busy(exc, "`extract`")
    cause = _mailjet_cause(exc)
    if isinstance(cause, MailjetAuthError):
        return CommandError(str(cause), EXIT_USAGE)
    detail = str(cause) if cause is not None else f"{exc.step} failed: {exc.exception}"
    return CommandError(
        f"{detail}. Nothing was reported done; rerun `extract` to resume (rows already loaded "
        "are merged, never duplicated).",
        EXIT_FAILURE,
    )


def _say(text: str) -> None:
    console().warning(f"mailjet-elt extract: {text}")
