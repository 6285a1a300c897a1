"""The two reads of `reader.stage` agree: a file read in batches stages the same rows, lines, refusals and
rejections as the row-by-row read, and a file the batches cannot report is read row by row."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

from sources.mailjet_csv import reader, settings
from sources.mailjet_csv.dialect import sniff
from tests.csv_import.conftest import write

pytestmark = pytest.mark.unit

_WIDE = "email," + ",".join(f"p{i}" for i in range(50))

# Files the batched read takes: every shape of row, line break and encoding it must number exactly.
BATCHED: dict[str, str | bytes] = {
    "plain": "email,name\nann@example.com,Ann\nbob@example.org,Bob\n",
    "crlf-quoted-breaks": 'email,note\r\n\r\nann@example.com,"two\r\nlines"\r\n\r\n\r\nbad,x\r\n'
    'bob@example.org,"a\nb\nc"\r\nworse,y\r\n',
    "lone-cr-in-quotes": 'email,note\nann@example.com,"a\rb"\n'
    'bob@example.org,"c\r\nd\n\re"\ncy@example.com,z\n',
    "cr-only": "email,name\rann@example.com,Ann\r\rbob@example.org,Bob\r",
    "blank-and-empty-rows": "email,a,b\n\n,,\n \t, ,\u3000\nann@example.com,1,2\n,,,\n\n\n"
    "bob@example.org,3,4\n\n",
    "ragged": "email,name,city\nann@example.com,Ann,Paris\nshort@example.com,Short\n"
    'long@example.com,"Lo\nng",Rome,extra\npad@example.com,Pad,Oslo,,\n,,,,x\nbob@example.org,Bob,Berlin\n',
    "sep-line-and-header-quirks": 'sep=;\r\n;;;;\r\nEmail;"Name" (full);"First\r\nName";;city\r\n'
    "ann@example.com;Ann S;Ann;;Paris\r\n",
    "no-final-newline": "email,name\nann@example.com,Ann\nbob@example.org,Bob",
    "quotes-and-delimiters": 'email;name\n"ann@example.com";"Smith; ""Ann"""\nbob@example.org;Bo"b\n',
    "whitespace-only-row-with-nbsp": "email,a\n\u00a0,\u2028\nann@example.com,\u00a0x\n",
    "wide": _WIDE + "\n" + "ann@example.com," + ",".join(str(i) for i in range(50)) + "\n",
}
BATCHED_BYTES: dict[str, str | bytes] = {
    "bom-utf8": b"\xef\xbb\xbf" + "Email;Plan\r\nzoë@example.com;pro\r\n\r\nbad;\r\n".encode(),
    "utf16-bom-tab": "email\tname\r\nann@example.com\tÅsa\r\n\r\nbob@example.org\tB\r\n".encode("utf-16"),
    "utf32-bom": "email,name\nann@example.com,Ann\n".encode("utf-32"),
    "cp1252": "Email;Nom\r\njosé@exemple.fr;José €\r\n".encode("cp1252"),
}
# Files only the row-by-row read can report: the batches must give way to it.
ROW_BY_ROW: dict[str, str | bytes] = {
    "unclosed-quote": 'email,name\nann@example.com,Ann\nbob@example.org,"Bob\ncy@example.com,Cy\n',
    "text-after-a-quote": 'email,name,note\nann@example.com,Ann,ok\nc@example.com,"C" x,n\n'
    "d@example.com,D,n\n",
    "damaged-utf8": b"email,city\n"
    + "zoe@example.net,Z\xfcrich\n".encode()
    + "jo@example.es,Bogot\xe1\n".encode("cp1252"),
    "damaged-utf16": "email\tname\r\nann@example.com\tAnn\r\n".encode("utf-16")
    + "bob@example.org\t".encode("utf-16-le")
    + b"\x00\xd8"
    + "\r\n".encode("utf-16-le"),
    "replacement-character-in-utf16": "email\tname\r\nann@example.com\tA\ufffd\r\n".encode("utf-16"),
}


def _staged(path: Path, how: str, pad: bool = False) -> tuple[list[tuple[object, ...]], reader.Parsed]:
    dialect = sniff(path)
    with duckdb.connect() as con:
        parsed = getattr(reader, how)(con, path, dialect, "staged", None, pad)
        rows = con.sql("select line, fields, refused from staged order by line").fetchall()
    return rows, parsed


def _file(tmp_path: Path, name: str, content: str | bytes) -> Path:
    return write(tmp_path, f"{name}.csv", content)


@pytest.mark.parametrize("pad", [False, True], ids=["strict-width", "pad-short-rows"])
@pytest.mark.parametrize("name", [*BATCHED, *BATCHED_BYTES])
def test_batches_stage_what_rows_stage(tmp_path: Path, name: str, pad: bool) -> None:
    path = _file(tmp_path, name, {**BATCHED, **BATCHED_BYTES}[name])
    batched, by_batch = _staged(path, "_stage_batches", pad)
    one_by_one, by_row = _staged(path, "_stage_rows", pad)
    assert batched == one_by_one
    assert (by_batch.rows, by_batch.padded) == (by_row.rows, by_row.padded)
    assert by_batch.rejected == by_row.rejected


def test_batches_number_lines_across_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "BATCH_ROWS", 3)
    content = str(BATCHED["crlf-quoted-breaks"]) + 'x@example.com,"1\r\n2"\r\n\r\n' * 5 + "short\r\n"
    path = _file(tmp_path, "many", content)
    assert _staged(path, "_stage_batches")[0] == _staged(path, "_stage_rows")[0]


@pytest.mark.parametrize("name", ROW_BY_ROW)
def test_what_batches_cannot_report_is_read_row_by_row(tmp_path: Path, name: str) -> None:
    path = _file(tmp_path, name, ROW_BY_ROW[name])
    if "not valid" not in sniff(path).encoding_note:
        with pytest.raises((reader._RowByRow, UnicodeError, csv.Error)):
            _staged(path, "_stage_batches")
    dialect = sniff(path)
    with duckdb.connect() as con:
        parsed = reader.stage(con, path, dialect, "staged")
        rows = con.sql("select line, fields, refused from staged order by line").fetchall()
    one_by_one, by_row = _staged(path, "_stage_rows")
    assert rows == one_by_one and parsed.rejected == by_row.rejected
    assert parsed.rejected  # each of these files has a row to report


def test_spaces_are_what_str_strip_removes() -> None:
    spaces = "".join(chr(c) for c in range(0x110000) if chr(c).isspace())
    assert spaces == reader.SPACES
