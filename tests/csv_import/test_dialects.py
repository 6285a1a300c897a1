"""What people really export and save: every dialect loads the same contacts and properties."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.csv_import.conftest import contacts, load, memberships, properties, rejections, rows, write

pytestmark = pytest.mark.unit

EXPECTED_CONTACTS = {"ann@example.com": "Ann Smith", "bob@example.org": "Bob", "zoe@example.net": None}
EXPECTED_PROPERTIES = {
    ("ann@example.com", "country"): "FR",
    ("ann@example.com", "newsletter"): "true",
    ("bob@example.org", "country"): "DE",
    ("bob@example.org", "newsletter"): "false",
    ("zoe@example.net", "country"): "IT",
}


def _file(delimiter: str, newline: str = "\n") -> str:
    d = delimiter
    lines = [
        f"Email{d}Name{d}Country{d}Newsletter",
        f"ann@example.com{d}Ann Smith{d}FR{d}TRUE",
        f"bob@example.org{d}Bob{d}DE{d}FALSE",
        f"zoe@example.net{d}{d}IT{d}",
    ]
    return newline.join(lines) + newline


@pytest.mark.parametrize(
    ("name", "content"),
    [
        pytest.param("comma.csv", _file(",").encode(), id="utf8-comma-lf"),
        pytest.param(
            "semicolon.csv", b"\xef\xbb\xbf" + _file(";", "\r\n").encode(), id="utf8-bom-semicolon-crlf"
        ),
        pytest.param("tab.csv", _file("\t", "\r\n").encode("utf-16"), id="utf16-bom-tab"),
        pytest.param("utf32.csv", _file(",").encode("utf-32"), id="utf32-bom"),
        pytest.param("cr.csv", _file(",", "\r").encode(), id="cr-only"),
        pytest.param("pipe.csv", _file("|").encode(), id="pipe"),
        pytest.param("trailing.csv", (_file(",") + "\n\n,,,\n\n").encode(), id="blank-trailing-lines"),
        pytest.param("nonewline.csv", _file(",").rstrip("\n").encode(), id="no-final-newline"),
    ],
)
def test_every_dialect_loads_the_same_rows(tmp_path: Path, name: str, content: bytes) -> None:
    db = tmp_path / "t.duckdb"
    load(db, write(tmp_path, name, content))
    assert contacts(db) == EXPECTED_CONTACTS
    assert properties(db) == EXPECTED_PROPERTIES
    assert rejections(db) == []
    assert {s for (s,) in rows(db, "select distinct _source from mailjet.contacts")} == {f"csv:{name}"}


def test_quoted_fields_keep_delimiters_quotes_and_newlines(tmp_path: Path) -> None:
    content = (
        "email,name,address,motto\r\n"
        'ann@example.com,"Smith, Ann","1 Main St\r\nApt 2","She said ""hi"""\r\n'
        'bob@example.org,Bob,"a;b|c\tb","multi\nline\nvalue"\r\n'
    )
    db = tmp_path / "t.duckdb"
    load(db, write(tmp_path, "quoted.csv", content))
    assert contacts(db) == {"ann@example.com": "Smith, Ann", "bob@example.org": "Bob"}
    assert properties(db) == {
        ("ann@example.com", "address"): "1 Main St\r\nApt 2",
        ("ann@example.com", "motto"): 'She said "hi"',
        ("bob@example.org", "address"): "a;b|c\tb",
        ("bob@example.org", "motto"): "multi\nline\nvalue",
    }


def test_legacy_single_byte_encoding_is_detected(tmp_path: Path) -> None:
    content = "Email;Nom;Ville\r\njosé@exemple.fr;José;Zürich\r\nfrançois@exemple.fr;François;Besançon €\r\n"
    db = tmp_path / "t.duckdb"
    summary = load(db, write(tmp_path, "excel.csv", content, encoding="cp1252"))
    assert "Windows-1252" in summary
    assert contacts(db) == {"josé@exemple.fr": None, "françois@exemple.fr": None}
    assert properties(db)[("françois@exemple.fr", "ville")] == "Besançon €"
    assert properties(db)[("josé@exemple.fr", "nom")] == "José"


def test_encoding_can_be_named(tmp_path: Path) -> None:
    content = "email,city\nana@example.pt,Évora\n"
    db = tmp_path / "t.duckdb"
    load(db, write(tmp_path, "latin9.csv", content, encoding="iso8859_15"), encoding="iso8859_15")
    assert properties(db) == {("ana@example.pt", "city"): "Évora"}


@pytest.mark.parametrize(
    "header",
    ["email", "Email", "EMAIL", "E-mail", "e_mail", "Email Address", "email_address", " Email "],
)
def test_email_column_in_any_spelling(tmp_path: Path, header: str) -> None:
    db = tmp_path / "t.duckdb"
    load(db, write(tmp_path, "h.csv", f"First Name,{header}\nAnn,ann@example.com\n"))
    assert contacts(db) == {"ann@example.com": None}
    assert properties(db) == {("ann@example.com", "first_name"): "Ann"}


def test_header_quirks_excel_sep_line_empty_rows_and_odd_cells(tmp_path: Path) -> None:
    # Excel's `sep=` line, an empty spreadsheet row, a header cell the strict parser would refuse, a header
    # cell with a line break, and a header cell that is empty.
    content = (
        'sep=;\r\n;;;;\r\nEmail;"Name" (full);"First\r\nName";;city\r\nann@example.com;Ann S;Ann;;Paris\r\n'
    )
    db = tmp_path / "t.duckdb"
    load(db, write(tmp_path, "quirks.csv", content))
    assert contacts(db) == {"ann@example.com": None}
    assert properties(db) == {
        ("ann@example.com", "name_(full)"): "Ann S",
        ("ann@example.com", "first_name"): "Ann",
        ("ann@example.com", "city"): "Paris",
    }
    assert rejections(db) == []


def test_invisible_whitespace_around_values_is_trimmed(tmp_path: Path) -> None:
    content = 'email,city,note\n"ann@example.com\t",\u00a0Paris\u00a0,"\r\n"\n"\nbob@example.org",\t,x\n'
    db = tmp_path / "t.duckdb"
    load(db, write(tmp_path, "spaces.csv", content))
    assert contacts(db) == {"ann@example.com": None, "bob@example.org": None}
    assert properties(db) == {("ann@example.com", "city"): "Paris", ("bob@example.org", "note"): "x"}


def test_whitespace_on_one_side_only_is_trimmed(tmp_path: Path) -> None:
    # Values are trimmed only when their first or last character is whitespace (a fast path): each
    # kind of it, on either side alone, and a cell of nothing else.
    content = (
        "email;name;status;city;flag;note\n"
        "\ufeffann@example.com;Ann\u00a0;unsubscribed\ufeff;\u00a0Paris;TRUE\x0b;\x0c \ufeff\n"
        '"bob@example.org\r";\tBob;\u00a0;Lyon\x0c;\ufefffalse;a b\n'
    )
    db = tmp_path / "t.duckdb"
    load(db, write(tmp_path, "sides.csv", content), list_ref="News")
    assert rows(db, "select email, name from mailjet.contacts order by email") == [
        ("ann@example.com", "Ann"),
        ("bob@example.org", "Bob"),
    ]
    assert memberships(db) == {"ann@example.com": True, "bob@example.org": False}
    assert properties(db) == {
        ("ann@example.com", "city"): "Paris",
        ("ann@example.com", "flag"): "true",
        ("bob@example.org", "city"): "Lyon",
        ("bob@example.org", "flag"): "false",
        ("bob@example.org", "note"): "a b",
    }
    assert rejections(db) == []


def test_a_very_wide_file_loads(tmp_path: Path) -> None:
    header = "email," + ",".join(f"p{i}" for i in range(800))
    row = "ann@example.com," + ",".join(str(i) for i in range(800))
    db = tmp_path / "t.duckdb"
    load(db, write(tmp_path, "wide.csv", f"{header}\n{row}\n"))
    assert len(properties(db)) == 800
    assert properties(db)[("ann@example.com", "p799")] == "799"


@pytest.mark.parametrize("name", ["UTF-16LE", "utf_16_le", "utf-16le"])
def test_encoding_names_in_any_spelling(tmp_path: Path, name: str) -> None:
    db = tmp_path / "t.duckdb"
    load(
        db,
        write(tmp_path, "u.csv", "email\tcity\r\nann@example.com\tÅre\r\n", encoding="utf-16-le"),
        encoding=name,
    )
    assert properties(db) == {("ann@example.com", "city"): "Åre"}
