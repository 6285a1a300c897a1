"""`mailjet-elt report`: one self-contained HTML file of the analysts' models. It charts campaign
performance, list growth, deliverability, engagement tiers and the sync's history, and prints the figures
of each chart in a table beside it. The statements are `pipelines/models/report/*.sql`, read from
`mailjet_models` through the same SQL path as every other statement (DuckDB read-only, or a server
warehouse's SQL client). The chart library (Chart.js) and the page's own script are copied into the file,
which a Content-Security-Policy keeps from loading anything: it opens with no network."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipelines import models
from pipelines.errors import EXIT_FAILURE, EXIT_USAGE, CommandError
from pipelines.interrupts import InterruptHandler
from pipelines.report_html.figures import FIGURES, Row
from pipelines.settings import DEFAULT_LOCK_WAIT_SECONDS
from pipelines.warehouse.names import MODELS_DATASET, VIEWS_DATASET

STATEMENTS = models.MODELS_FOLDER / "report"
DEFAULT_OUT = "report.html"


@dataclass(frozen=True)
class HtmlReport:
    """The report written: where, its size, and the rows of each figure."""

    path: str
    bytes: int
    figures: dict[str, int]  # figure -> rows in its table


def figures_of(
    *,
    db: str,
    destination: str | None = None,
    lock_wait: float = DEFAULT_LOCK_WAIT_SECONDS,
    stop: InterruptHandler | None = None,
) -> dict[str, list[Row]]:
    """Each figure's rows, read from the warehouse. CommandError (exit 2) when it has no models yet."""
    from pipelines.warehouse_reader import database_error, reading

    stop = stop or InterruptHandler("report")
    datasets = (VIEWS_DATASET, MODELS_DATASET)
    with reading(db, destination, lock_wait, "report", stop, datasets) as reader:
        if not _has_models(reader.present):
            raise CommandError(
                f"this warehouse has no `{MODELS_DATASET}` models yet: run `mailjet-elt extract` (or "
                "import-csv), which publishes them with the `mailjet` views",
                EXIT_USAGE,
            )
        found: dict[str, list[Row]] = {}
        for figure in FIGURES:
            try:
                columns, rows = reader.run(models.render(figure.name, reader.dialect, folder=STATEMENTS), ())
            except Exception as exc:
                if isinstance(exc, CommandError) or not database_error(exc):
                    raise
                from pipelines.sql_access import first_line

                raise CommandError(
                    f"cannot read the models for the report's {figure.name} figure: {first_line(exc)}. "
                    "If a table the models read was loaded again with other columns, `mailjet-elt extract` "
                    "(or `plan`, for the sync's) publishes them again",
                    EXIT_FAILURE,
                ) from None
            found[figure.name] = [dict(zip(columns, row, strict=True)) for row in rows]
    return found


def _has_models(present: set[tuple[str, str]]) -> bool:
    needed = (
        "campaign_performance",
        "list_growth",
        "deliverability",
        "deliverability_spam",
        "contact_engagement",
        "sync_history",
    )
    return all((MODELS_DATASET, name) in present for name in needed)


def write_report(
    *,
    db: str,
    out: str = DEFAULT_OUT,
    destination: str | None = None,
    lock_wait: float = DEFAULT_LOCK_WAIT_SECONDS,
    stop: InterruptHandler | None = None,
) -> HtmlReport:
    """Read the figures and write the report to `out` (`-`: stdout), whole or not at all: a temporary file
    beside it (beside the file a symbolic link leads to), renamed over it with the old file's mode.
    CommandError (exit 2) when `out` is a folder, its folder does not exist, or it is a file other than
    an HTML page (the database itself, say): a report never replaces anything else."""
    from pipelines.report_html.library import script
    from pipelines.report_html.page import page

    target = None if out == "-" else _target(out, db, destination)
    library = script()  # before any reading: a missing library is said at once
    rows = figures_of(db=db, destination=destination, lock_wait=lock_wait, stop=stop)
    if destination in (None, "duckdb"):
        from pipelines.warehouse.paths import duckdb_path

        where = str(duckdb_path(db).resolve())
    else:
        where = f"the {destination} warehouse"
    html = page(rows, library, where, datetime.now(UTC))
    figures = {name: len(r) for name, r in rows.items()}
    if target is None:
        from pipelines.errors import write_out

        write_out(html)
        return HtmlReport("-", len(html.encode()), figures)
    _write(target, html, out)
    return HtmlReport(out, len(html.encode()), figures)


def _target(out: str, db: str, destination: str | None) -> Path:
    """The file `--out` names, symbolic links followed; CommandError when it may not be written."""
    target = Path(out).resolve()
    if target.is_dir():
        raise CommandError(f"--out {out} is a folder: name the HTML file to write", EXIT_USAGE)
    if not target.parent.is_dir():
        raise CommandError(f"--out {out}: no folder {target.parent} to write it in", EXIT_USAGE)
    if destination in (None, "duckdb"):
        from pipelines.warehouse.paths import duckdb_path

        database = duckdb_path(db).resolve()
        if target in (database, database.with_name(database.name + ".wal")):
            raise CommandError(f"--out {out} is the database itself: name another file", EXIT_USAGE)
    if target.exists():
        if not target.is_file():
            raise CommandError(f"--out {out} is not a regular file: name an HTML file to write", EXIT_USAGE)
        with target.open("rb") as existing:
            opening = existing.read(64).lstrip().lower()
        if opening and not opening.startswith(b"<!doctype html"):
            raise CommandError(
                f"--out {out} exists and is not an HTML page: a report replaces only an earlier report. "
                "Name another file, or remove it first",
                EXIT_USAGE,
            )
    return target


def _write(target: Path, html: str, out: str) -> None:
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        with partial.open("w", encoding="utf-8") as file:
            file.write(html)
            file.flush()
            os.fsync(file.fileno())
        if target.exists():
            os.chmod(partial, target.stat().st_mode & 0o7777)
        partial.replace(target)
    except OSError as exc:
        raise CommandError(f"cannot write {out}: {exc.strerror or exc}", EXIT_FAILURE) from None
    finally:  # an interrupt, a full disk: no partial file is left behind
        partial.unlink(missing_ok=True)


def describe(report: HtmlReport) -> str:
    """What `report` says when it is done."""
    shown = ", ".join(f"{name} {n:,}" for name, n in report.figures.items())
    return (
        f"report: wrote {report.path} ({report.bytes / 1024:,.0f} KiB; rows per figure: {shown}); it opens "
        "in any browser, with no network"
    )


def as_document(report: HtmlReport) -> dict[str, Any]:
    return {"result": "report", "path": report.path, "bytes": report.bytes, "figures": report.figures}
