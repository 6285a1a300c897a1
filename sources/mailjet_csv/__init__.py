"""Contacts exported by hand from Mailjet (CSV files) as a dlt source writing the same tables as the
API extract: `contacts`, `contact_properties`, `list_recipients` (with a target list), `contact_lists`
(when the import creates the list) and `csv_rejections`.

A file is read header-first: the email column may be spelled any common way, a name column and a
subscription-status column are recognized, every other column is a contact property. Rows carry
`_source = 'csv:<file name>'`. Contacts known only from a file get a negative id derived from their
lowercased email, so importing the same file again changes nothing; `pipelines/identity.py` merges them
with API contacts of the same email."""

from __future__ import annotations

import dlt
import pyarrow as pa
from dlt.extract.resource import DltResource

from sources.mailjet import schema
from sources.mailjet_csv.rows import CSV_REJECTIONS, StagedFile, TargetList

__all__ = ["CSV_REJECTIONS", "StagedFile", "TargetList", "mailjet_csv_source"]


@dlt.source(name="mailjet", max_table_nesting=0)
def mailjet_csv_source(staged: StagedFile) -> list[DltResource]:
    """The rows of one staged CSV file (see `reader.stage` and `rows.StagedFile`), one resource per table.

    The source shares the `mailjet` schema with the API source: same tables, same column types."""
    resources = [
        schema.CONTACTS.resource(staged.contacts()),
        schema.CONTACT_PROPERTIES.resource(staged.contact_properties()),
        CSV_REJECTIONS.resource(staged.csv_rejections()),
        schema.LIST_RECIPIENTS.resource(staged.list_recipients()),
    ]
    target = staged.target
    if target is not None and target.is_new:
        resources.append(schema.CONTACT_LISTS.resource(iter([_new_list(target, staged)])))
    return resources


def _new_list(target: TargetList, staged: StagedFile) -> pa.Table:
    """The row of a list this import creates (Mailjet's other list fields are unknown here)."""
    return schema.CONTACT_LISTS.to_arrow(
        [{"ID": target.id, "Name": target.name}], staged.imported_at, staged.source
    )
