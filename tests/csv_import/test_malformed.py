"""The malformed corpus: each file gives loaded rows plus rejections, or exit 2 with a message naming
the file (and the columns found); never a traceback, never a valid row lost."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from tests.conftest import run_cli
from tests.csv_import.conftest import contacts, load, properties, rejections, write

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(b"", ["the file is empty"], id="empty"),
        pytest.param(b"\n\r\n  \n", ["the file is empty"], id="only-blank-lines"),
        pytest.param(PNG, ["not a CSV file", "PNG image"], id="binary-png"),
        pytest.param(b"email,name\x00\x01\x02\x03" * 50, ["not a CSV file", "NUL bytes"], id="binary-nul"),
        pytest.param(b"PK\x03\x04\x14\x00\x06\x00", ["not a CSV file", "xlsx", "save it as CSV"], id="xlsx"),
        pytest.param(
            b"id;first name;city\n1;Ann;Paris\n",
            ["no email column", "'id', 'first name', 'city'"],
            id="no-email-column",
        ),
        pytest.param(
            b"ann@example.com,Ann\nbob@example.org,Bob\n",
            ["no email column", "'ann@example.com', 'Ann'", "looks like data"],
            id="no-header",
        ),
        pytest.param(b'{"contacts": [{"email": "a@b.co"}]}\n', ["no email column"], id="json"),
    ],
)
def test_unusable_file_exits_2_naming_file_and_columns(
    tmp_path: Path, content: bytes, expected: list[str]
) -> None:
    path = write(tmp_path, "export.csv", content)
    result = run_cli(["--db", str(tmp_path / "t.duckdb"), "import-csv", str(path)], {}, tmp_path)
    assert result.returncode == 2, result.stderr
    assert str(path) in result.stderr
    for text in expected:
        assert text in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_a_bad_file_stops_the_import_before_anything_loads(tmp_path: Path) -> None:
    good = write(tmp_path, "good.csv", "email\nann@example.com\n")
    bad = write(tmp_path, "bad.csv", "id\n1\n")
    result = run_cli(["--db", str(tmp_path / "t.duckdb"), "import-csv", str(good), str(bad)], {}, tmp_path)
    assert result.returncode == 2
    assert "bad.csv" in result.stderr
    assert not (tmp_path / "t.duckdb").exists()


def test_missing_file_exits_2(tmp_path: Path) -> None:
    result = run_cli(["--db", str(tmp_path / "t.duckdb"), "import-csv", "nowhere.csv"], {}, tmp_path)
    assert result.returncode == 2
    assert "nowhere.csv: no such file" in result.stderr


def test_header_only_loads_nothing_and_succeeds(tmp_path: Path) -> None:
    path = write(tmp_path, "header.csv", "email,name,country\r\n")
    result = run_cli(["--db", str(tmp_path / "t.duckdb"), "import-csv", str(path)], {}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "0 rows read" in result.stdout
    assert contacts(tmp_path / "t.duckdb") == {}
    assert rejections(tmp_path / "t.duckdb") == []


def test_ragged_rows_are_rejected_and_the_rest_loads(tmp_path: Path) -> None:
    content = (
        "email,name,city\n"
        "ann@example.com,Ann,Paris\n"
        "short@example.com,Short\n"
        "long@example.com,Long,Rome,extra\n"
        "pad@example.com,Pad,Oslo,,\n"  # trailing empty cells a spreadsheet adds: accepted
        "bob@example.org,Bob,Berlin\n"
    )
    db = tmp_path / "t.duckdb"
    load(db, write(tmp_path, "ragged.csv", content))
    assert set(contacts(db)) == {"ann@example.com", "pad@example.com", "bob@example.org"}
    assert rejections(db) == [
        (
            3,
            "short@example.com,Short",
            "2 fields, the header has 3; if the missing cells are empty last columns (as Excel writes them), "
            "use --pad-short-rows",
        ),
        (4, "long@example.com,Long,Rome,extra", "4 fields, the header has 3"),
    ]


def test_wrong_encoding_in_a_utf8_file_rejects_only_those_rows(tmp_path: Path) -> None:
    # A UTF-8 export with one row pasted in from a Windows-1252 file.
    content = (
        b"email,city\n"
        + "zoe@example.net,Zürich\n".encode()
        + "jose@example.es,Bogotá\n".encode("cp1252")
        + "ann@example.com,Besançon\n".encode()
    )
    db = tmp_path / "t.duckdb"
    summary = load(db, write(tmp_path, "mixed.csv", content))
    assert "some lines are not valid UTF-8" in summary
    assert properties(db) == {("zoe@example.net", "city"): "Zürich", ("ann@example.com", "city"): "Besançon"}
    assert [(line, reason) for line, _, reason in rejections(db)] == [
        (3, "bytes that are not valid utf-8 (line 3)")
    ]


def test_ten_megabyte_field_is_rejected_by_length(tmp_path: Path) -> None:
    huge = "x" * 10 * 1024 * 1024
    content = f'email,note\nann@example.com,ok\nbig@example.com,"{huge}"\nbob@example.org,fine\n'
    db = tmp_path / "t.duckdb"
    load(db, write(tmp_path, "huge.csv", content))
    assert properties(db) == {("ann@example.com", "note"): "ok", ("bob@example.org", "note"): "fine"}
    [(line, raw, reason)] = rejections(db)
    assert line == 3
    assert reason == "value of column note is 10,485,760 characters; the limit is 4,096"
    # The row as CSV again (quotes only where needed), cut short with its full length.
    assert raw.startswith("big@example.com,xxx") and raw.endswith("… (10,485,776 characters)")
    assert len(raw) < 2100


def test_invalid_and_overlong_values_are_rejected_with_reasons(tmp_path: Path) -> None:
    long_email = "a" * 250 + "@example.com"
    content = (
        "email,name\n"
        "ann@example.com,Ann\n"
        ",Nobody\n"
        "not-an-address,X\n"
        "two@@example.com,Y\n"
        "dots@example..com,Z\n"
        f"{long_email},Long\n"
        f"longname@example.com,{'n' * 300}\n"
        "  spaced@example.com  ,Spaced\n"
    )
    db = tmp_path / "t.duckdb"
    load(db, write(tmp_path, "invalid.csv", content))
    assert set(contacts(db)) == {"ann@example.com", "spaced@example.com"}
    assert [(line, reason) for line, _, reason in rejections(db)] == [
        (3, "empty email"),
        (4, 'invalid email "not-an-address"'),
        (5, 'invalid email "two@@example.com"'),
        (6, 'invalid email "dots@example..com"'),
        (7, "email longer than 255 characters (262)"),
        (8, "name longer than 255 characters (300)"),
    ]


def test_unclosed_quote_is_reported_with_the_lines_it_swallowed(tmp_path: Path) -> None:
    content = 'email,name\nann@example.com,Ann\nbob@example.org,"Bob\ncy@example.com,Cy\n'
    db = tmp_path / "t.duckdb"
    load(db, write(tmp_path, "open.csv", content))
    assert set(contacts(db)) == {"ann@example.com"}
    [(line, raw, reason)] = rejections(db)
    assert line == 3
    assert "never closed: lines 3-4" in reason
    assert raw == 'bob@example.org,"Bob\ncy@example.com,Cy'  # the file's own text


def test_line_numbers_count_physical_lines(tmp_path: Path) -> None:
    # Quoted newlines and blank lines: the reported line is where the row starts in a text editor.
    content = (
        'email,note\r\n\r\nann@example.com,"two\r\nlines"\r\n\r\n\r\n'
        'bad,x\r\nbob@example.org,"a\nb\nc"\r\nworse,y\r\n'
    )
    db = tmp_path / "t.duckdb"
    load(db, write(tmp_path, "lines.csv", content))
    assert [(line, raw) for line, raw, _ in rejections(db)] == [(7, "bad,x"), (11, "worse,y")]


def test_cli_import_prints_a_summary_and_where_rejections_are(tmp_path: Path) -> None:
    path = write(tmp_path, "export.csv", "Email;Plan\r\nann@example.com;pro\r\nbad-address;free\r\n")
    db = tmp_path / "t.duckdb"
    result = run_cli(["--db", str(db), "import-csv", str(path), "--list", "Customers"], {}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "export.csv: UTF-8, semicolon-separated; 2 rows read" in result.stdout
    assert "contacts 1 · property values 1 · memberships of list Customers 1" in result.stdout
    assert "rejected 1: 1 invalid -> mailjet.csv_rejections" in result.stdout
    assert "list 'Customers' is not in mailjet.contact_lists: created here" in result.stdout
    assert rejections(db) == [(3, "bad-address;free", 'invalid email "bad-address"')]


def test_short_rows_can_be_completed_with_empty_cells(tmp_path: Path) -> None:
    content = "email,name,notes,extra\nann@example.com,Ann,n,x\nu15@example.com,U15\n"
    db = tmp_path / "t.duckdb"
    summary = load(db, write(tmp_path, "excel.csv", content), pad_short_rows=True)
    assert set(contacts(db)) == {"ann@example.com", "u15@example.com"}
    assert rejections(db) == []
    assert "1 short rows completed with empty cells" in summary


def test_rows_the_parser_refuses_keep_their_text(tmp_path: Path) -> None:
    content = (
        'email,name,note\nann@example.com,Ann,ok\nc@example.com,"C" x,n\n'
        'bob@example.org,Bob,"two\nlines",extra\n'
    )
    db = tmp_path / "t.duckdb"
    load(db, write(tmp_path, "broken.csv", content))
    assert set(contacts(db)) == {"ann@example.com"}
    assert rejections(db) == [
        (3, 'c@example.com,"C" x,n', "malformed CSV (',' expected after '\"') on lines 3-3"),
        (4, 'bob@example.org,Bob,"two\nlines",extra', "4 fields, the header has 3"),
    ]


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [
        pytest.param("rot13", "'rot13' is not a text encoding", id="rot13"),
        pytest.param("base64", "'base64' is not a text encoding", id="base64"),
        pytest.param("no-such-codec", "'no-such-codec' is not a text encoding", id="unknown"),
        pytest.param("utf-16", "--encoding utf-16-le", id="utf16-without-bom"),
    ],
)
def test_encoding_that_cannot_read_text_exits_2(tmp_path: Path, encoding: str, expected: str) -> None:
    path = write(tmp_path, "e.csv", "email\nann@example.com\n")
    result = run_cli(
        ["--db", str(tmp_path / "t.duckdb"), "import-csv", str(path), "--encoding", encoding], {}, tmp_path
    )
    assert result.returncode == 2
    assert expected in result.stderr and "Traceback" not in result.stderr


def test_damaged_utf16_rejects_the_damaged_rows_only(tmp_path: Path) -> None:
    good = "email\tname\r\nann@example.com\tAnn\r\n".encode("utf-16")
    lone_surrogate = "bob@example.org\t".encode("utf-16-le") + b"\x00\xd8" + "\r\n".encode("utf-16-le")
    tail = "cy@example.com\tCy\r\n".encode("utf-16-le") + b"\x00"  # and an odd trailing byte
    db = tmp_path / "t.duckdb"
    load(db, write(tmp_path, "u16.csv", good + lone_surrogate + tail))
    assert set(contacts(db)) == {"ann@example.com", "cy@example.com"}
    assert [(line, reason) for line, _, reason in rejections(db)] == [
        (3, "bytes that are not valid utf-16 (line 3)"),
        (5, "bytes that are not valid utf-16 (line 5)"),  # the odd byte at the end
    ]


def test_locked_database_exits_1_with_a_message(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    path = write(tmp_path, "a.csv", "email\nann@example.com\n")
    load(db, path)
    with duckdb.connect(str(db)):  # another process holding the file
        result = run_cli(
            ["--db", str(db), "--lock-wait", "1", "import-csv", str(path), "--list", "L"], {}, tmp_path
        )
    assert result.returncode == 1, result.stderr
    assert f"the database {db} is open in another process" in result.stderr, result.stderr
    assert f"(PID {os.getpid()})" in result.stderr and "Traceback" not in result.stderr


def test_limits_apply_to_trimmed_values(tmp_path: Path) -> None:
    name = "n" * 250 + " " * 10
    value = "v" * 4090 + " " * 10
    db = tmp_path / "t.duckdb"
    load(db, write(tmp_path, "pad.csv", f'email,name,note\nann@example.com,"{name}","{value}"\n'))
    assert contacts(db) == {"ann@example.com": "n" * 250}
    assert properties(db) == {("ann@example.com", "note"): "v" * 4090}
