"""A batch Mailjet refuses whole: whether one invalid address refuses the whole POST is undocumented
(mailjet-api.md §5). A 400 on a job's POST is bisected: each half is sent on its own until the contact that
refuses it is alone, and rejected with Mailjet's message; the rest is sent."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from destinations.mailjet_lists.outcomes import Outcome
from destinations.mailjet_lists.payloads import Row
from sources.mailjet.exceptions import MailjetBadRequest

Start = Callable[[Sequence[Row]], tuple[str, int]]  # POST a job for the rows: (resource, JobID)


@dataclass
class Parts:
    """What sending a batch in parts gave: the jobs Mailjet accepted (resource, JobID, their rows), the rows
    it refused (with the outcome and Mailjet's message), and the POSTs beyond the first."""

    jobs: list[tuple[str, int, list[Row]]] = field(default_factory=list)
    refused: list[tuple[Row, Outcome, str]] = field(default_factory=list)
    extra_requests: int = 0


def start_parts(rows: Sequence[Row], start: Start) -> Parts:
    """Start the job for `rows` with `start`; on a 400, bisect (see the module). When both halves of a
    refused part are refused with its very message, which names none of its addresses, the 400 is the
    part's, not one contact's: the part is refused whole (`failed`, as a batch Mailjet will not take)."""
    parts = Parts()
    message = _try(list(rows), start, parts)
    if message is not None:
        _bisect(list(rows), message, start, parts)
    return parts


def _try(rows: list[Row], start: Start, parts: Parts) -> str | None:
    """POST a job for `rows`: None when Mailjet accepted it, else its 400's message."""
    try:
        resource, job_id = start(rows)
    except MailjetBadRequest as exc:
        return str(exc)
    parts.jobs.append((resource, job_id, rows))
    return None


def _bisect(rows: list[Row], message: str, start: Start, parts: Parts) -> None:
    """`rows` were refused whole with `message`: send each half on its own, and so on down."""
    if len(rows) == 1:
        parts.refused.append((rows[0], "refused", message))
        return
    halves = [rows[: len(rows) // 2], rows[len(rows) // 2 :]]
    answers = [_try(half, start, parts) for half in halves]
    parts.extra_requests += 2
    if answers[0] == answers[1] == message and not _names_any(message, rows):
        parts.refused.extend((r, "failed", message) for r in rows)
        return
    for half, answer in zip(halves, answers, strict=True):
        if answer is not None:
            _bisect(half, answer, start, parts)


def _names_any(message: str, rows: Sequence[Row]) -> bool:
    """Whether Mailjet's message names one of the rows' addresses."""
    text = message.lower()
    return any(str(r["email"]).strip().lower() in text for r in rows)
