"""What `webhooks serve` says on the console: a line when it listens, one per batch loaded, one when it
stops; each a message for people and its figures (fields of their own in JSON lines)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from sources.mailjet.schema import WEBHOOK_REJECTIONS

REJECTIONS_TABLE = f"mailjet.{WEBHOOK_REJECTIONS.name}"  # where the batch lines say rejections are kept


def start_line(url: str, spool: Path, into: str, flush_seconds: float) -> tuple[str, dict[str, Any]]:
    """The line of a receiver that listens: where (never with its credentials), where it spools and loads."""
    message = (
        f"mailjet-elt webhooks: listening on {url}; spooling to {spool}; loading into {into} every "
        f"{flush_seconds:g} s. Ctrl-C stops (what was received is loaded first)"
    )
    return message, {"url": url, "spool": str(spool), "flush_seconds": flush_seconds}


def oldest_arrival(tables: list[pa.Table]) -> datetime | None:
    """When the oldest row of a batch reached the spool (`received_at`), or None if none says."""
    found = [pc.min(table.column("received_at")).as_py() for table in tables]
    return min((at for at in found if at is not None), default=None)


def batch_line(events: int, rejections: int, lag: float | None) -> tuple[str, dict[str, Any]]:
    """The console line of one batch loaded, and its figures. The lag is how long the batch's oldest row
    waited between reaching the spool and being loaded: the receiver's own clock at both ends, so that it
    tells whether the loads keep up. An event's own `time` is Mailjet's clock, in whole seconds, and also
    holds Mailjet's delay in delivering it (a delivery it retried an hour later is an hour old on arrival),
    which no setting of the receiver changes."""
    said = "unknown" if lag is None else f"{lag:.1f} s"
    message = (
        f"mailjet-elt webhooks: loaded {counted(events, 'event')}, {counted(rejections, 'rejection')} (kept "
        f"in {REJECTIONS_TABLE}); lag {said} (the oldest's wait since it reached the spool)"
    )
    figures = {
        "events": events,
        "rejections": rejections,
        "rejections_in": REJECTIONS_TABLE,
        "lag_seconds": None if lag is None else round(lag, 3),
    }
    return message, figures


def stop_line(events: int, rejections: int, batches: int, waiting: int) -> tuple[str, dict[str, Any]]:
    """The console line of a receiver that stopped: what it loaded in all, and what it left in the spool."""
    message = (
        f"mailjet-elt webhooks: stopped; {counted(events, 'event')} and {counted(rejections, 'rejection')} "
        f"loaded in {counted(batches, 'batch')}"
    )
    if waiting:
        message += f"; {counted(waiting, 'event')} wait in the spool, loaded at the next start"
    figures = {"events": events, "rejections": rejections, "batches": batches, "spooled": waiting}
    return message, figures


def counted(number: int, thing: str) -> str:
    """`1 event`, `2 events`, `1 batch`, `3 batches`."""
    if number == 1:
        return f"1 {thing}"
    return f"{number:,} {thing}{'es' if thing.endswith('ch') else 's'}"
