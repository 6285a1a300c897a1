"""`mailjet-elt sql`: the answer as a table, CSV or JSON; clear errors; the hints the other commands print
run as printed; a loading command's write is waited for, and a frequent reader never fails a writer."""

from __future__ import annotations

import builtins
import hashlib
import json
import os
import shlex
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import run_command
from pipelines.errors import CommandError
from pipelines.extract import extract as extract_in_process
from pipelines.sql import run_sql
from tests.conftest import Api, creds, run_cli


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "q.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(
            "create schema mailjet; create table mailjet.people as "
            "select * from (values (1, 'Ada', 2.5, true, timestamptz '2026-01-02 03:04:05+00'), "
            "(22, 'Grace Hopper', null, false, null)) t(id, name, score, vip, seen_at)"
        )
    return path


def cli(*args: str) -> list[str]:
    """`mailjet-elt ARGS` as a command line of this interpreter (run in a process of its own)."""
    return [sys.executable, "-m", "pipelines.cli", *args]


def sql(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run_command(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_three_formats(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    query = "select * from mailjet.people order by id"
    code, out, _ = sql(capsys, "--db", str(db), "sql", query)
    assert code == 0
    assert out.splitlines() == [
        "id  name          score  vip    seen_at",
        "--  ------------  -----  -----  -------------------------",
        " 1  Ada             2.5  true   2026-01-02 03:04:05+00:00",
        "22  Grace Hopper   NULL  false  NULL",
        "(2 rows)",
    ]
    code, out, _ = sql(capsys, "--db", str(db), "sql", query, "--format", "csv")
    assert out.splitlines() == [
        "id,name,score,vip,seen_at",
        "1,Ada,2.5,true,2026-01-02 03:04:05+00:00",
        "22,Grace Hopper,,false,",
    ]
    code, out, _ = sql(capsys, "--db", str(db), "sql", query, "--format", "json")
    assert json.loads(out) == [
        {"id": 1, "name": "Ada", "score": 2.5, "vip": True, "seen_at": "2026-01-02T03:04:05+00:00"},
        {"id": 22, "name": "Grace Hopper", "score": None, "vip": False, "seen_at": None},
    ]


def test_errors_name_the_problem(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = sql(capsys, "--db", str(db), "sql", "select * from mailjet.nobody")
    assert (code, out) == (1, "")
    assert "mailjet-elt sql: Catalog Error: Table with name nobody does not exist" in err
    code, _, err = sql(capsys, "--db", str(tmp_path / "none.duckdb"), "sql", "select 1")
    assert code == 2
    assert "no database at" in err and "run `mailjet-elt extract`" in err
    assert not (tmp_path / "none.duckdb").exists()  # a query creates nothing


def test_sql_on_stdin(db: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        cli("--db", str(db), "sql", "--format", "csv"),
        input="select count(*) as n from mailjet.people;\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout) == (0, "n\n2\n"), done.stderr


def test_the_prompt_goes_on_after_an_error(
    db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))  # the history file goes there
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    typed: Iterator[str] = iter(
        ["select name", "from mailjet.people where id = 22;", "select * from nowhere;", ".tables", ".quit"]
    )
    monkeypatch.setattr(builtins, "input", lambda prompt="": next(typed))
    code, out, err = sql(capsys, "--db", str(db), "sql")
    assert code == 0
    assert "Grace Hopper" in out  # a statement over two lines
    assert "nowhere does not exist" in err  # reported, and the prompt went on
    assert "mailjet  people" in out  # .tables


def test_a_query_waits_for_a_write_in_progress(db: Path, tmp_path: Path) -> None:
    release, ready = tmp_path / "release", tmp_path / "ready"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, pathlib, sys, time\n"
            f"con = duckdb.connect({str(db)!r})\n"
            f"pathlib.Path({str(ready)!r}).touch()\n"
            f"while not pathlib.Path({str(release)!r}).exists(): time.sleep(0.05)\n"
            "con.close()\n",
        ]
    )
    try:
        while not ready.exists():
            assert holder.poll() is None, "the writer did not start"
        busy = subprocess.run(
            cli("--db", str(db), "--lock-wait", "0", "sql", "select 1"),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert busy.returncode == 1
        assert "is being written by another process" in busy.stderr
        waiting = subprocess.Popen(
            cli("--db", str(db), "sql", "select count(*) from mailjet.people"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert waiting.stderr is not None
        assert "is being written; waiting up to 60 s" in waiting.stderr.readline()
        explaining = subprocess.Popen(  # another reader names itself
            cli("--db", str(db), "explain", "ann@example.com"), stderr=subprocess.PIPE, text=True
        )
        assert explaining.stderr is not None
        assert "mailjet-elt explain: " in explaining.stderr.readline()
        release.touch()
        out, _ = waiting.communicate(timeout=60)
        assert waiting.returncode == 0 and out.splitlines()[2].strip() == "2"
        explaining.communicate(timeout=60)
    finally:
        release.touch()
        holder.wait(timeout=30)


def test_the_hints_run_as_printed(api: Api, tmp_path: Path) -> None:
    env = {
        "MAILJET__BASE_URL": api.base,
        "MAILJET__API_KEY": api.app.config.api_key,
        "MAILJET__API_SECRET": api.app.config.api_secret,
    }
    done = run_cli(["extract", "--resources", "contact_lists,contacts"], env, tmp_path)
    assert done.returncode == 0, done.stderr
    hint = next(line for line in done.stdout.splitlines() if line.startswith("Query it: "))
    words = shlex.split(hint.removeprefix("Query it: "))
    assert words[-1] == "select count(*) from mailjet.contacts"
    answered = subprocess.run(words, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False)
    assert answered.returncode == 0, answered.stderr
    assert answered.stdout.splitlines()[2].strip() == str(len(api.data("contact", Limit=1000)))
    # Only the lists extracted: the hint names a table this run loaded.
    done = run_cli(["--db", "lists.duckdb", "extract", "--resources", "contact_lists"], env, tmp_path)
    hint = next(line for line in done.stdout.splitlines() if line.startswith("Query it: "))
    words = shlex.split(hint.removeprefix("Query it: "))
    assert words[1] == "--db=lists.duckdb" and words[-1] == "select count(*) from mailjet.contact_lists"
    answered = subprocess.run(words, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False)
    assert answered.returncode == 0 and answered.stdout.splitlines()[2].strip() == "5", answered.stderr


@pytest.mark.parametrize(
    ("destination", "told"),
    [
        ("snowflake", 'Install it with: .venv/bin/pip install "dlt[snowflake]=='),
        ("postgress", "dlt has no destination of that name"),
    ],
)
def test_a_destination_that_cannot_be_used_says_why(destination: str, told: str, tmp_path: Path) -> None:
    done = subprocess.run(
        cli("--destination", destination, "sql", "select 1"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
        env={**os.environ, "DLT_DATA_DIR": str(tmp_path / "dlt")},  # dlt's own folders, kept here
    )
    assert done.returncode == 2, done.stderr
    assert told in done.stderr and "Traceback" not in done.stderr


def test_dot_tables_and_a_reader_that_stops_early(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_command(["--db", str(db), "sql", ".tables"]) == 0
    assert "mailjet  people" in capsys.readouterr().out
    # `mailjet-elt sql ... | head -1`: the reader goes away; the command ends quietly, as Unix tools do.
    reading = subprocess.Popen(
        cli("--db", str(db), "sql", "select * from range(300000)", "--format", "csv"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert reading.stdout is not None and reading.stderr is not None
    assert reading.stdout.readline().strip() == "range"
    reading.stdout.close()
    err = reading.stderr.read()
    assert reading.wait(timeout=60) == 141 and "Traceback" not in err, err


def test_answers_as_they_are(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Several statements: each answer, in turn.
    code, out, _ = sql(capsys, "--db", str(db), "sql", "select 1 as a; select 2 as b", "--format", "csv")
    assert (code, out) == (0, "a\n1\n\nb\n2\n")
    # JSON: no NaN (not JSON) and no column lost to a repeated name.
    code, out, _ = sql(
        capsys, "--db", str(db), "sql", "select 'nan'::double as x, 1 as id, 2 as id", "--format", "json"
    )
    assert json.loads(out) == [{"x": None, "id": 1, "id_2": 2}]
    # CSV keeps a value's line breaks (quoted); the table shows them escaped, on one line.
    text = "select 'two' || chr(10) || 'lines' as v"
    code, out, _ = sql(capsys, "--db", str(db), "sql", text, "--format", "csv")
    assert out == 'v\n"two\nlines"\n'
    code, out, _ = sql(capsys, "--db", str(db), "sql", text)
    assert out.splitlines()[2] == "two\\nlines"
    # A long answer: the table shows its first rows and says how to get them all.
    code, out, _ = sql(capsys, "--db", str(db), "sql", "select * from range(2500)")
    assert out.splitlines()[-1] == "(2,500 rows; the first 1,000 shown: --format csv or json prints them all)"
    # The database cannot be changed through it.
    code, _, err = sql(capsys, "--db", str(db), "sql", "delete from mailjet.people")
    assert code == 1 and "read-only" in err


def test_a_frequent_reader_never_makes_a_writer_fail(
    shared: Api, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "mj.duckdb"
    with monkeypatch.context() as setup:  # the first extract in-process: the writers under test are below
        for name, value in creds(shared).items():
            setup.setenv(name, value)
        extract_in_process(db=str(db))
    done = threading.Event()
    answered: list[str] = []
    refused: list[str] = []

    def read() -> None:
        # As often as it can: a reader that finds the file being written says so at once and reads again.
        while not done.is_set():
            try:
                run_sql(db=str(db), destination=None, query="select 1 as one", output="csv", lock_wait=0)
                answered.append("ok")
            except CommandError as exc:
                refused.append(str(exc))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        extracts = [run_cli(["--db", str(db), "extract", "--full-refresh"], creds(shared), tmp_path)]
        extracts.append(run_cli(["--db", str(db), "extract"], creds(shared), tmp_path))
    finally:
        done.set()
        reader.join(timeout=60)
    capsys.readouterr()
    for extract in extracts:
        assert extract.returncode == 0, extract.stderr
    assert answered  # the reader did read while the writer ran
    for text in refused:  # and, when it could not, said why and what to do
        assert "is being written by another process" in text and "--lock-wait" in text, text


def test_a_reader_reads_while_an_extract_reads_mailjet(api: Api, tmp_path: Path) -> None:
    """A writing command keeps the file open only while it works in it: while an extract waits for Mailjet
    (every answer slowed to 0.3 s here), a reader that will not wait at all gets in."""
    db = tmp_path / "mj.duckdb"
    with pytest.MonkeyPatch.context() as setup:
        for name, value in creds(api).items():
            setup.setenv(name, value)
        extract_in_process(db=str(db))
    api.admin("PUT", "faults", {"spec": "latency_ms=300"})
    before = int(api.admin("GET", "requests").json()["total"])
    writer = subprocess.Popen(
        cli("--db", str(db), "extract", "--full-refresh"),
        env={**os.environ, **creds(api)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )

    def made() -> int:
        return int(api.admin("GET", "requests").json()["total"])

    answered_at: int | None = None  # the requests made when the reader got its answer
    try:
        while answered_at is None and writer.poll() is None:
            if made() <= before:
                continue  # not reading Mailjet yet
            try:
                run_sql(db=str(db), destination=None, query="select 1", output="csv", lock_wait=0)
                answered_at = made()
            except CommandError:
                pass  # between two of its steps: try again
        assert answered_at is not None, "no read got in while the extract ran"
        deadline = time.monotonic() + 60
        while made() == answered_at and writer.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert made() > answered_at, "the read got in only once the extract had read Mailjet"
    finally:
        api.admin("PUT", "faults", {"spec": ""})  # the rest at full speed
        _, err = writer.communicate(timeout=120)
    assert writer.returncode == 0, err


@pytest.fixture
def elsewhere(tmp_path: Path) -> dict[str, str]:
    """What a statement of `sql` must not reach: another database, a file to write, a folder to export to,
    and a dump whose load.sql would write a file if it ran."""
    other = tmp_path / "other.duckdb"
    with duckdb.connect(str(other)) as con:
        con.execute("create table t as select 1 as x")
    dump = tmp_path / "dump"
    dump.mkdir()
    (dump / "schema.sql").write_text("", encoding="utf-8")
    (dump / "load.sql").write_text(f"copy (select 1) to '{tmp_path / 'out.csv'}';\n", encoding="utf-8")
    return {
        "db": str(tmp_path / "q.duckdb"),
        "other": str(other),
        "out": str(tmp_path / "out.csv"),
        "folder": str(tmp_path / "export"),
        "dump": str(dump),
    }


@pytest.mark.parametrize("allow_files", [False, True], ids=["default", "allow-files"])
@pytest.mark.parametrize(
    ("statement", "told"),
    [
        pytest.param("copy (select 42 as x) to '{db}'", "COPY is refused", id="copy-over-the-database"),
        pytest.param(
            "select 1 as a; copy (select 42 as x) to '{out}'", "COPY is refused", id="copy-to-a-file"
        ),
        pytest.param(
            "attach '{other}' as o (read_only false); insert into o.t values (2)",
            "ATTACH is refused",
            id="attach-writable",
        ),
        pytest.param("export database '{folder}'", "EXPORT DATABASE is refused", id="export-database"),
        pytest.param("install spatial", "INSTALL or LOAD is refused", id="install"),
        pytest.param("import database '{dump}'", "is refused", id="import-database"),
        pytest.param("explain analyze copy (select 1) to '{out}'", "is refused", id="explain-analyze-copy"),
        pytest.param("set enable_external_access = true", "Changing a setting is refused", id="unlock"),
    ],
)
def test_sql_writes_nothing_and_installs_nothing(
    statement: str,
    told: str,
    allow_files: bool,
    db: Path,
    elsewhere: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    flags = ["--allow-files"] if allow_files else []
    code, out, err = sql(capsys, "--db", str(db), "sql", statement.format(**elsewhere), *flags)
    assert (code, out) == (1, ""), err
    assert told in err and "only reads the database" in err
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    with duckdb.connect(elsewhere["other"], read_only=True) as con:
        assert con.sql("select x from t").fetchall() == [(1,)]
    assert not Path(elsewhere["out"]).exists() and not Path(elsewhere["folder"]).exists()
    code, out, _ = sql(
        capsys, "--db", str(db), "sql", "select count(*) as n from mailjet.people", "--format", "csv"
    )
    assert (code, out) == (0, "n\n2\n")  # the database is intact


def test_local_files_are_read_only_with_allow_files(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = tmp_path / "export.csv"
    export.write_text("email,name\nann@example.com,Ann\nbob@example.com,Bob\n", encoding="utf-8")
    query = f"select count(*) as n from read_csv('{export}')"
    code, out, err = sql(capsys, "--db", str(db), "sql", query, "--format", "csv")
    assert (code, out) == (1, "")
    assert f'Cannot access file "{export}"' in err and "add --allow-files" in err
    code, out, err = sql(capsys, "--db", str(db), "sql", query, "--format", "csv", "--allow-files")
    assert (code, out) == (0, "n\n2\n"), err
    # A file joined with the database's tables, as an analyst would.
    joined = f"select p.name from mailjet.people p join '{export}' e on lower(e.name) = lower(p.name)"
    code, out, err = sql(capsys, "--db", str(db), "sql", joined, "--allow-files")
    assert (code, out.splitlines()[-1]) == (0, "(0 rows)"), err


@pytest.mark.unit
def test_allow_files_is_for_the_duckdb_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = sql(capsys, "--destination", "postgres", "sql", "--allow-files", "select 1")
    assert code == 2
    assert "--allow-files is for the DuckDB file" in err and "own permissions" in err
