"""The `mailjet_csv.*` tables: what `import-csv` loads, one set of rows per file and list. Rows keep the
file's name, `--list` as given, the line they start on and the import's time; a later import of the
same file name with the same list replaces the earlier one's rows. Which rows the `mailjet` views
show, and how they meet the API's, is decided in SQL (`pipelines/models/views/`), never by rewriting these
tables."""

from __future__ import annotations

from sources.mailjet.schema import Column, Kind, Table

IMPORTED_AT_COLUMN = "imported_at"


def _csv_table(name: str, columns: list[tuple[str, Kind]]) -> Table:
    return Table(
        name,
        tuple(Column(n, n, kind) for n, kind in columns),
        primary_key=(),
        stamp=IMPORTED_AT_COLUMN,
    )


# `contact_id` is the ID the `mailjet` views give a contact known only from files: negative (Mailjet's
# IDs are positive) and derived from the lowercased email, so every file agrees on it.
CSV_CONTACTS = _csv_table(
    "contacts",
    [
        ("file", "text"),
        ("list_ref", "text"),
        ("line", "int"),
        ("contact_id", "id"),
        ("email", "text"),
        ("name", "text"),
    ],
)
CSV_CONTACT_PROPERTIES = _csv_table(
    "contact_properties",
    [
        ("file", "text"),
        ("list_ref", "text"),
        ("line", "int"),
        ("contact_id", "id"),
        ("email", "text"),
        ("name", "text"),
        ("value", "text"),
    ],
)
# `list_ref` is `--list` as given; `list_id` is that number, or an ID derived from the lowercased name;
# `list_name` the name (null for a number). `is_unsubscribed` is null where the file states no status.
CSV_LIST_RECIPIENTS = _csv_table(
    "list_recipients",
    [
        ("file", "text"),
        ("list_ref", "text"),
        ("line", "int"),
        ("id", "id"),
        ("contact_id", "id"),
        ("email", "text"),
        ("list_id", "id"),
        ("list_name", "text"),
        ("is_unsubscribed", "bool"),
    ],
)
CSV_REJECTIONS = _csv_table(
    "csv_rejections",
    [("file", "text"), ("list_ref", "text"), ("line", "int"), ("raw_row", "text"), ("reason", "text")],
)
# One row per file and list: the latest import of it and what it found (the list as in list_recipients).
CSV_IMPORTS = _csv_table(
    "imports",
    [
        ("file", "text"),
        ("list_ref", "text"),
        ("list_id", "id"),
        ("list_name", "text"),
        ("encoding", "text"),
        ("delimiter", "text"),
        ("rows_read", "int"),
        ("contacts", "int"),
        ("rejected", "int"),
    ],
)
CSV_TABLES = (CSV_CONTACTS, CSV_CONTACT_PROPERTIES, CSV_LIST_RECIPIENTS, CSV_REJECTIONS, CSV_IMPORTS)
# One set of rows per file name and `--list` (`list_ref`, null without it): an import replaces the rows of
# the earlier import of the same file name with the same list, in every table; other imports stay.
