"""From a staged file to the rows of the `mailjet` tables, in SQL: values checked, duplicates found,
properties unpivoted, identities derived from the email, rejections explained."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import duckdb
import pyarrow as pa

from sources.mailjet import schema
from sources.mailjet.schema import EXTRACTED_AT_COLUMN, SOURCE_COLUMN, Column, Table
from sources.mailjet_csv import settings
from sources.mailjet_csv.columns import Columns
from sources.mailjet_csv.reader import Parsed, column_names

CSV_REJECTIONS = Table(
    "csv_rejections",
    (
        Column("file", "file", "text"),
        Column("line", "line", "int"),
        Column("raw_row", "raw_row", "text"),
        Column("reason", "reason", "text"),
    ),
    ("file", "line"),
)
_DUCKDB_TYPES = {
    "id": "bigint",
    "int": "bigint",
    "float": "double",
    "bool": "boolean",
    "text": "varchar",
    "ts": "timestamptz",
    "unix": "timestamptz",
}
ARROW_BATCH_ROWS = 100_000


def synthetic_id(key: str) -> int:
    """The id of something known only from a CSV file: negative (Mailjet's ids are positive), derived
    from its key so that importing the same file again gives the same ids. Same as `_id_sql`."""
    return -1 - int(hashlib.md5(key.encode()).hexdigest()[:15], 16)


def _id_sql(key_sql: str) -> str:
    return f"(-1 - ('0x' || left(md5({key_sql}), 15))::bigint)"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _words(words: frozenset[str]) -> str:
    return ", ".join(_literal(w) for w in sorted(words))


@dataclass(frozen=True)
class TargetList:
    """The list `--list` names: an existing one, or one this import creates (`is_new`)."""

    id: int
    name: str | None
    is_new: bool


@dataclass(frozen=True)
class Counts:
    """Rows of one file by outcome."""

    valid: int
    contacts: int
    duplicates: int
    rejected: int
    properties: int


class StagedFile:
    """One parsed file in the staging database, and the table rows made from it."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        table: str,
        file_name: str,
        header: tuple[str, ...],
        columns: Columns,
        delimiter: str,
        parsed: Parsed,
        target: TargetList | None,
        imported_at: datetime,
    ) -> None:
        self.con = con
        self.table = table
        self.file_name = file_name
        self.header = header
        self.columns = columns
        self.delimiter = delimiter
        self.parsed = parsed
        self.target = target
        self.imported_at = imported_at
        self.source = f"csv:{file_name}"
        self._check()

    def _check(self) -> None:
        """Build `checked` (one row per staged row: normalized values and the first reason to reject it,
        if any) and `kept` (valid rows, the first of each email)."""
        c = self.columns
        email = f"trim(c{c.email})"
        name = f"nullif(trim(c{c.name}), '')" if c.name is not None else "null::varchar"
        status = f"lower(trim(c{c.status}))" if c.status is not None and self.target is not None else "''"
        yes, no = (
            (settings.UNSUBSCRIBED_WORDS, settings.SUBSCRIBED_WORDS)
            if c.status_inverted
            else (settings.SUBSCRIBED_WORDS, settings.UNSUBSCRIBED_WORDS)
        )
        unsubscribed = (
            f"case when {status} = '' or {status} in ({_words(yes)}) then false "
            f"when {status} in ({_words(no)}) then true end"
        )
        reasons = [
            (f"{email} = ''", "'empty email'"),
            (
                f"length({email}) > {settings.MAX_EMAIL_LENGTH}",
                f"'email longer than {settings.MAX_EMAIL_LENGTH} characters (' || length({email}) || ')'",
            ),
            (
                f"not regexp_full_match({email}, {_literal(settings.EMAIL_PATTERN)}) "
                f"or contains({email}, '..')",
                f"'invalid email ' || {_quoted_sql(email)}",
            ),
        ]
        if c.name is not None:
            reasons.append(
                (
                    f"length(c{c.name}) > {settings.MAX_NAME_LENGTH}",
                    f"'name longer than {settings.MAX_NAME_LENGTH} characters (' || length(c{c.name}) || ')'",
                )
            )
        if c.status is not None and self.target is not None:
            header = self.header[c.status].strip()
            reasons.append(
                (
                    f"({unsubscribed}) is null",
                    f"'unknown subscription status ' || {_quoted_sql(status)} || "
                    f"' in column {_escape(header)} "
                    f"(use subscribed/unsubscribed, true/false, yes/no or 1/0)'",
                )
            )
        for index, prop in c.properties:
            reasons.append(
                (
                    f"length(c{index}) > {settings.MAX_PROPERTY_VALUE_LENGTH}",
                    f"'value of column {_escape(self.header[index].strip() or prop)} is ' || "
                    f"format('{{:,}}', length(c{index})) || ' characters; the limit is "
                    f"{settings.MAX_PROPERTY_VALUE_LENGTH:,}'",
                )
            )
        reason = "case " + " ".join(f"when {cond} then {text}" for cond, text in reasons) + " end"
        props = ", ".join(
            f"case when lower(trim(c{i})) in ('true', 'false') then lower(trim(c{i})) "
            f"else nullif(trim(c{i}), '') end as {_ident('p:' + prop)}"
            for i, prop in c.properties
        )
        self.con.execute(
            f"""
            create or replace table checked as
            select line, {email} as email, lower({email}) as email_key, {name} as name,
                   {unsubscribed} as is_unsubscribed, {reason} as reason{", " + props if props else ""}
            from {self.table}
            """
        )
        self.con.execute(
            """
            create or replace table ranked as
            select *, row_number() over (partition by email_key order by line) as occurrence,
                   min(line) over (partition by email_key) as first_line
            from checked where reason is null
            """
        )

    def counts(self) -> Counts:
        valid, contacts = self.con.execute(
            "select count(*), count(*) filter (where occurrence = 1) from ranked"
        ).fetchall()[0]
        invalid = self.con.execute("select count(*) from checked where reason is not null").fetchall()[0][0]
        properties = self._count_properties() if self.columns.properties else 0
        duplicates = int(valid) - int(contacts)
        return Counts(
            valid=int(valid),
            contacts=int(contacts),
            duplicates=duplicates,
            rejected=len(self.parsed.rejected) + int(invalid) + duplicates,
            properties=properties,
        )

    def _count_properties(self) -> int:
        return int(self.con.execute(f"select count(*) from ({self._properties_sql()})").fetchall()[0][0])

    def contacts(self) -> Iterator[pa.Table]:
        return self._arrow(
            schema.CONTACTS,
            {"id": _id_sql("email_key"), "email": "email", "name": "name"},
            "ranked where occurrence = 1",
        )

    def contact_properties(self) -> Iterator[pa.Table]:
        if not self.columns.properties:
            return self._arrow(schema.CONTACT_PROPERTIES, {}, "ranked where false")
        return self._arrow(
            schema.CONTACT_PROPERTIES,
            {"contact_id": "contact_id", "name": "name", "value": "value"},
            f"({self._properties_sql()})",
        )

    def _properties_sql(self) -> str:
        props = ", ".join(_ident("p:" + prop) for _, prop in self.columns.properties)
        return (
            f"select {_id_sql('email_key')} as contact_id, substr(property, 3) as name, "
            "property_value as value "
            f"from (unpivot (select * from ranked where occurrence = 1) on {props} "
            "into name property value property_value)"
        )

    def list_recipients(self) -> Iterator[pa.Table]:
        if self.target is None:  # no list: an empty batch, so the table exists for queries
            return self._arrow(schema.LIST_RECIPIENTS, {}, "ranked where false")
        list_id = self.target.id
        return self._arrow(
            schema.LIST_RECIPIENTS,
            {
                "id": _id_sql(f"'{list_id}:' || email_key"),
                "contact_id": _id_sql("email_key"),
                "list_id": str(list_id),
                "list_name": _literal(self.target.name) if self.target.name else "null",
                "is_unsubscribed": "is_unsubscribed",
            },
            "ranked where occurrence = 1",
        )

    def csv_rejections(self) -> Iterator[pa.Table]:
        parsed = pa.table(
            {
                "line": pa.array([r[0] for r in self.parsed.rejected], pa.int64()),
                "raw_row": pa.array([r[1] for r in self.parsed.rejected], pa.string()),
                "reason": pa.array([r[2] for r in self.parsed.rejected], pa.string()),
            }
        )
        self.con.register("parse_rejects_batch", parsed)
        self.con.execute("create or replace table parse_rejects as select * from parse_rejects_batch")
        self.con.unregister("parse_rejects_batch")
        raw = self._raw_sql("s")
        rows = f"""(
            select line, raw_row, reason from parse_rejects
            union all
            select k.line, {raw}, k.reason from checked k join {self.table} s using (line)
            where k.reason is not null
            union all
            select r.line, {raw},
                   'duplicate email: same address as line ' || r.first_line || ' (that row is kept)'
            from ranked r join {self.table} s using (line) where r.occurrence > 1
        )"""
        return self._arrow(
            CSV_REJECTIONS,
            {"file": _literal(self.file_name), "line": "line", "raw_row": "raw_row", "reason": "reason"},
            rows,
        )

    def _raw_sql(self, alias: str) -> str:
        """A staged row written back as CSV (fields quoted where needed), cut to a readable length."""
        d = self.delimiter
        needs_quotes = _literal("[" + _re_escape(d) + '"\n\r]')
        quoted = [
            f"case when regexp_matches({alias}.{n}, {needs_quotes}) "
            f"then '\"' || replace({alias}.{n}, '\"', '\"\"') || '\"' else {alias}.{n} end"
            for n in column_names(self.columns.count)
        ]
        row = f"concat_ws({_literal(d)}, {', '.join(quoted)})"
        limit = settings.MAX_RAW_ROW_CHARS
        return (
            f"case when length({row}) > {limit} then left({row}, {limit}) || '… (' || "
            f"format('{{:,}}', length({row})) || ' characters)' else {row} end"
        )

    def _arrow(self, table: Table, values: dict[str, str], source: str) -> Iterator[pa.Table]:
        """Rows of `table` selected from `source`, as Arrow tables of exactly the table's schema; at least
        one, maybe empty, so every table exists after an import (queries need not check)."""
        select = [
            f"{values.get(col.name, 'null')}::{_DUCKDB_TYPES[col.kind]} as {col.name}"
            for col in table.columns
        ]
        select.append(f"{_literal(self.source)} as {SOURCE_COLUMN}")
        select.append(f"{_literal(self.imported_at.isoformat())}::timestamptz as {EXTRACTED_AT_COLUMN}")
        target = table.arrow_schema()
        # A cursor of its own: dlt reads the resources round-robin, so several results are open at once.
        result = self.con.cursor().sql(f"select {', '.join(select)} from {source}")
        empty = True
        for batch in result.to_arrow_reader(ARROW_BATCH_ROWS):
            empty = False
            yield pa.Table.from_batches([batch]).cast(target)
        if empty:
            yield target.empty_table()


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _escape(text: str) -> str:
    return text.replace("'", "''")


def _quoted_sql(expr: str) -> str:
    return f"'\"' || left({expr}, 100) || '\"'"


def _re_escape(ch: str) -> str:
    return "\\t" if ch == "\t" else ("\\" + ch if ch in "|" else ch)
