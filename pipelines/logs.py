"""Everything the CLI writes to stderr goes through logging, so `--log-format json` makes every line one
JSON object: our messages and progress, dlt's own log lines, and Python warnings alike.

`-v` and `-vv` raise the verbosity of the project's own loggers only. Libraries (great-expectations,
urllib3, pandas, ...) are heard from at WARNING and above whatever the verbosity: their INFO and DEBUG
lines describe their own internals (hundreds of kilobytes of them in one `plan`). dlt's lines follow dlt's
own setting (`RUNTIME__LOG_LEVEL`, WARNING by default)."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

CONSOLE = "mailjet_elt.console"  # messages and progress for the person or scheduler running the command
OWN_LOGGERS = ("pipelines", "sources", "destinations", "sandbox")  # the project's packages


# A record's figures (`extra={FIGURES: {...}}`): fields of its JSON line, for log shippers.
FIGURES = "figures"


def now_text() -> str:
    """This instant as every JSON log line and result document writes it (UTC, milliseconds)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC), level, logger, message, the record's figures if any (each a
    field of its own, never in place of the four), and the exception if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        figures = getattr(record, FIGURES, None)
        if isinstance(figures, dict):
            entry |= {name: value for name, value in figures.items() if name not in entry}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class _ToRoot(logging.Handler):
    """The handler dlt's logger gets. dlt keeps a logger of its own (not propagating) and sets its
    handler's format on every runtime start; this handler ignores that format and hands the records to
    the root logger's handlers, so dlt's lines look like ours."""

    def setFormatter(self, fmt: logging.Formatter | None) -> None:  # logging's name
        return None

    def emit(self, record: logging.LogRecord) -> None:
        logging.getLogger().handle(record)


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is when a line is logged, not to the one there when logging was
    configured (a test harness, or anything else, may have replaced and closed that one since)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        return None


def json_mode() -> bool:
    """Whether the console writes JSON lines (the signal handler formats its last words by hand)."""
    return any(isinstance(h.formatter, JsonFormatter) for h in logging.getLogger(CONSOLE).handlers)


def configure(verbosity: int, fmt: str) -> None:
    """Logging to stderr at the requested verbosity, as text or JSON lines."""
    as_json = fmt == "json"
    level = logging.WARNING - 10 * min(verbosity, 2)
    root = logging.getLogger()
    for handler in root.handlers[:]:
        root.removeHandler(handler)
    stderr = _Stderr()
    stderr.setFormatter(
        JsonFormatter() if as_json else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root.addHandler(stderr)
    root.setLevel(logging.WARNING)  # every library's loggers inherit it
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(level)
    console = logging.getLogger(CONSOLE)
    console.propagate = False
    console.setLevel(logging.INFO)
    for handler in console.handlers[:]:
        console.removeHandler(handler)
    plain = _Stderr()
    plain.setFormatter(JsonFormatter() if as_json else logging.Formatter("%(message)s"))
    console.addHandler(plain)
    dlt_logger = logging.getLogger("dlt")
    for handler in dlt_logger.handlers[:]:
        dlt_logger.removeHandler(handler)
    dlt_logger.addHandler(_ToRoot())
    dlt_logger.propagate = False
    logging.captureWarnings(True)


def console() -> logging.Logger:
    """The logger of the CLI's own messages (always shown, whatever the verbosity)."""
    return logging.getLogger(CONSOLE)


def last_words(text: str) -> bytes:
    """A line for a signal handler to write with os.write (no logging there), in the configured format."""
    if json_mode():
        entry = {
            "at": now_text(),
            "level": "WARNING",
            "logger": CONSOLE,
            "message": text,
        }
        return (json.dumps(entry) + "\n").encode()
    return (text + "\n").encode()
