"""Finishing what an interrupted command left behind: its pending dlt packages, then its journaled
follow-up."""

from __future__ import annotations

import json
import shutil
from contextlib import suppress
from pathlib import Path

from dlt.common.destination.exceptions import SqlClientNotAvailable
from dlt.destinations.exceptions import (
    DatabaseUndefinedRelation,
)
from dlt.pipeline.exceptions import PipelineStepFailed
from dlt.pipeline.pipeline import Pipeline

from pipelines.interrupts import reraise_if_interrupted
from pipelines.settings import CSV_STAGING_FOLDER
from pipelines.warehouse.database import NOTHING_TO_RESTORE
from pipelines.warehouse.errors import ResumeFailed, raise_if_busy
from pipelines.warehouse.incoming import put_in_place
from pipelines.warehouse.superseded import ImportKey, finish_interrupted_import

JOURNAL = "interrupted_run.json"  # in the pipeline's working folder while a command loads


def settled(working: Path) -> bool:
    """Whether the working folder of a pipeline shows that nothing waits to be finished there and that its
    state is local: no journal, no staging of an import, no package extracted or normalized and not loaded,
    no leftover of an extract, and its schemas present (or, for a DuckDB file, the note that the warehouse
    held none: `restore_state`). Such a pipeline need not be opened by a command of another layer (opening
    one costs dlt's configuration, some 25 ms); anything else is opened, resumed and, without schemas,
    restored from the warehouse (`resume`, `restore_state`)."""
    if (working / JOURNAL).exists() or (working / CSV_STAGING_FOLDER).exists():
        return False
    has_schema = any((working / "schemas").glob("*.schema.json"))  # not a write's temporary file
    if not has_schema and not (working / NOTHING_TO_RESTORE).is_file():
        return False
    normalize = working / "normalize"
    if normalize.is_dir() and any(
        child.name not in ("extracted", ".version") for child in normalize.iterdir()
    ):
        return False  # the leftover of an extract that never committed, which `resume` removes
    pending = (normalize / "extracted", working / "load" / "normalized", working / "load" / "new")
    return not any(folder.is_dir() and any(folder.iterdir()) for folder in pending)


def resume(pipeline: Pipeline) -> list[str]:
    """Finish what an interrupted run left: load its pending packages (dlt keeps them, with the state
    they carry, until they are loaded), then its journaled follow-up. Returns what was done, for the
    user. Leftover folders of an extract that never committed are removed (they hold nothing loadable)."""
    notes: list[str] = []
    working = Path(pipeline.working_dir)
    journal_path = working / JOURNAL
    entry: dict[str, object] = {}
    with suppress(FileNotFoundError, ValueError):
        loaded = json.loads(journal_path.read_text(encoding="utf-8"))
        entry = loaded if isinstance(loaded, dict) else {}
    what = f"`{entry['command']}`" if "command" in entry else "an earlier run"
    shutil.rmtree(working / CSV_STAGING_FOLDER, ignore_errors=True)  # a killed import's staging database
    normalize_dir = working / "normalize"
    if normalize_dir.is_dir():
        for child in normalize_dir.iterdir():
            if child.is_dir() and child.name != "extracted":
                shutil.rmtree(child, ignore_errors=True)
    # A run killed while dlt moved a package from `extracted` to `normalized` (or after the load, before
    # the extracted copy went) leaves it twice; normalizing the copy again would fail forever.
    normalized = set(pipeline.list_normalized_load_packages())
    for load_id in pipeline.list_extracted_load_packages():
        if load_id in normalized or _loaded(pipeline, load_id):
            shutil.rmtree(normalize_dir / "extracted" / load_id, ignore_errors=True)
    if pipeline.has_pending_data:
        extracted = pipeline.list_extracted_load_packages()
        packages = len(extracted) + len(pipeline.list_normalized_load_packages())
        try:
            if extracted:
                pipeline.normalize()
            pipeline.load()
        except PipelineStepFailed as exc:
            reraise_if_interrupted(exc)
            raise_if_busy(exc, "the command")
            raise ResumeFailed(
                f"{what} was interrupted and what it had read cannot be loaded ({exc.step}: "
                f"{exc.exception}). Fix the cause and run again; to give that data up instead, run "
                f"`{abort_command(pipeline)}` (an extract reads that data again; an import or a load "
                "must be run again)"
            ) from None
        notes.append(
            f"resumed: {what} was interrupted; completed its load ({packages} package"
            f"{'' if packages == 1 else 's'}) before this run"
        )
    if entry:
        # What the interrupted command had left to do after its load, whichever command resumes it.
        imports: list[ImportKey] = [
            (str(f), None if ref is None else str(ref), str(at))
            for f, ref, at in entry.get("imports") or []  # type: ignore[attr-defined]
        ]
        finished = finish_interrupted_import(pipeline, imports) if entry.get("command") == "import-csv" else 0
        package = entry.get("load_id")
        target = entry.get("target")
        if isinstance(target, dict) and isinstance(package, str) and _loaded(pipeline, package):
            # A `load` whose rows reached its incoming table: they go in place now.
            finished += put_in_place(pipeline, str(target.get("table")), bool(target.get("append")))
        if not notes and (finished or (isinstance(package, str) and _loaded(pipeline, package))):
            notes.append(f"resumed: {what} was interrupted after its load; finished its last steps")
        journal_path.unlink(missing_ok=True)
    return notes


def abort_command(pipeline: Pipeline) -> str:
    """The dlt command that gives up the pipeline's pending packages, without asking (`--yes`: it runs
    from a script or a scheduler, where no one answers a prompt)."""
    return (
        f"dlt --yes pipeline --pipelines-dir {pipeline.pipelines_dir} {pipeline.pipeline_name} abort-packages"
    )


def _loaded(pipeline: Pipeline, load_id: str) -> bool:
    """Whether the package `load_id` reached the destination (a destination without SQL keeps no record:
    a package still in the pipeline's folders has not been loaded, or is loaded again harmlessly)."""
    try:
        opened = pipeline.sql_client()
    except SqlClientNotAvailable:
        return False
    with opened as client:
        table = client.make_qualified_table_name("_dlt_loads")
        try:
            rows = client.execute_sql(f"select count(*) from {table} where load_id = %s", load_id)
        except DatabaseUndefinedRelation:
            return False
    return bool(rows and rows[0][0])
