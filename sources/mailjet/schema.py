"""The `mailjet_api.*` tables: which Mailjet field lands in which typed column, and the conversion of a
page of Mailjet rows into an Arrow table of that shape (so dlt loads it without normalizing row by row)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any, Literal

import dlt
from dlt.common.data_types.typing import TDataType
from dlt.common.schema.typing import TColumnSchema
from dlt.extract.resource import DltResource

if TYPE_CHECKING:  # imported when a page is converted: `check` and `api`, which convert none, start faster
    import pyarrow as pa

Kind = Literal["id", "int", "float", "bool", "text", "ts", "unix"]


@cache
def arrow_types() -> dict[Kind, pa.DataType]:
    """The Arrow type of each kind of column."""
    import pyarrow as pa

    return {
        "id": pa.int64(),
        "int": pa.int64(),
        "float": pa.float64(),
        "bool": pa.bool_(),
        "text": pa.string(),
        "ts": pa.timestamp("us", tz="UTC"),
        "unix": pa.timestamp("us", tz="UTC"),
    }


DLT_TYPES: dict[Kind, TDataType] = {
    "id": "bigint",
    "int": "bigint",
    "float": "double",
    "bool": "bool",
    "text": "text",
    "ts": "timestamp",
    "unix": "timestamp",
}
EXTRACTED_AT_COLUMN = "_extracted_at"
# SQL types of each kind, understood alike by DuckDB and Postgres (the `mailjet` views are portable).
SQL_TYPES: dict[Kind, str] = {
    "id": "bigint",
    "int": "bigint",
    "float": "double precision",
    "bool": "boolean",
    "text": "varchar",
    "ts": "timestamp with time zone",
    "unix": "timestamp with time zone",
}


@dataclass(frozen=True)
class Column:
    """One column: its name in the table, the Mailjet field (a `/`-path into nested objects; `A|B`: the
    first of several spellings the row has) and its kind. `ts` fields arrive as RFC 3339 strings (`""` =
    unset), `unix` ones as seconds since the epoch."""

    name: str
    field: str
    kind: Kind

    @cached_property
    def _paths(self) -> tuple[tuple[str, ...], ...]:
        return tuple(tuple(spelling.split("/")) for spelling in self.field.split("|"))

    def read(self, row: dict[str, Any]) -> Any:
        """The raw value of this column's field in one Mailjet row (None when absent)."""
        for path in self._paths:
            value: Any = row
            for part in path:
                value = value.get(part) if isinstance(value, dict) else None
            if value is not None:
                return value
        return None


@dataclass(frozen=True)
class Table:
    """A table of the `mailjet_api` dataset and the Mailjet fields it is made of. Every row also carries
    `stamp` (`_extracted_at`: the run that last read it)."""

    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    cursor: str | None = None  # the timestamp column incremental loading follows
    stamp: str = EXTRACTED_AT_COLUMN
    # Key columns a row may lack (Mailjet sends no value), with the value that stands in for none: a key
    # part is never null, and a row without it still loads, once.
    key_fill: tuple[tuple[str, Any], ...] = ()

    def with_key_fill(self, **fills: Any) -> Table:
        """This table with stand-ins for key columns a row may lack."""
        return replace(self, key_fill=tuple(fills.items()))

    def column_hints(self) -> dict[str, TColumnSchema]:
        """dlt column hints: every column typed, keys and the stamp not null."""
        hints: dict[str, TColumnSchema] = {
            c.name: {"data_type": DLT_TYPES[c.kind], "nullable": c.name not in self.primary_key}
            for c in self.columns
        }
        hints[self.stamp] = {"data_type": "timestamp", "nullable": False}
        return hints

    def sql_columns(self) -> dict[str, str]:
        """Column name -> portable SQL type, the stamp included, in table order."""
        types = {c.name: SQL_TYPES[c.kind] for c in self.columns}
        types[self.stamp] = SQL_TYPES["ts"]
        return types

    def resource(
        self,
        data: Callable[..., Iterator[pa.Table]] | Iterator[pa.Table],
        write_disposition: Literal["merge", "replace", "append"] = "merge",
    ) -> DltResource:
        """The dlt resource loading this table: named after it, every column typed; merged on its key
        by default, or replaced as a whole (`replace`: dlt swaps the table's rows for the run's in one
        transaction), or appended."""
        return dlt.resource(
            data,
            name=self.name,
            primary_key=list(self.primary_key),
            write_disposition=write_disposition,
            columns=self.column_hints(),
        )

    def arrow_schema(self) -> pa.Schema:
        """The Arrow schema of a converted page."""
        import pyarrow as pa

        fields = [
            pa.field(c.name, arrow_types()[c.kind], nullable=c.name not in self.primary_key)
            for c in self.columns
        ]
        fields.append(pa.field(self.stamp, pa.timestamp("us", tz="UTC"), nullable=False))
        return pa.schema(fields)

    def to_arrow(self, rows: Sequence[dict[str, Any]], extracted_at: datetime) -> pa.Table:
        """A page of Mailjet rows as an Arrow table: `""` dates as null, IDs as int64, strings as UTC
        timestamps. Raises ValueError naming the column when Mailjet sent a value of another type."""
        import pyarrow as pa
        import pyarrow.compute as pc

        arrays = [_convert(c, [c.read(r) for r in rows]) for c in self.columns]
        for name, fill in self.key_fill:
            i = next(i for i, c in enumerate(self.columns) if c.name == name)
            arrays[i] = pc.fill_null(arrays[i], pa.scalar(fill, arrays[i].type))
        arrays.append(pa.array([extracted_at] * len(rows), pa.timestamp("us", tz="UTC")))
        return pa.Table.from_arrays(arrays, schema=self.arrow_schema())


def _convert(column: Column, values: list[Any]) -> pa.Array:
    import pyarrow as pa
    import pyarrow.compute as pc

    target = arrow_types()[column.kind]
    try:
        if column.kind == "ts":
            text = pa.array([v or None for v in values], pa.string())
            return pc.cast(pc.replace_substring(text, "Z", "+00:00"), target)
        if column.kind == "unix":
            # An integer cast to a timestamp counts in the target's unit: read them as seconds first.
            seconds = pa.array([v or None for v in values], pa.int64()).cast(pa.timestamp("s", tz="UTC"))
            return pc.cast(seconds, target)
        if column.kind in ("id", "int"):
            try:  # JSON integers (and nulls), converted in one go
                return pa.array(values, pa.int64())
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
                # Numbers sent as strings (a campaign's Status is a string in the Go SDK), `""` for none.
                return pa.array([_integer(v) for v in values], pa.int64())
        if column.kind == "float":
            return pa.array([float(v) if v not in (None, "") else None for v in values], pa.float64())
        if column.kind == "text":
            return pa.array([_text(v) for v in values], pa.string())
        return pa.array(values, target)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError, ValueError) as exc:
        raise ValueError(f"column {column.name} (Mailjet field {column.field}): {exc}") from exc


def _integer(value: Any) -> int | None:
    """An integer column's value: JSON integers as they are, numeric strings read (`"2"`, `"2.0"`); a
    fraction or an object is refused (ValueError/TypeError), never rounded or guessed."""
    if value is None or value == "":
        return None
    if isinstance(value, (dict, list)):
        raise TypeError(f"expected an integer, got {value!r}")
    if isinstance(value, str):
        text = value.strip()
        if not text.isascii():
            raise ValueError(f"expected an integer, got {value!r}")
        try:
            number = Decimal(text)  # exact: "2034075536371630429.0" stays that number
        except InvalidOperation:
            raise ValueError(f"expected an integer, got {value!r}") from None
    else:
        number = Decimal(value) if isinstance(value, float) else Decimal(int(value))
    if not number.is_finite() or number != number.to_integral_value():
        raise ValueError(f"expected an integer, got {value!r}")
    return int(number)


def _text(value: Any) -> str | None:
    """A text column's value: strings as they are, objects and lists as compact JSON (sorted keys, so the
    same object always reads the same), other scalars as their text."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"))  # objects, lists, true, 1.5


def _table(
    name: str,
    fields: Sequence[tuple[str, Kind]],
    primary_key: tuple[str, ...] = ("id",),
    cursor: str | None = None,
    rename: dict[str, str] | None = None,
) -> Table:
    renames = rename or {}
    columns = tuple(Column(renames.get(f, snake(f)), f, kind) for f, kind in fields)
    return Table(name, columns, primary_key, cursor)


def snake(field: str) -> str:
    """Mailjet's CamelCase field name in snake_case (`IsHTMLPartIncluded` -> `is_html_part_included`)."""
    out: list[str] = []
    for i, ch in enumerate(field):
        prev = field[i - 1] if i else ""
        nxt = field[i + 1] if i + 1 < len(field) else ""
        if ch.isupper() and i and (prev.islower() or prev.isdigit() or (nxt.islower() and prev.isupper())):
            out.append("_")
        out.append("_" if ch == "/" else ch.lower())
    return "".join(out).replace("__", "_")


CONTACTS = _table(
    "contacts",
    [
        ("ID", "id"),
        ("Email", "text"),
        ("Name", "text"),
        ("IsExcludedFromCampaigns", "bool"),
        ("ExclusionFromCampaignsUpdatedAt", "ts"),
        ("IsOptInPending", "bool"),
        ("IsSpamComplaining", "bool"),
        ("DeliveredCount", "int"),
        ("CreatedAt", "ts"),
        ("LastActivityAt", "ts"),
        ("LastUpdateAt", "ts"),
        ("UnsubscribedAt", "ts"),
        ("UnsubscribedBy", "text"),
    ],
)
# What Mailjet has listed, kept after Mailjet deletes it, each with the last run that listed it
# (`_extracted_at`): how the `mailjet` views know that a file's rows are about a contact (or a list
# membership) Mailjet has since deleted. Emails are kept only as the MD5 of their lowercased text: enough
# to recognise a file's email, without keeping the address of someone erased in Mailjet. Made from the
# pages of `contacts` and `list_recipients`, never read on their own.
CONTACTS_LISTED = _table(
    "contacts_listed", [("ID", "id"), ("EmailMd5", "text")], primary_key=("id", "email_md5")
)
MEMBERSHIPS_LISTED = _table(
    "memberships_listed", [("ContactID", "id"), ("ListID", "id")], primary_key=("contact_id", "list_id")
)


def email_md5(email: str) -> str:
    """The hex MD5 of an email's lowercased UTF-8 text: SQL's `md5(lower(email))` in DuckDB and Postgres."""
    return hashlib.md5(email.lower().encode("utf-8")).hexdigest()


CONTACT_LISTS = _table(
    "contact_lists",
    [
        ("ID", "id"),
        ("Name", "text"),
        ("Address", "text"),
        ("IsDeleted", "bool"),
        ("SubscriberCount", "int"),
        ("CreatedAt", "ts"),
    ],
)
LIST_RECIPIENTS = _table(
    "list_recipients",
    [
        ("ID", "id"),
        ("ContactID", "id"),
        ("ListID", "id"),
        ("ListName", "text"),
        ("IsUnsubscribed", "bool"),
        ("IsActive", "bool"),
        ("SubscribedAt", "ts"),
        ("UnsubscribedAt", "ts"),
    ],
)
CONTACT_PROPERTY_DEFINITIONS = _table(
    "contact_property_definitions",
    [("ID", "id"), ("Name", "text"), ("Datatype", "text"), ("NameSpace", "text")],
    rename={"NameSpace": "namespace"},
)
# One row per (contact, property): /contactdata's nested `Data` list, flattened by `property_rows`.
CONTACT_PROPERTIES = _table(
    "contact_properties",
    [("ContactID", "id"), ("Name", "text"), ("Value", "text")],
    primary_key=("contact_id", "name"),
)
CAMPAIGNS = _table(
    "campaigns",
    [
        ("ID", "id"),
        ("CampaignType", "int"),
        ("Status", "int"),
        ("Subject", "text"),
        ("CustomValue", "text"),
        ("NewsLetterID", "id"),
        ("ListID", "id"),
        ("SegmentationID", "id"),
        ("WorkflowID", "id"),
        ("FirstMessageID", "id"),
        ("FromID", "id"),
        ("FromEmail", "text"),
        ("FromName", "text"),
        ("IsDeleted", "bool"),
        ("IsStarred", "bool"),
        ("ClickTracked", "int"),
        ("OpenTracked", "int"),
        ("HasHtmlCount", "int"),
        ("HasTxtCount", "int"),
        ("UnsubscribeTrackedCount", "int"),
        ("SpamassScore", "float"),
        ("CreatedAt", "ts"),
        ("SendStartAt", "ts"),
        ("SendEndAt", "ts"),
    ],
    cursor="created_at",
    rename={"NewsLetterID": "newsletter_id"},
)
CAMPAIGN_DRAFTS = _table(
    "campaign_drafts",
    [
        ("ID", "id"),
        ("Title", "text"),
        ("Subject", "text"),
        ("Status", "int"),
        ("Locale", "text"),
        ("Sender", "text"),
        ("SenderEmail", "text"),
        ("SenderName", "text"),
        ("ReplyEmail", "text"),
        ("ContactsListID", "id"),
        ("SegmentationID", "id"),
        ("CampaignID", "id"),
        ("TemplateID", "id"),
        ("EditMode", "text"),
        ("IsStarred", "bool"),
        ("IsTextPartIncluded", "bool"),
        ("Used", "bool"),
        ("Url", "text"),
        ("Preset", "text"),
        ("Current", "int"),
        ("AXFraction", "float"),
        ("AXFractionName", "text"),
        ("AXTesting", "text"),  # an integer in the reference, an object in the Go and Node SDKs
        ("CreatedAt", "ts"),
        ("ModifiedAt", "ts"),
        ("DeliveredAt", "ts"),
    ],
    rename={
        "ContactsListID": "list_id",
        "AXFraction": "ax_fraction",
        "AXFractionName": "ax_fraction_name",
        "AXTesting": "ax_testing",
    },
)
STAT_COUNTERS = (
    "Total",
    "MessageSentCount",
    "MessageOpenedCount",
    "MessageClickedCount",
    "MessageHardBouncedCount",
    "MessageSoftBouncedCount",
    "MessageBlockedCount",
    "MessageSpamCount",
    "MessageUnsubscribedCount",
    "MessageQueuedCount",
    "MessageDeferredCount",
    "MessageWorkFlowExitedCount",
    "EventOpenedCount",
    "EventClickedCount",
    "EventSpamCount",
    "EventUnsubscribedCount",
    "EventWorkflowExitedCount",
    "EventOpenDelay",
    "EventClickDelay",
)
CAMPAIGN_STATS = _table(
    "campaign_stats",
    [("SourceID", "id"), *((name, "int") for name in STAT_COUNTERS)],
    primary_key=("campaign_id",),
    rename={
        "SourceID": "campaign_id",
        "Total": "total_count",
        "MessageWorkFlowExitedCount": "message_workflow_exited_count",
    },
)
MESSAGES = _table(
    "messages",
    [
        ("ID", "id"),
        ("ArrivedAt", "ts"),
        ("CampaignID", "id"),
        ("ContactID", "id"),
        ("ContactAlt", "text"),
        ("Subject", "text"),
        ("CustomID", "text"),
        ("UUID", "text"),
        ("Status", "text"),
        ("StateID", "int"),
        ("StatePermanent", "bool"),
        ("SenderID", "id"),
        ("DestinationID", "id"),
        ("AttachmentCount", "int"),
        ("AttemptCount", "int"),
        ("Delay", "float"),
        ("FilterTime", "int"),
        ("MessageSize", "int"),
        ("SpamassassinScore", "float"),
        ("SpamassRules", "text"),
        ("IsClickTracked", "bool"),
        ("IsOpenTracked", "bool"),
        ("IsUnsubTracked", "bool"),
        ("IsHTMLPartIncluded", "bool"),
        ("IsTextPartIncluded", "bool"),
    ],
    cursor="arrived_at",
    rename={"ContactAlt": "contact_email", "UUID": "uuid"},
)
OPENS = _table(
    "opens",
    [
        ("MessageID", "id"),
        ("OpenedAt", "ts"),
        ("ArrivedAt", "ts"),
        ("CampaignID", "id"),
        ("ContactID", "id"),
        ("UserAgentID", "id"),
        ("UserAgentFull", "text"),
    ],
    primary_key=("message_id", "opened_at"),
    cursor="opened_at",
)
CLICKS = _table(
    "clicks",
    [
        ("ID", "id"),
        ("MessageID", "id"),
        ("ClickedAt", "ts"),
        ("ContactID", "id"),
        ("Url", "text"),
        ("ClickedDelay", "int"),
        ("UserAgentID", "id"),
    ],
    # Not `ID` alone: the reference's example shows `"ID": -1`. The ID stays in the key and as a column.
    primary_key=("message_id", "clicked_at", "url", "id"),
    cursor="clicked_at",
).with_key_fill(url="")
BOUNCES = _table(
    "bounces",
    [
        ("ID", "id"),
        ("BouncedAt", "ts"),
        ("CampaignID", "id"),
        ("ContactID", "id"),
        ("IsBlocked", "bool"),
        ("IsStatePermanent", "bool"),
        ("StateID", "int"),
    ],
    # Not `ID` alone: in the reference's example a bounce's ID is its message's, and a message can bounce
    # twice. The ID stays in the key and as a column.
    primary_key=("contact_id", "campaign_id", "bounced_at", "id"),
    cursor="bounced_at",
).with_key_fill(contact_id=0, campaign_id=0)
SMS_MESSAGES = _table(
    "sms_messages",
    [
        ("MessageId|MessageID|ID", "text"),  # a numeric string, or a UUID: text either way
        ("From", "text"),
        ("To", "text"),
        ("Status/Code", "int"),
        ("Status/Name", "text"),
        ("CreationTS", "unix"),
        ("SentTS", "unix"),
        ("SMSCount", "int"),
        ("Cost/Value", "float"),
        ("Cost/Currency", "text"),
    ],
    cursor="created_at",
    rename={
        "MessageId|MessageID|ID": "id",
        "From": "sender",
        "To": "recipient",
        "CreationTS": "created_at",
        "SentTS": "sent_at",
        "SMSCount": "sms_count",
    },
)

# Every table the extract loads into `mailjet_api`.
API_TABLES = (
    CONTACTS,
    CONTACTS_LISTED,
    MEMBERSHIPS_LISTED,
    CONTACT_LISTS,
    LIST_RECIPIENTS,
    CONTACT_PROPERTIES,
    CONTACT_PROPERTY_DEFINITIONS,
    CAMPAIGNS,
    CAMPAIGN_DRAFTS,
    CAMPAIGN_STATS,
    MESSAGES,
    OPENS,
    CLICKS,
    BOUNCES,
    SMS_MESSAGES,
)

# What the webhook receiver (`mailjet-elt webhooks serve`) loads into `mailjet_api`: Mailjet's event
# fields in snake_case (unknown fields stay in `raw`, the event as received), one row per event key.
EVENTS = Table(
    "events",
    (
        Column("event_key", "_key", "text"),
        Column("event", "event", "text"),
        Column("time", "time", "unix"),
        Column("message_id", "MessageID", "id"),
        Column("message_guid", "Message_GUID", "text"),
        Column("email", "email", "text"),
        Column("mj_campaign_id", "mj_campaign_id", "id"),
        Column("mj_contact_id", "mj_contact_id", "id"),
        Column("mj_list_id", "mj_list_id", "id"),
        Column("customcampaign", "customcampaign", "text"),
        Column("custom_id", "CustomID", "text"),
        Column("payload", "Payload", "text"),
        Column("mj_message_id", "mj_message_id", "text"),
        Column("smtp_reply", "smtp_reply", "text"),
        Column("ip", "ip", "text"),
        Column("geo", "geo", "text"),
        Column("agent", "agent", "text"),
        Column("url", "url", "text"),
        Column("blocked", "blocked", "bool"),
        Column("hard_bounce", "hard_bounce", "bool"),
        Column("error_related_to", "error_related_to", "text"),
        Column("error", "error", "text"),
        Column("comment", "comment", "text"),
        Column("source", "source", "text"),
        Column("received_at", "_received_at", "ts"),
        Column("raw", "_raw", "text"),
    ),
    ("event_key",),
)
WEBHOOK_REJECTIONS = Table(
    "webhook_rejections",
    (
        Column("rejection_id", "_id", "text"),
        Column("received_at", "_received_at", "ts"),
        Column("reason", "reason", "text"),
        Column("detail", "detail", "text"),
        Column("body", "body", "text"),
        Column("remote", "remote", "text"),
    ),
    ("rejection_id",),
)
# Every table the webhook receiver loads into `mailjet_api`.
RECEIVED_TABLES = (EVENTS, WEBHOOK_REJECTIONS)


def property_rows(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """/contactdata rows (one per contact, values nested in `Data`) as one row per set property."""
    return [
        {"ContactID": r["ContactID"], "Name": item.get("Name"), "Value": item.get("Value")}
        for r in rows
        for item in r.get("Data") or ()
        if item.get("Value") not in (None, "")
    ]


Transform = Callable[[Sequence[dict[str, Any]]], Sequence[dict[str, Any]]]
