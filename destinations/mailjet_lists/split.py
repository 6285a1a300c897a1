"""A batch Mailjet refuses whole: whether one invalid address refuses the whole POST is undocumented
(mailjet-api.md §5). The contacts a 400 on a job's POST names are rejected with Mailjet's message and the
rest is sent again at once; a 400 that names none is bisected: each half is sent on its own until the
contact that refuses it is alone."""

from __future__ import annotations

import re
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
    """Start the job for `rows` with `start`; on a 400, set aside the contacts it names and send the rest,
    or bisect when it names none (see the module). When both halves of a refused part are refused with its
    very message, the 400 is the part's, not one contact's: the part is refused whole (`failed`, as a batch
    Mailjet will not take)."""
    parts = Parts()
    message = _try(list(rows), start, parts)
    if message is not None:
        _refused(list(rows), message, start, parts)
    return parts


def _refused(rows: list[Row], message: str, start: Start, parts: Parts) -> None:
    """`rows` were refused whole with `message`: the contacts it names are rejected and the rest sent again,
    until Mailjet takes the rest or a 400 names none of it, which is bisected."""
    while True:
        named = [r for r in rows if _names(message, r)]
        if not named:
            _bisect(rows, message, start, parts)
            return
        parts.refused.extend((r, "refused", message) for r in named)
        rows = [r for r in rows if not _names(message, r)]
        if not rows:
            return
        parts.extra_requests += 1
        answer = _try(rows, start, parts)
        if answer is None:
            return
        message = answer


def _try(rows: list[Row], start: Start, parts: Parts) -> str | None:
    """POST a job for `rows`: None when Mailjet accepted it, else its 400's message."""
    try:
        resource, job_id = start(rows)
    except MailjetBadRequest as exc:
        return str(exc)
    parts.jobs.append((resource, job_id, rows))
    return None


def _bisect(rows: list[Row], message: str, start: Start, parts: Parts) -> None:
    """`rows` were refused whole with `message`, which names none of them: send each half on its own, and so
    on down."""
    if len(rows) == 1:
        parts.refused.append((rows[0], "refused", message))
        return
    halves = [rows[: len(rows) // 2], rows[len(rows) // 2 :]]
    answers = [_try(half, start, parts) for half in halves]
    parts.extra_requests += 2
    if answers[0] == answers[1] == message:
        parts.refused.extend((r, "failed", message) for r in rows)
        return
    for half, answer in zip(halves, answers, strict=True):
        if answer is not None:
            _refused(half, answer, start, parts)


def _names(message: str, row: Row) -> bool:
    """Whether Mailjet's message names the row's address (whole: `a@x.com` is not named by `ba@x.com`)."""
    email = re.escape(str(row["email"]).strip().lower())
    return re.search(rf"(?<![\w.+-]){email}(?![\w.-])", message.lower()) is not None
