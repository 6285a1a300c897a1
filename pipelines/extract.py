"""`mailjet-elt extract`: Mailjet -> the `mailjet` dataset, incremental where the API allows."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from dlt.destinations.exceptions import DatabaseUndefinedRelation
from dlt.pipeline.exceptions import PipelineStepFailed
from dlt.pipeline.helpers import pipeline_drop
from dlt.pipeline.pipeline import Pipeline
from dlt.sources.helpers.rest_client.auth import HttpBasicAuth

from pipelines.cli import EXIT_FAILURE, EXIT_OK, EXIT_USAGE
from pipelines.config import ConfigError, MailjetConfiguration, load_mailjet_config
from pipelines.identity import merge_identities
from pipelines.progress import ExtractProgress
from pipelines.warehouse import WarehouseError, open_pipeline
from sources.mailjet import FULL_REFRESH_RESOURCES, INCREMENTAL_RESOURCES, mailjet_source
from sources.mailjet.client import HttpSettings, MailjetHttp
from sources.mailjet.exceptions import MailjetAuthError, MailjetError
from sources.mailjet.schema import EXTRACTED_AT_COLUMN, SOURCE_COLUMN

ALL_RESOURCES = (*FULL_REFRESH_RESOURCES, *INCREMENTAL_RESOURCES)


class ExtractError(Exception):
    """The extract could not run or did not finish; `exit_code` says which kind of failure."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def choose_resources(spec: str | None, config: MailjetConfiguration) -> list[str]:
    """The resources `--resources a,b` names (all by default; sms_messages only with an SMS token)."""
    available = [r for r in ALL_RESOURCES if r != "sms_messages" or config.sms_token]
    if not spec:
        return available
    wanted = [name.strip() for name in spec.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in ALL_RESOURCES]
    if unknown:
        raise ExtractError(
            f"unknown resource(s) {', '.join(unknown)}; choose from {', '.join(ALL_RESOURCES)}", EXIT_USAGE
        )
    if "sms_messages" in wanted and not config.sms_token:
        raise ExtractError(
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


def remove_deleted(pipeline: Pipeline, tables: Sequence[str], extracted_at: datetime) -> dict[str, int]:
    """Delete the API rows of fully re-read tables that this run did not see again (every row it saw
    carries its `extracted_at`, to the microsecond): Mailjet no longer has them. Rows of other
    provenance (CSV imports) are left alone."""
    removed: dict[str, int] = {}
    with pipeline.sql_client() as client:
        for table in tables:
            name = client.make_qualified_table_name(table)
            stale = f"from {name} where {SOURCE_COLUMN} = 'api' and {EXTRACTED_AT_COLUMN} <> %s"
            try:
                rows = client.execute_sql(f"select count(*) {stale}", extracted_at)
            except DatabaseUndefinedRelation:
                continue
            count = int(rows[0][0]) if rows else 0
            if count:
                client.execute_sql(f"delete {stale}", extracted_at)
            removed[table] = count
    return removed


def extract(
    db: str,
    destination: str | None,
    resources: str | None,
    full_refresh: bool,
    progress: ExtractProgress | None = None,
    config: MailjetConfiguration | None = None,
) -> str:
    """Run the extract; returns the summary to print, or raises ExtractError. `config` defaults to the
    `[mailjet]` settings resolved through dlt's providers."""
    try:
        config = config or load_mailjet_config()
    except ConfigError as exc:
        raise ExtractError(str(exc), EXIT_USAGE) from None
    names = choose_resources(resources, config)
    tuning = HttpSettings(
        concurrency=config.concurrency,
        requests_per_second=config.requests_per_second,
        max_attempts=config.max_attempts,
        backoff_seconds=config.backoff_seconds,
        timeout=config.timeout_seconds,
    )
    http = MailjetHttp(config.base_url, HttpBasicAuth(str(config.api_key), str(config.api_secret)), tuning)
    extracted_at = datetime.now(UTC)
    source = mailjet_source(
        api_key=str(config.api_key),
        api_secret=str(config.api_secret),
        base_url=config.base_url,
        sms_token=str(config.sms_token) if config.sms_token else None,
        page_size=config.page_size,
        concurrency=config.concurrency,
        lag_seconds=config.lag_seconds,
        window_rows=config.window_rows,
        progress=progress,
        http=http,  # carries the rate limit, retries and timeout; its counters feed the summary
        extracted_at=extracted_at,
    ).with_resources(*names)
    try:
        pipeline = open_pipeline(db, destination)
    except WarehouseError as exc:
        raise ExtractError(str(exc), EXIT_USAGE) from None
    started = time.monotonic()
    try:
        cursors = [n for n in names if n in INCREMENTAL_RESOURCES]
        if full_refresh and cursors and pipeline.default_schema_name:
            pipeline_drop(pipeline, resources=cursors, state_only=True)()
        info = pipeline.run(source)
    except PipelineStepFailed as exc:
        cause = _mailjet_cause(exc)
        if isinstance(cause, MailjetAuthError):
            raise ExtractError(str(cause), EXIT_USAGE) from None
        detail = str(cause) if cause is not None else f"{exc.step} failed: {exc.exception}"
        raise ExtractError(
            f"{detail}. Nothing was reported done; rerun `extract` to resume (rows already loaded are "
            "merged, never duplicated).",
            EXIT_FAILURE,
        ) from None
    removed = remove_deleted(pipeline, [n for n in names if n in FULL_REFRESH_RESOURCES], extracted_at)
    merged = merge_identities(pipeline)  # contacts and lists first seen in a CSV file, now in Mailjet
    seconds = time.monotonic() - started
    trace = pipeline.last_trace
    normalized = trace.last_normalize_info if trace is not None else None
    counts = dict(normalized.row_counts) if normalized is not None and info.loads_ids else {}
    text = summary(names, counts, removed, http, seconds, db if destination in (None, "duckdb") else None)
    if merged.contacts or merged.lists:
        text += (
            f"\nMerged with rows imported from CSV files: {merged.contacts:,} contacts (same email), "
            f"{merged.lists:,} lists (same name)"
        )
    if merged.orphans_removed:
        text += (
            f"\nRemoved {merged.orphans_removed:,} imported rows of contacts Mailjet no longer has "
            "(deleted there)"
        )
    return text


def summary(
    names: Sequence[str],
    counts: dict[str, int],
    removed: dict[str, int],
    http: MailjetHttp,
    seconds: float,
    db: str | None,
) -> str:
    """What the run did, one line per resource, then calls, retries and speed."""
    total = sum(counts.get(n, 0) for n in names)
    lines = [f"Extracted {total:,} rows in {seconds:.1f} s ({total / max(seconds, 1e-9):,.0f} rows/s)"]
    for name in names:
        gone = removed.get(name, 0)
        note = f", {gone:,} no longer in Mailjet removed" if gone else ""
        lines.append(f"  {name:<30} {counts.get(name, 0):>10,} rows{note}")
    retries = http.stats.retries
    retried = ", ".join(f"{n} x {why}" for why, n in sorted(retries.items())) if retries else "none"
    lines.append(f"API requests: {http.stats.requests:,} (retries: {retried})")
    if db is not None:
        lines.append(f'Query it: duckdb {db} "select count(*) from mailjet.contacts"')
    return "\n".join(lines)


def run_extract(db: str, destination: str | None, resources: str | None, full_refresh: bool) -> int:
    """The `extract` command: prints progress and a summary; exit 0 only when everything loaded."""
    try:
        print(extract(db, destination, resources, full_refresh, ExtractProgress()))
    except ExtractError as exc:
        print(f"mailjet-elt extract: {exc}", file=sys.stderr)
        return exc.exit_code
    return EXIT_OK
