"""`mailjet-elt load`: the user's own CSV, Parquet or JSONL file into `crm.<table>`, replaced or appended."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.errors import CommandError
from pipelines.load import load
from pipelines.report import text
from pipelines.warehouse import open_pipeline
from tests.conftest import run_cli
from tests.csv_import.conftest import rows

EVENTS = [
    {
        "email": "ann@example.com",
        "permission": "email_newsletter",
        "granted": True,
        "at": "2026-01-02T03:04:05Z",
    },
    {
        "email": "bob@example.org",
        "permission": "email_service",
        "granted": False,
        "at": "2026-02-03T04:05:06Z",
    },
]


def write(path: Path, records: list[dict[str, object]]) -> Path:
    """`records` in the format `path`'s extension names."""
    if path.suffix == ".csv":
        lines = [",".join(records[0])] + [
            ",".join(str(v).lower() if isinstance(v, bool) else str(v) for v in r.values()) for r in records
        ]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    elif path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    else:
        table = pa.Table.from_pylist(records)
        pq.write_table(
            table.set_column(3, "at", pa.array([r["at"] for r in records]).cast(pa.timestamp("s", tz="UTC"))),
            path,
        )
    return path


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_each_format_loads_typed_rows(tmp_path: Path, suffix: str) -> None:
    db = tmp_path / "t.duckdb"
    result = load(db=str(db), file=str(write(tmp_path / f"events{suffix}", EVENTS)), table="consent_events")
    assert (result.rows, result.table, result.appended) == (2, "crm.consent_events", False)
    assert "Loaded 2 rows (4 columns)" in text(result)
    got = rows(
        db, 'select email, permission, granted, epoch("at")::bigint from crm.consent_events order by email'
    )
    assert got == [
        ("ann@example.com", "email_newsletter", True, 1767323045),
        ("bob@example.org", "email_service", False, 1770091506),
    ]


def test_replace_by_default_append_on_request(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    path = write(tmp_path / "events.csv", EVENTS)
    load(db=str(db), file=str(path), table="consent_events")
    load(db=str(db), file=str(path), table="consent_events")
    assert rows(db, "select count(*) from crm.consent_events") == [(2,)]
    load(db=str(db), file=str(path), table="consent_events", append=True)
    assert rows(db, "select count(*) from crm.consent_events") == [(4,)]


@pytest.mark.parametrize(
    ("name", "table", "message"),
    [
        ("missing.csv", "profiles", "does not exist"),
        ("people.xlsx", "profiles", "cannot tell its format from '.xlsx'"),
        ("events.csv", "Profiles!", "--table 'Profiles!': use lowercase letters"),
        ("broken.parquet", "profiles", "cannot be read"),
    ],
)
def test_what_cannot_be_loaded_stops_before_anything_is_written(
    tmp_path: Path, name: str, table: str, message: str
) -> None:
    db = tmp_path / "t.duckdb"
    load(db=str(db), file=str(write(tmp_path / "events.csv", EVENTS)), table="profiles")
    if name == "people.xlsx":
        (tmp_path / name).write_bytes(b"PK\x03\x04 not a csv")
    if name == "broken.parquet":
        (tmp_path / name).write_bytes(b"PAR1 torn")
    with pytest.raises(CommandError, match=message) as caught:
        load(db=str(db), file=str(tmp_path / name), table=table)
    assert caught.value.exit_code == 2
    assert rows(db, "select count(*) from crm.profiles") == [(2,)]  # as it was


def test_the_cli_prints_json_and_a_pending_load_is_finished_by_the_next_command(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    done = run_cli(
        [
            "--db",
            str(db),
            "load",
            str(write(tmp_path / "p.jsonl", EVENTS)),
            "--table",
            "profiles",
            "--format",
            "json",
        ],
        {},
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["rows"] == 2
    # A load killed once its data was read leaves a package; the next command, whichever, loads it.
    open_pipeline(str(db), dataset="crm").extract(
        pa.table({"email": ["cy@example.com"]}), table_name="profiles"
    )
    export = tmp_path / "e.csv"
    export.write_text("email\nann@example.com\n", encoding="utf-8")
    again = run_cli(["--db", str(db), "import-csv", str(export)], {}, tmp_path)
    assert again.returncode == 0, again.stderr
    assert "resumed: an earlier run was interrupted; completed its load (1 package)" in again.stdout
    assert rows(db, "select count(*) from crm.profiles") == [(3,)]


def test_a_file_that_breaks_off_past_its_start_stops_with_exit_2_and_writes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    load(db=str(db), file=str(write(tmp_path / "events.csv", EVENTS)), table="profiles")
    late = tmp_path / "late.csv"
    # DuckDB types the column from the file's start; a value 300,000 rows in does not fit it.
    late.write_text(
        "email,score\n"
        + "".join(f"u{i}@example.com,{i}\n" for i in range(300_000))
        + "bad@example.com,high\n",
        encoding="utf-8",
    )
    with pytest.raises(CommandError, match=r"late\.csv: cannot be read") as caught:
        load(db=str(db), file=str(late), table="profiles")
    assert caught.value.exit_code == 2
    assert rows(db, "select count(*) from crm.profiles") == [(2,)]
