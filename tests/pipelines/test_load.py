"""`mailjet-elt load`: the user's own CSV, Parquet or JSONL file into `crm.<table>`, replaced or appended."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dlt.common.schema.typing import TTableSchemaColumns

from pipelines.errors import CommandError
from pipelines.import_csv import import_csv
from pipelines.load import load
from pipelines.plan import plan
from pipelines.report import text
from pipelines.warehouse import open_pipeline, writing
from pipelines.warehouse.incoming import type_changes
from tests.conftest import run_cli
from tests.csv_import.conftest import rows
from tests.sync.world import World, audiences_file

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


def test_a_load_after_the_state_folder_is_deleted_takes_the_state_from_the_database(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    path = write(tmp_path / "events.csv", EVENTS)
    load(db=str(db), file=str(path), table="consent_events")
    shutil.rmtree(tmp_path / ".t.duckdb.dlt")  # a fresh checkout beside the file, or a cleaned folder

    load(db=str(db), file=str(path), table="consent_events", append=True)

    assert rows(db, "select count(*) from crm.consent_events") == [(4,)]
    assert (tmp_path / ".t.duckdb.dlt" / "crm" / "schemas" / "crm.schema.json").is_file()


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


def test_a_crm_load_publishes_the_views_only_while_they_are_missing(tmp_path: Path) -> None:
    """The `mailjet` views and `mailjet_matched` read the API's and the files' layers, never `crm`: a load
    into `crm` creates them where they are missing, and leaves them alone once they exist."""
    db = tmp_path / "t.duckdb"
    load(db=str(db), file=str(write(tmp_path / "events.csv", EVENTS)), table="consent_events")
    assert rows(db, "select count(*) from mailjet.contacts") == [(0,)]  # published: they were missing
    with duckdb.connect(str(db)) as con:  # a marker in the derived table, gone when it is recomputed
        con.execute("insert into mailjet_matched.contacts by name select 'marker@example.com' as email")
    load(db=str(db), file=str(write(tmp_path / "profiles.csv", EVENTS)), table="profiles")
    marked = "select count(*) from mailjet_matched.contacts where email = 'marker@example.com'"
    assert rows(db, marked) == [(1,)]
    export = tmp_path / "e.csv"
    export.write_text("email\nann@example.com\n", encoding="utf-8")
    assert run_cli(["--db", str(db), "import-csv", str(export)], {}, tmp_path).returncode == 0
    assert rows(db, marked) == [(0,)]  # the files' layer changed: recomputed


def test_views_a_command_stopped_before_publishing_them_are_published_by_the_next_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An import stopped after its load and before the views followed it (the views still read the empty
    stand-ins of the files' tables): the next command, a `load` into `crm` here, publishes them first."""
    db = tmp_path / "t.duckdb"
    load(db=str(db), file=str(write(tmp_path / "events.csv", EVENTS)), table="consent_events")
    export = tmp_path / "e.csv"
    export.write_text("email\nann@example.com\n", encoding="utf-8")

    def stopped(client: object) -> list[str]:
        raise RuntimeError("stopped while publishing the views")

    monkeypatch.setattr(writing, "publish_views", stopped)
    with pytest.raises(RuntimeError, match="stopped while publishing"):
        import_csv(db=str(db), files=[str(export)], progress=False)
    monkeypatch.undo()
    assert rows(db, "select count(*) from mailjet_csv.contacts") == [(1,)]
    assert rows(db, "select count(*) from mailjet.contacts") == [(0,)]  # not published
    load(db=str(db), file=str(write(tmp_path / "profiles.csv", EVENTS)), table="profiles")
    assert rows(db, "select email from mailjet.contacts") == [("ann@example.com",)]


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


def consent_file(path: Path, at: str, rows_: int = 2) -> Path:
    """Consent events whose `at` is ISO 8601 text (`iso`) or Unix seconds (`unix`), both documented."""
    stamps = {"iso": "2026-01-02T03:04:05Z", "unix": "1767323045"}
    lines = ["email,permission,granted,at,source"]
    lines += [f"p{i}@example.com,email_newsletter,true,{stamps[at]},crm" for i in range(rows_)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def column_type(db: Path, table: str, column: str) -> str:
    found = rows(
        db,
        "select data_type from information_schema.columns where table_schema = 'crm' "
        f"and table_name = '{table}' and column_name = '{column}'",
    )
    return str(found[0][0])


def nothing_pending(db: Path) -> bool:
    pipeline = open_pipeline(str(db), dataset="crm")
    return not pipeline.has_pending_data


@pytest.mark.parametrize(
    ("first", "then", "then_type"),
    [
        pytest.param("iso", "unix", "BIGINT", id="iso-text-then-unix-seconds"),
        pytest.param("unix", "iso", "TIMESTAMP WITH TIME ZONE", id="unix-seconds-then-iso-text"),
    ],
)
def test_a_replace_with_other_types_takes_the_files_types_and_blocks_nothing(
    tmp_path: Path, first: str, then: str, then_type: str
) -> None:
    db = tmp_path / "t.duckdb"
    World([]).build(db)  # Mailjet's tables and a list, for the plan below
    load(db=str(db), file=str(consent_file(tmp_path / "first.csv", first)), table="consent_events")
    result = load(db=str(db), file=str(consent_file(tmp_path / "then.csv", then, 3)), table="consent_events")
    assert result.rows == 3 and result.retyped and result.retyped[0].startswith("at (")
    assert column_type(db, "consent_events", "at") == then_type
    assert rows(db, "select count(*) from crm.consent_events") == [(3,)]
    assert nothing_pending(db)
    # Every later command works: another load, an import, a plan.
    again = load(db=str(db), file=str(consent_file(tmp_path / "again.csv", then, 4)), table="consent_events")
    assert again.rows == 4 and not again.retyped
    export = tmp_path / "e.csv"
    export.write_text("email\nann@example.com\n", encoding="utf-8")
    imported = run_cli(["--db", str(db), "import-csv", str(export)], {}, tmp_path)
    assert imported.returncode == 0 and "Traceback" not in imported.stderr, imported.stderr
    source = tmp_path / "audiences.sql"
    source.write_text(audiences_file(), encoding="utf-8")
    (planned_,) = plan(db=str(db), audiences=str(source)).plans
    assert planned_.audience == "news"


def test_an_append_of_other_types_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    load(db=str(db), file=str(consent_file(tmp_path / "iso.csv", "iso")), table="consent_events")
    unix = consent_file(tmp_path / "unix.csv", "unix")
    with pytest.raises(CommandError) as caught:
        load(db=str(db), file=str(unix), table="consent_events", append=True)
    assert caught.value.exit_code == 2
    message = str(caught.value)
    assert "unix.csv" in message and "crm.consent_events" in message
    assert "at (timestamp -> bigint)" in message and "without --append" in message
    assert rows(db, "select count(*) from crm.consent_events") == [(2,)]
    assert column_type(db, "consent_events", "at") == "TIMESTAMP WITH TIME ZONE"
    assert nothing_pending(db)


def test_a_header_only_file_replaces_a_table_only_with_allow_empty(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    load(db=str(db), file=str(write(tmp_path / "events.csv", EVENTS)), table="consent_events")
    header = tmp_path / "export.csv"
    header.write_text("email,permission,granted,at,source\n", encoding="utf-8")
    refused = run_cli(["--db", str(db), "load", str(header), "--table", "consent_events"], {}, tmp_path)
    assert refused.returncode == 2, refused.stderr
    assert "export.csv has no rows" in refused.stderr and "crm.consent_events" in refused.stderr
    assert "--allow-empty" in refused.stderr and "Nothing was changed" in refused.stderr
    assert rows(db, "select count(*) from crm.consent_events") == [(2,)]
    assert nothing_pending(db)
    # An append of no rows changes nothing either way; a replace by none is what --allow-empty asks for.
    assert (
        run_cli(
            ["--db", str(db), "load", str(header), "--table", "consent_events", "--append"], {}, tmp_path
        ).returncode
        == 0
    )
    assert rows(db, "select count(*) from crm.consent_events") == [(2,)]
    emptied = run_cli(
        ["--db", str(db), "load", str(header), "--table", "consent_events", "--allow-empty"], {}, tmp_path
    )
    assert emptied.returncode == 0, emptied.stderr
    assert rows(db, "select count(*) from crm.consent_events") == [(0,)]


def test_the_recovery_hint_for_a_package_that_cannot_load_works_without_a_terminal(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    load(db=str(db), file=str(consent_file(tmp_path / "iso.csv", "iso")), table="consent_events")
    # Another dlt pipeline's package that cannot load: text that is no date, into a timestamp column.
    pipeline = open_pipeline(str(db), dataset="crm")
    pipeline.extract(
        pa.table({"email": ["x@example.com"], "at": ["not a date"]}), table_name="consent_events"
    )
    stuck = run_cli(["--db", str(db), "load", str(tmp_path / "iso.csv"), "--table", "profiles"], {}, tmp_path)
    assert stuck.returncode == 1, stuck.stderr
    hint = re.search(r"`(dlt [^`]+)`", stuck.stderr)
    assert hint is not None, stuck.stderr
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    aborted = subprocess.run(  # as a scheduler runs it: no terminal, nothing on stdin
        shlex.split(hint.group(1)),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": path},
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert aborted.returncode == 0, aborted.stdout + aborted.stderr
    works = run_cli(["--db", str(db), "load", str(tmp_path / "iso.csv"), "--table", "profiles"], {}, tmp_path)
    assert works.returncode == 0, works.stderr
    assert rows(db, "select count(*) from crm.profiles") == [(2,)]


@pytest.mark.unit
def test_type_changes_name_the_columns_both_have_with_other_types() -> None:
    table: TTableSchemaColumns = {
        "email": {"name": "email", "data_type": "text"},
        "at": {"name": "at", "data_type": "timestamp"},
        "gone": {"name": "gone", "data_type": "bigint"},
        "_dlt_id": {"name": "_dlt_id", "data_type": "text"},
    }
    incoming: TTableSchemaColumns = {
        "email": {"name": "email", "data_type": "text"},
        "at": {"name": "at", "data_type": "bigint"},
        "new": {"name": "new", "data_type": "bool"},
        "_dlt_id": {"name": "_dlt_id", "data_type": "bigint"},
    }
    assert [str(c) for c in type_changes(table, incoming)] == ["at (timestamp -> bigint)"]
    assert type_changes({}, incoming) == []
