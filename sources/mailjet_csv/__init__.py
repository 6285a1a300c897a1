"""Contacts exported by hand from Mailjet (CSV files) as a dlt source writing the `mailjet_csv` tables:
`contacts`, `contact_properties`, `list_recipients` (with a target list), `csv_rejections` and `imports`.

A file is read header-first: the email column may be spelled any common way, a name column and a
subscription-status column are recognized, every other column is a contact property. Every row keeps
its file's name, its line and the import's time; rows are appended, and the flow then drops the rows of
the file's earlier imports (`pipelines/import_csv.py`). How file rows meet the API's (one contact per
email, the API wins, the later import wins) is the business of the `mailjet` views, not of this source."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import dlt
import pyarrow as pa
from dlt.extract.resource import DltResource

from sources.mailjet_csv.rows import StagedFile, TargetList
from sources.mailjet_csv.tables import (
    CSV_CONTACT_PROPERTIES,
    CSV_CONTACTS,
    CSV_IMPORTS,
    CSV_LIST_RECIPIENTS,
    CSV_REJECTIONS,
)

__all__ = ["ImportRecord", "StagedFile", "TargetList", "mailjet_csv_source"]


@dataclass(frozen=True)
class ImportRecord:
    """The `imports` row of one file's import."""

    encoding: str
    delimiter: str
    rows_read: int
    contacts: int
    rejected: int


@dlt.source(name="mailjet_csv", max_table_nesting=0)
def mailjet_csv_source(staged: StagedFile, record: ImportRecord) -> list[DltResource]:
    """The rows of one staged CSV file (see `reader.stage` and `rows.StagedFile`), one resource per table,
    all appended."""
    return [
        CSV_CONTACTS.resource(staged.contacts(), "append"),
        CSV_CONTACT_PROPERTIES.resource(staged.contact_properties(), "append"),
        CSV_REJECTIONS.resource(staged.csv_rejections(), "append"),
        CSV_LIST_RECIPIENTS.resource(staged.list_recipients(), "append"),
        CSV_IMPORTS.resource(_import_row(staged, record), "append"),
    ]


def _import_row(staged: StagedFile, record: ImportRecord) -> Iterator[pa.Table]:
    row = {
        "file": staged.file_name,
        "list_ref": staged.target.ref if staged.target else None,
        "list_id": staged.target.id if staged.target else None,
        "list_name": staged.target.name if staged.target else None,
        "encoding": record.encoding,
        "delimiter": record.delimiter,
        "rows_read": record.rows_read,
        "contacts": record.contacts,
        "rejected": record.rejected,
    }
    yield CSV_IMPORTS.to_arrow([row], staged.imported_at)
