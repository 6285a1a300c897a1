"""Events as Mailjet posts them, keyed and typed as rows of `mailjet_api.events`."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import orjson
import pyarrow as pa

from sources.mailjet.schema import Column, Table, arrow_types


def event_key(event: dict[str, Any]) -> str:
    """One key per event: its type, time, message, recipient, link (clicks), address and agent (opens,
    clicks). A retried delivery gives the same key; two events of one message, type and second differ by
    link, address or agent (a scanner's open and the person's), or are the same event."""
    parts = [
        event.get("event"),
        event.get("time"),
        event.get("MessageID"),
        str(event.get("email") or "").strip().lower(),
        event.get("url"),
        event.get("ip"),
        event.get("agent"),
    ]
    text = "\x1f".join("" if v is None else str(v) for v in parts)  # 1 and "1" are one message
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _value(column: Column, value: Any) -> Any:
    """`value` in the column's type, or None when it is not one (the event's `raw` keeps it as sent)."""
    if value is None or value == "":
        return None
    kind = column.kind
    try:
        if kind in ("id", "int"):
            if isinstance(value, bool) or not isinstance(value, int | str):
                return None
            number = int(str(value).strip()) if isinstance(value, str) else value
            if isinstance(value, str) and "_" in value:
                return None  # int() reads "1_000"; Mailjet never writes it
            return number if -(2**63) <= number < 2**63 else None
        if kind == "float":
            return float(value)
        if kind == "bool":
            if isinstance(value, bool):
                return value
            if isinstance(value, int | str) and str(value).lower() in ("1", "true", "0", "false"):
                return str(value).lower() in ("1", "true")
            return None
        if kind == "unix":
            return datetime.fromtimestamp(int(value), UTC) if not isinstance(value, bool) else None
        if kind == "ts":
            return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        return value if isinstance(value, str) else orjson.dumps(value).decode()
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def to_arrow(table: Table, rows: list[dict[str, Any]], loaded_at: datetime) -> pa.Table:
    """Rows keyed by Mailjet's field names (and `_key`, `_raw`, ...) as an Arrow table of `table`."""
    data = {
        c.name: pa.array([_value(c, r.get(c.field)) for r in rows], arrow_types()[c.kind])
        for c in table.columns
    }
    data[table.stamp] = pa.array([loaded_at] * len(rows), pa.timestamp("us", tz="UTC"))
    return pa.table(data, schema=table.arrow_schema())
