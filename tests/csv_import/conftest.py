"""Helpers for CSV import tests: write a file byte for byte, import it, read the tables back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from pipelines.import_csv import import_csv
from pipelines.report import text


def write(directory: Path, name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
    """A file holding exactly `content` (no newline translation)."""
    path = directory / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


def load(
    db: Path,
    *files: Path,
    list_ref: str | None = None,
    encoding: str | None = None,
    pad_short_rows: bool = False,
) -> str:
    """Import in-process, as `mailjet-elt --db DB import-csv FILES [--list L]` does."""
    return text(
        import_csv(
            db=str(db),
            files=[str(f) for f in files],
            list_ref=list_ref,
            encoding=encoding,
            progress=False,
            pad_short_rows=pad_short_rows,
        )
    )


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.sql(sql).fetchall()


def contacts(db: Path) -> dict[str, str | None]:
    """email -> name of every contact."""
    return {email: name for email, name in rows(db, "select email, name from mailjet.contacts")}


def properties(db: Path) -> dict[tuple[str, str], str]:
    """(email, property) -> value."""
    return {
        (email, name): value
        for email, name, value in rows(
            db,
            "select c.email, p.name, p.value from mailjet.contact_properties p "
            "join mailjet.contacts c on c.id = p.contact_id",
        )
    }


def memberships(db: Path) -> dict[str, bool]:
    """email -> is_unsubscribed of every list membership (tests use one list)."""
    return dict(
        rows(
            db,
            "select c.email, r.is_unsubscribed from mailjet.list_recipients r "
            "join mailjet.contacts c on c.id = r.contact_id",
        )
    )


def rejections(db: Path, file: str | None = None) -> list[tuple[int, str, str]]:
    """(line, raw row, reason) of a file's rejected rows, by line."""
    where = f"where file = '{file}'" if file else ""
    return [
        (line, raw, reason)
        for line, raw, reason in rows(
            db, f"select line, raw_row, reason from mailjet.csv_rejections {where} order by line"
        )
    ]
