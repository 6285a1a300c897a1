"""The database a command writes: the DuckDB file at `--db` (checked, its working folder beside it) or
another dlt destination, and the dlt pipeline of one raw layer that loads into it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dlt
from dlt.pipeline.exceptions import PipelineStepFailed
from dlt.pipeline.pipeline import Pipeline

from pipelines.settings import DEFAULT_DB, DEFAULT_LOCK_WAIT_SECONDS
from pipelines.warehouse.engines import REPLACE_STRATEGY, check_destination
from pipelines.warehouse.errors import WarehouseError
from pipelines.warehouse.names import API_DATASET
from pipelines.warehouse.paths import duckdb_path, pipelines_dir
from pipelines.warehouse.waiting import PatientCredentials

# Every session of a command keeps time in UTC, whatever the zone of the machine (DuckDB) or of the server
# (a Postgres configured for its office's zone): a time without a zone (a CRM file's) is read as UTC, and
# a time written as text (a plan's evidence) is written in UTC, so that the same data plans the same on
# every engine. dlt sets it on each connection of the destinations that have such a setting (Postgres).
SESSION_TIME_ZONE = "UTC"
# Merges of millions of rows: cap DuckDB's buffer memory (it spills to disk beyond it) so the extract's
# memory stays flat as the account grows; insertion order is meaningless for these tables. Sessions keep
# time in UTC (SESSION_TIME_ZONE).
# In a DuckDB pipeline's working folder: the warehouse held no state for it when a command looked.
NOTHING_TO_RESTORE = "nothing_to_restore"
DUCKDB_SETTINGS = {"memory_limit": "256MB", "preserve_insertion_order": False, "TimeZone": SESSION_TIME_ZONE}
# An extract's load, its files one at a time (bench/extract.py, peak RSS of the whole extract): with the
# settings above and dlt's 20 load workers 379 MiB at 100,000 contacts and 501 MiB at 1,000,000 (the buffer
# pool filling up to its limit as the tables grow); with these, 326 and 358 MiB. 64MB failed a merge.
LEAN_LOAD = {"threads": "1", "memory_limit": "128MB"}


@contextmanager
def lean_duckdb(pipeline: Pipeline) -> Iterator[None]:
    """DuckDB held to LEAN_LOAD for the block (a pipeline into a DuckDB file; others unchanged): dlt applies
    its credentials' settings to each connection it opens, so they change for the block, and are set on
    the database at once too; its own settings are back after it, for whatever the command does next in
    the same process (`run` plans next)."""
    credentials = pipeline.destination.config_params.get("credentials")
    if not isinstance(credentials, PatientCredentials):
        yield
        return
    own = credentials.global_config
    credentials.global_config = {**(own or {}), **LEAN_LOAD}
    with pipeline.sql_client() as client:
        names = ", ".join(f"current_setting('{name}')" for name in LEAN_LOAD)
        rows = client.execute_sql(f"select {names}")
        before = dict(zip(LEAN_LOAD, rows[0], strict=True)) if rows else {}
        for name, value in LEAN_LOAD.items():
            client.execute_sql(f"SET {name} = '{value}'")
    try:
        yield
    finally:
        credentials.global_config = own
        with pipeline.sql_client() as client:
            for name, value in before.items():
                client.execute_sql(f"SET {name} = '{value}'")


def open_pipeline(
    db: str = DEFAULT_DB,
    destination: str | None = None,
    dataset: str = API_DATASET,
    wait_seconds: float = DEFAULT_LOCK_WAIT_SECONDS,
) -> Pipeline:
    """The pipeline writing `dataset` (`mailjet_api` or `mailjet_csv`; the pipeline bears its name).
    With DuckDB its working state sits beside the database file (`.<file>.dlt/`), so two databases
    never share cursors; other destinations take their credentials from dlt's usual config (e.g.
    DESTINATION__POSTGRES__CREDENTIALS), their working state the project's folder of that warehouse
    (pipelines.warehouse.location), taken from the warehouse when missing (`restore_state`).
    Full-refresh tables are replaced through the staging dataset, in one transaction per table. Each
    opening of the DuckDB file waits up to `wait_seconds` for a reader that holds it."""
    # Scheduled runs must not grow the disk: drop each load's files once loaded, and empty the staging
    # tables merges go through (otherwise a second copy of every merged table stays in the database).
    dlt.config["load.delete_completed_jobs"] = True
    dlt.config["load.truncate_staging_dataset"] = True
    # The load files live only until they are loaded: gzip would cost more than it saves. It weighs on the
    # destinations whose files dlt compresses, those loaded from CSV (Postgres' COPY, from the Arrow
    # tables every command loads: gzip was half the extract's normalize step at 100,000 contacts), not on
    # Parquet's (DuckDB's).
    dlt.config["normalize.data_writer.disable_compression"] = True
    if destination in (None, "duckdb"):
        path = duckdb_path(db)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WarehouseError(
                f"--db {db}: cannot create the folder {path.parent} ({exc.strerror}); choose a writable "
                "location"
            ) from None
        credentials = PatientCredentials(str(path), global_config=dict(DUCKDB_SETTINGS))
        credentials.wait_seconds = wait_seconds
        credentials.resolve()  # resolved, dlt keeps this instance (and its pool) instead of a copy
        pipeline = dlt.pipeline(
            pipeline_name=dataset,
            destination=dlt.destinations.duckdb(credentials, replace_strategy=REPLACE_STRATEGY),
            dataset_name=dataset,
            pipelines_dir=str(pipelines_dir(db, destination)),
        )
    else:
        dlt.config[f"destination.{destination}.replace_strategy"] = REPLACE_STRATEGY
        dlt.secrets[f"destination.{destination}.credentials.session_timezone"] = SESSION_TIME_ZONE
        # The folder is found first: an unknown destination, a missing driver or missing credentials
        # are reported there (pipelines.warehouse.location).
        pipeline = dlt.pipeline(
            pipeline_name=dataset,
            destination=destination,
            dataset_name=dataset,
            pipelines_dir=str(pipelines_dir(db, destination)),
        )
        check_destination(pipeline, destination)
    # Signals are the commands' business (pipelines/interrupts.py): dlt must not swap its handlers in
    # for the normalize and load steps. Its steps still stop on the flag those handlers raise.
    pipeline.config.runtime.intercept_signals = False
    return pipeline


def restore_state(pipeline: Pipeline, remember_none: bool = False) -> None:
    """A pipeline without a local schema (its folder deleted, a fresh checkout, another machine) takes its
    state and schemas from the warehouse, where dlt keeps them, before any work: incremental cursors go on
    from where they were, and dlt knows what the warehouse holds (`load` drops and creates its incoming
    table by the schema). Off when dlt's `restore_from_destination` is. A failure is the database's own
    (dlt's wrapper taken off), so that the command reports it as any other.

    `remember_none`, for a DuckDB file: the warehouse held no state for the pipeline, and none can reach
    it but through this working folder (beside the file), so the folder says so (NOTHING_TO_RESTORE) and
    the commands of other layers need not open the pipeline to look again (resume.settled); deleting the
    folder deletes the note with it."""
    if pipeline.config.restore_from_destination and not pipeline.schema_names:
        try:
            pipeline.sync_destination()
        except PipelineStepFailed as exc:
            raise exc.exception from None
        if remember_none and not pipeline.schema_names:
            (Path(pipeline.working_dir) / NOTHING_TO_RESTORE).write_text(
                "the warehouse held no state for this pipeline\n", encoding="utf-8"
            )
