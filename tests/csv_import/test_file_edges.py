"""Paths that are not a readable CSV file (a directory, a pipe, a device, a socket, a missing or unreadable
file) and headers too long to be column names: each stops `import-csv` with exit 2 and a message naming
the file, the problem and the fix, before anything loads."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from tests.conftest import run_cli
from tests.csv_import.conftest import contacts, write

BIG_CELL = 20 * 1024 * 1024  # a 20 MiB header cell, as in the user report
# Writable only, even for root: the kernel checks /proc/sys permissions itself, with no root override.
ROOT_UNREADABLE = Path("/proc/sys/vm/compact_memory")

# A case builds its files under the test's directory and returns the `import-csv` arguments.
Make = Callable[[Path], list[str]]


def _unreadable(path: Path) -> bool:
    """Whether opening `path` for reading fails for lack of permission."""
    try:
        path.open("rb").close()
    except PermissionError:
        return True
    except OSError:
        return False
    return False


def _directory(tmp: Path) -> list[str]:
    (tmp / "exports").mkdir()
    write(tmp / "exports", "contacts.csv", "email\nann@example.com\n")
    return ["exports/"]


def _fifo(tmp: Path) -> list[str]:
    os.mkfifo(tmp / "pipe.csv")
    return ["pipe.csv"]


def _socket(tmp: Path) -> list[str]:
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(tmp / "s.csv"))  # the socket file stays after close
    server.close()
    return ["s.csv"]


def _missing(tmp: Path) -> list[str]:
    return ["nowhere.csv"]


def _dangling_link(tmp: Path) -> list[str]:
    (tmp / "link.csv").symlink_to(tmp / "moved-away.csv")
    return ["link.csv"]


def _through_a_file(tmp: Path) -> list[str]:
    write(tmp, "a.csv", "email\nann@example.com\n")
    return ["a.csv/b.csv"]


def _unreadable_file(tmp: Path) -> list[str]:
    path = write(tmp, "locked.csv", "email\nann@example.com\n")
    path.chmod(0)
    return ["locked.csv"] if _unreadable(path) else [str(ROOT_UNREADABLE)]


def _good_then_directory(tmp: Path) -> list[str]:
    write(tmp, "good.csv", "email\nann@example.com\n")
    (tmp / "exports").mkdir()
    return ["good.csv", "exports"]


def _header(tmp: Path, cell: str, quoted: bool = False) -> list[str]:
    value = f'"{cell}"' if quoted else cell
    write(tmp, "wide.csv", f"email,name,{value},city\nann@example.com,Ann,x,Paris\n")
    return ["wide.csv"]


def _can_test_permissions() -> bool:
    """A non-root user cannot read a mode-000 file; root can, but not a write-only /proc/sys file."""
    return os.geteuid() != 0 or (ROOT_UNREADABLE.is_file() and _unreadable(ROOT_UNREADABLE))


PERMISSION_CASES = (
    [
        pytest.param(
            _unreadable_file,
            ["cannot be read: permission denied", "import a copy you can read"],
            id="permission-denied",
        )
    ]
    if _can_test_permissions()
    else []
)


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        pytest.param(
            _directory,
            ["exports: is a directory; name the CSV files inside it, e.g. exports/*.csv"],
            id="directory",
        ),
        pytest.param(
            lambda tmp: ["/dev/null"],
            ["/dev/null: is not a regular file (a character device)", "save the export to a file"],
            id="dev-null",
        ),
        pytest.param(
            _fifo,
            ["pipe.csv: is not a regular file (a pipe)", "save the export to a file and import that"],
            id="fifo",
        ),
        pytest.param(_socket, ["s.csv: is not a regular file (a socket)"], id="socket"),
        pytest.param(_missing, ["nowhere.csv: no such file; check the path"], id="missing"),
        pytest.param(
            _dangling_link,
            ["link.csv: is a symbolic link to", "moved-away.csv, which does not exist"],
            id="dangling-symlink",
        ),
        pytest.param(
            _through_a_file,
            ["a.csv/b.csv: no such file", "a.csv is a file, not a directory"],
            id="path-through-a-file",
        ),
        *PERMISSION_CASES,
        pytest.param(
            _good_then_directory,
            ["exports: is a directory"],
            id="good-file-then-directory",
        ),
        pytest.param(
            lambda tmp: _header(tmp, "x" * BIG_CELL),
            [
                "wide.csv: column 3's header is at least 65,",
                "a column name may be at most 255 characters — is the first line really a header?",
            ],
            id="20mib-header-cell",
        ),
        pytest.param(
            lambda tmp: _header(tmp, "x" * BIG_CELL, quoted=True),
            ["wide.csv: column 3's header is at least 65,", "at most 255 characters"],
            id="20mib-quoted-header-cell",
        ),
        pytest.param(
            lambda tmp: _header(tmp, "Q" * 300),
            ["wide.csv: column 3's header is 300 characters long; a column name may be at most 255"],
            id="300-char-header-cell",
        ),
        pytest.param(
            lambda tmp: _header(tmp, "y" * 256),
            ["column 3's header is 256 characters long"],
            id="256-char-header-cell",
        ),
    ],
)
def test_unusable_path_exits_2_and_loads_nothing(tmp_path: Path, make: Make, expected: list[str]) -> None:
    args = make(tmp_path)
    db = tmp_path / "t.duckdb"
    result = run_cli(["--db", str(db), "import-csv", *args], {}, tmp_path)
    assert result.returncode == 2, result.stderr
    for text in expected:
        assert text in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert _loaded_contacts(db) == 0


def test_a_header_of_255_characters_loads(tmp_path: Path) -> None:
    args = _header(tmp_path, "z" * 255)
    result = run_cli(["--db", str(tmp_path / "t.duckdb"), "import-csv", *args], {}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert contacts(tmp_path / "t.duckdb") == {"ann@example.com": "Ann"}


def _loaded_contacts(db: Path) -> int:
    """Rows in mailjet.contacts, 0 when the database or the table does not exist."""
    if not db.exists():
        return 0
    with duckdb.connect(str(db), read_only=True) as con:
        exists = con.sql(
            "select count(*) from information_schema.tables "
            "where table_schema = 'mailjet' and table_name = 'contacts'"
        ).fetchone()
        if not exists or not exists[0]:
            return 0
        count = con.sql("select count(*) from mailjet.contacts").fetchone()
        return int(count[0]) if count else 0
