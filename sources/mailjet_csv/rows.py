"""From a staged file to the rows of the `mailjet_csv` tables, in SQL: values checked, duplicates found,
properties in long form, IDs derived from the email, rejections explained. Nothing here reads the
warehouse: a file's rows depend on the file (and `--list`) alone."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import duckdb
import pyarrow as pa

from sources.mailjet.schema import Table
from sources.mailjet_csv import settings
from sources.mailjet_csv.columns import assign
from sources.mailjet_csv.dialect import Dialect
from sources.mailjet_csv.reader import Parsed
from sources.mailjet_csv.tables import (
    CSV_CONTACT_PROPERTIES,
    CSV_CONTACTS,
    CSV_LIST_RECIPIENTS,
    CSV_REJECTIONS,
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
MAX_ID = 2**63 - 1  # IDs are BIGINT


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
    """The list `--list` names, as given: a number is a list ID (`name` None), anything else a name,
    with an ID derived from it. The `mailjet` views match either with Mailjet's lists."""

    ref: str
    id: int
    name: str | None

    @classmethod
    def parse(cls, ref: str) -> TargetList:
        """The list `ref` names; raises ValueError for an empty one."""
        ref = ref.strip()
        if not ref:
            raise ValueError("--list needs a list name or ID")
        if ref.isascii() and ref.isdigit() and int(ref) <= MAX_ID:
            return cls(ref, int(ref), None)
        return cls(ref, synthetic_id("list:" + ref.lower()), ref)


@dataclass(frozen=True)
class Counts:
    """Rows of one file by outcome."""

    valid: int
    contacts: int
    duplicates: int
    rejected: int


class StagedFile:
    """One parsed file in the staging database, and the table rows made from it."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        table: str,
        file_name: str,
        dialect: Dialect,
        parsed: Parsed,
        target: TargetList | None,
        imported_at: datetime,
    ) -> None:
        self.con = con
        self.table = table
        self.file_name = file_name
        self.header = dialect.header
        self.columns = assign(dialect.header)
        self.delimiter = dialect.delimiter
        self.parsed = parsed
        self.target = target
        self.imported_at = imported_at
        self._check()

    def _check(self) -> None:
        """Build `checked` (one row per staged row: normalized values and the first reason to reject it,
        if any; not its fields, which stay in the staged table) and `ranked` (the valid rows, each with
        the first valid line of its email). One scan of the staged rows, each email trimmed once and its
        pattern matched once; the duplicates found by one hash aggregate over `checked`, not by sorting."""
        c = self.columns
        name = f"nullif({_cell_sql(c.name)}, '')" if c.name is not None else "null::varchar"
        unsubscribed, status_given, status_reasons = self._status_sql()
        reasons = [*self._value_reasons(), *status_reasons, self._too_long_reason()]
        reason = "case " + " ".join(f"when {cond} then {text}" for cond, text in reasons) + " end"
        limit = settings.MAX_PROPERTY_VALUE_LENGTH
        # A value longer than the limit once trimmed is longer before: the values are trimmed (one list
        # function per row) only in the rare row that has such a value at all.
        over_limit = f"list_transform(fields, lambda x: length({_trimmed('x')}) > {limit})"
        any_over = f"list_bool_or(list_transform(fields, lambda x: length(x) > {limit}))"
        # The name and status cells, trimmed once (the checks read them several times).
        statuses = [index for index, _ in c.statuses] if self.target is not None else []
        used = sorted({*([c.name] if c.name is not None else []), *statuses})
        cells = "".join(f"{_clean(index)} as {_cell_sql(index)}, " for index in used)
        self.con.execute(
            f"""
            create or replace table checked as
            select line, email, lower(email) as email_key, {name} as name,
                   {unsubscribed} as is_unsubscribed, {status_given} as status_given,
                   {reason} as reason, refused
            from (
                select line, fields, refused, {_clean(c.email)} as email, {cells}
                       case when {any_over} then list_position({over_limit}, true) end as too_long
                from {self.table}
            )
            """
        )
        self.con.execute("create or replace table property_columns (position integer, name varchar)")
        if c.properties:
            self.con.executemany(
                "insert into property_columns values (?, ?)", [[i + 1, prop] for i, prop in c.properties]
            )
        # The first valid row of an email is kept. If any of the email's rows says unsubscribed — even a
        # row rejected for another reason — the contact is unsubscribed: a file never subscribes someone
        # it also says has left. The contact's ID is derived here once, not once per table row.
        self.con.execute(
            f"""
            create or replace table ranked as
            with emails as (
                select email_key, bool_or(is_unsubscribed) as is_unsubscribed,
                       min(line) filter (where reason is null and not refused) as first_line
                from checked group by email_key
            )
            select c.line, c.email, c.email_key, c.name, e.is_unsubscribed, c.status_given,
                   c.line = e.first_line as is_first, e.first_line,
                   {_id_sql("c.email_key")} as contact_id
            from checked c join emails e on e.email_key = c.email_key
            where c.reason is null and not c.refused
            """
        )

    def _value_reasons(self) -> list[tuple[str, str]]:
        """(condition, reason) in SQL for the email and name columns' values."""
        c = self.columns
        email = "email"  # trimmed once, in `_check`
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
                    f"length({_cell_sql(c.name)}) > {settings.MAX_NAME_LENGTH}",
                    f"'name longer than {settings.MAX_NAME_LENGTH} characters (' || "
                    f"length({_cell_sql(c.name)}) || ')'",
                )
            )
        return reasons

    def _status_sql(self) -> tuple[str, str, list[tuple[str, str]]]:
        """Whether a row says unsubscribed, whether it states a status at all, and (condition, reason) for
        an unknown status word, in SQL: unsubscribed when any status column says so."""
        says_unsubscribed: list[str] = []
        given: list[str] = []
        reasons: list[tuple[str, str]] = []
        for index, inverted in self.columns.statuses if self.target is not None else ():
            given.append(f"coalesce({_cell_sql(index)}, '') <> ''")
            word = f"lower({_cell_sql(index)})"
            yes, no = (
                (settings.UNSUBSCRIBED_WORDS, settings.SUBSCRIBED_WORDS)
                if inverted
                else (settings.SUBSCRIBED_WORDS, settings.UNSUBSCRIBED_WORDS)
            )
            verdict = (
                f"(case when {word} = '' or {word} in ({_words(yes)}) then false "
                f"when {word} in ({_words(no)}) then true end)"
            )
            says_unsubscribed.append(f"coalesce({verdict}, false)")
            reasons.append(
                (
                    f"{verdict} is null",
                    f"'unknown subscription status ' || {_quoted_sql(word)} || "
                    f"' in column {_escape(self.header[index].strip())} "
                    "(use subscribed/unsubscribed, true/false, yes/no or 1/0)'",
                )
            )
        return " or ".join(says_unsubscribed) or "false", " or ".join(given) or "false", reasons

    def _too_long_reason(self) -> tuple[str, str]:
        """(condition, reason) in SQL for the first over-long value, found over the row's list of fields
        (the file may be very wide)."""
        limit = settings.MAX_PROPERTY_VALUE_LENGTH
        headers = (
            "[" + ", ".join(_literal(h.strip() or f"column {i + 1}") for i, h in enumerate(self.header)) + "]"
        )
        return (
            "too_long > 0",
            f"'value of column ' || {headers}[too_long] || ' is ' || "
            f"format('{{:,}}', length({_trimmed('fields[too_long]')})) || "
            f"' characters; the limit is {limit:,}'",
        )

    def counts(self) -> Counts:
        valid, contacts = self.con.execute(
            "select count(*), count(*) filter (where is_first) from ranked"
        ).fetchall()[0]
        invalid = self.con.execute(
            "select count(*) from checked where reason is not null and not refused"
        ).fetchall()[0][0]
        duplicates = int(valid) - int(contacts)
        return Counts(
            valid=int(valid),
            contacts=int(contacts),
            duplicates=duplicates,
            rejected=len(self.parsed.rejected) + int(invalid) + duplicates,
        )

    def contacts(self) -> Iterator[pa.Table]:
        return self._arrow(
            CSV_CONTACTS,
            {"line": "line", "contact_id": "contact_id", "email": "email", "name": "name"},
            "ranked where is_first",
        )

    def contact_properties(self) -> Iterator[pa.Table]:
        if not self.columns.properties:
            return self._arrow(CSV_CONTACT_PROPERTIES, {}, "ranked where false")
        return self._arrow(
            CSV_CONTACT_PROPERTIES,
            {"line": "line", "contact_id": "contact_id", "email": "email", "name": "name", "value": "value"},
            f"({self._properties_sql()})",
        )

    def _properties_sql(self) -> str:
        """One row per (kept contact, property column) with a value: empty cells set no property, and
        TRUE/FALSE are written as Mailjet writes booleans."""
        cell = _trimmed("s.fields[p.position]")
        return (
            "select line, email, contact_id, name, "
            "case when lower(value) in ('true', 'false') then lower(value) else value end as value "
            f"from (select r.line, r.email, r.contact_id, p.name, {cell} as value "
            f"from ranked r join {self.table} s on s.line = r.line cross join property_columns p "
            "where r.is_first) "
            "where value <> ''"
        )

    def list_recipients(self) -> Iterator[pa.Table]:
        if self.target is None:  # no list: an empty batch, so the table exists for queries
            return self._arrow(CSV_LIST_RECIPIENTS, {}, "ranked where false")
        target = self.target
        # Unsubscribed when any row of the email says so; subscribed when the row kept says that (a
        # duplicate row's "subscribed" is not the file's word); null when it says nothing (then what an
        # earlier import of the list stated stands: a file without a status never re-subscribes anyone).
        state = "case when is_unsubscribed then true when status_given then false end"
        return self._arrow(
            CSV_LIST_RECIPIENTS,
            {
                "line": "line",
                "id": _id_sql(f"'{target.id}:' || email_key"),
                "contact_id": "contact_id",
                "email": "email",
                "list_id": str(target.id),
                "list_name": _literal(target.name) if target.name else "null",
                "is_unsubscribed": state,
            },
            "ranked where is_first",
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
            where k.reason is not null and not k.refused
            union all
            select r.line, {raw},
                   'duplicate email: same address as line ' || r.first_line || ' (that row is kept)'
            from ranked r join {self.table} s on s.line = r.line where not r.is_first
        )"""
        return self._arrow(CSV_REJECTIONS, {"line": "line", "raw_row": "raw_row", "reason": "reason"}, rows)

    def _raw_sql(self, alias: str) -> str:
        """A staged row written back as CSV (fields quoted where needed), cut to a readable length."""
        d = self.delimiter
        needs_quotes = _literal("[" + _re_escape(d) + '"\n\r]')
        quoted = (
            f"case when regexp_matches(x, {needs_quotes}) then '\"' || replace(x, '\"', '\"\"') || '\"' "
            "else x end"
        )
        row = f"array_to_string(list_transform({alias}.fields, lambda x: {quoted}), {_literal(d)})"
        limit = settings.MAX_RAW_ROW_CHARS
        return (
            f"case when length({row}) > {limit} then left({row}, {limit}) || '… (' || "
            f"format('{{:,}}', length({row})) || ' characters)' else {row} end"
        )

    def _arrow(self, table: Table, values: dict[str, str], source: str) -> Iterator[pa.Table]:
        """Rows of `table` selected from `source`, as Arrow tables of exactly the table's schema, each
        with the file's name and the import's time; at least one, maybe empty, so every table exists
        after an import (queries need not check)."""
        list_ref = _literal(self.target.ref) if self.target is not None else "null"
        values = {"file": _literal(self.file_name), "list_ref": list_ref, **values}
        select = [
            f"{values.get(col.name, 'null')}::{_DUCKDB_TYPES[col.kind]} as {col.name}"
            for col in table.columns
        ]
        select.append(f"{_literal(self.imported_at.isoformat())}::timestamptz as {table.stamp}")
        target = table.arrow_schema()
        # A cursor of its own: dlt reads the resources round-robin, so several results are open at once.
        result = self.con.cursor().sql(f"select {', '.join(select)} from {source}")
        empty = True
        for batch in result.to_arrow_reader(ARROW_BATCH_ROWS):
            empty = False
            yield pa.Table.from_batches([batch]).cast(target)
        if empty:
            yield target.empty_table()


# Spaces, tabs, line breaks, no-break spaces and stray byte-order marks around a value are not part of it.
_WHITESPACE_CODES = (32, 9, 10, 11, 12, 13, 160, 65279)
_WHITESPACE = " || ".join(f"chr({code})" for code in _WHITESPACE_CODES)
_WHITESPACE_SET = "(" + ", ".join(map(str, sorted(_WHITESPACE_CODES))) + ")"


def _trimmed(expr: str) -> str:
    """`expr` trimmed of `_WHITESPACE`. DuckDB's trim() with a set of characters costs four times a
    look at the first and last character: it runs only on a value that starts or ends with one of them
    (`ord` of an empty string is -1)."""
    return (
        f"(case when ord({expr}) in {_WHITESPACE_SET} or ord(right({expr}, 1)) in {_WHITESPACE_SET} "
        f"then trim({expr}, {_WHITESPACE}) else {expr} end)"
    )


def _clean(index: int) -> str:
    return _trimmed(f"fields[{index + 1}]")


def _cell_sql(index: int) -> str:
    """The column of `checked`'s inner select holding the trimmed cell `index` (name, status)."""
    return f"cell_{index + 1}"


def _escape(text: str) -> str:
    return text.replace("'", "''")


def _quoted_sql(expr: str) -> str:
    return f"'\"' || left({expr}, 100) || '\"'"


def _re_escape(ch: str) -> str:
    return "\\t" if ch == "\t" else ("\\" + ch if ch in "|" else ch)
