"""`audiences.sql`: audiences defined in plain SQL, one view each, with a header saying where it goes.

    -- audience: newsletter
    -- list: Newsletter                  (a Mailjet list name or ID)
    -- on_exit: remove                   (remove | unsub | keep: what happens when someone leaves)
    -- properties: firstname, country    (columns pushed as Mailjet contact properties)
    -- permission: email_newsletter      (the consent the list needs; optional)
    create or replace view audience_newsletter as select ...

The file is parsed with sqlglot before anything runs: a mistake stops with a message naming the file, the
audience, the line and the fix. What only the database can tell (the columns of a `select *`) is checked
when the views are created."""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from pipelines.errors import EXIT_USAGE, CommandError

OnExit = Literal["remove", "unsub", "keep"]  # what happens to a member the audience added who leaves it
ON_EXIT: tuple[OnExit, ...] = ("remove", "unsub", "keep")
DEFAULT_ON_EXIT: OnExit = "keep"  # leaving an audience touches nobody unless the file says so
# A header's value may be followed by a comment in parentheses after two or more spaces
# (`-- list: Newsletter    (the main list)`); `-- list: Newsletter (EN)` names the list "Newsletter (EN)".
HEADER = re.compile(
    r"^\s*--\s*(audience|list|on_exit|properties|permission)\s*:\s*(.*?)(?:\s{2,}\(.*\))?\s*$", re.I
)
NAME = re.compile(r"[a-z][a-z0-9_]*")
SHIPPED_AUDIENCES = Path(__file__).parents[2] / "audiences.sql"  # the repository root: the file users own
LOCAL_AUDIENCES = Path("audiences.sql")


class AudienceError(CommandError):
    """A mistake in the audiences file; the message names the file, the audience, the line and the fix."""

    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_USAGE)


@dataclass(frozen=True)
class Audience:
    """One audience: its view, the Mailjet list it feeds and what happens when someone leaves it."""

    name: str
    list_ref: str
    on_exit: OnExit
    properties: tuple[str, ...]
    sql: str  # the `create or replace view audience_<name> as ...` statement
    line: int  # where its header starts in the file
    # The consent the list needs (e.g. email_newsletter): only people whose latest consent event for it is
    # a grant are added, and a withdrawal newer than a member's subscription unsubscribes them. None: the
    # audience's SQL alone decides who consented.
    permission: str | None = None

    @property
    def view(self) -> str:
        return f"audience_{self.name}"


def parse_audiences(text: str, source: str) -> list[Audience]:
    """The audiences of a file's text (`source` names it in messages); raises AudienceError."""
    blocks: list[tuple[int, dict[str, tuple[str, int]], list[str]]] = []
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        header = HEADER.match(line)
        if header and header.group(1).lower() == "audience":
            blocks.append((number, {}, []))
        if not blocks:
            if line.strip() and not line.lstrip().startswith("--"):
                raise AudienceError(
                    f"{source}:{number}: SQL before the first `-- audience: NAME` header; start each "
                    "audience with its header"
                )
            continue
        _, keys, body = blocks[-1]
        if header and not body:
            key = header.group(1).lower()
            if key in keys and key != "audience":
                raise AudienceError(f"{source}:{number}: `{key}` given twice for one audience")
            keys[key] = (header.group(2), number)
        else:
            body.append(line)
    if not blocks:
        raise AudienceError(f"{source}: no audience; each starts with a `-- audience: NAME` header line")
    audiences = [_audience(source, start, keys, body) for start, keys, body in blocks]
    seen: dict[str, int] = {}
    lists: dict[str, Audience] = {}
    for audience in audiences:
        other = lists.setdefault(audience.list_ref.lower(), audience)
        if other is not audience:
            raise AudienceError(one_list_one_audience(source, audience, other))
        if audience.name in seen:
            raise AudienceError(
                f"{source}:{audience.line}: audience {audience.name!r} is defined twice (first at line "
                f"{seen[audience.name]}); give each audience its own name"
            )
        seen[audience.name] = audience.line
    return audiences


def _audience(source: str, start: int, keys: dict[str, tuple[str, int]], body: list[str]) -> Audience:
    name, _ = keys["audience"]
    where = f"{source}:{start}: audience {name!r}"
    if not NAME.fullmatch(name):
        raise AudienceError(f"{where}: use lowercase letters, digits and underscores for an audience name")
    list_ref, _ = keys.get("list", ("", start))
    if not list_ref:
        raise AudienceError(f"{where}: no `-- list: NAME_OR_ID` header; name the Mailjet list it feeds")
    on_exit, on_exit_line = keys.get("on_exit", (DEFAULT_ON_EXIT, start))
    if on_exit.lower() not in ON_EXIT:
        raise AudienceError(
            f"{source}:{on_exit_line}: audience {name!r}: unknown on_exit {on_exit!r}; use one of "
            f"{', '.join(ON_EXIT)}"
        )
    properties_text, properties_line = keys.get("properties", ("", start))
    properties = tuple(p.strip() for p in properties_text.split(",") if p.strip())
    sql = "\n".join(body).strip().rstrip(";").strip()
    first_line = start + len(keys) + next((i for i, line in enumerate(body) if line.strip()), 0)
    try:
        with _quiet_sqlglot():
            statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except ParseError as exc:
        raise AudienceError(_syntax_error(source, name, first_line, exc)) from None
    view = f"audience_{name}"
    if len(statements) == 1 and isinstance(statements[0], exp.Command):
        raise AudienceError(_unreadable(source, name, first_line, sql, view))
    if len(statements) != 1 or not isinstance(statements[0], exp.Create):
        raise AudienceError(
            f"{where}: expected one `create or replace view {view} as select ...` statement, found "
            f"{len(statements)} statement(s)"
        )
    create = statements[0]
    kind = str(create.args.get("kind") or "").upper()
    target = create.this.name if isinstance(create.this, exp.Table) else ""
    if kind != "VIEW" or target != view:
        raise AudienceError(
            f"{where}: the statement must create view {view} (found `create {kind.lower()} {target}`)"
        )
    select = create.expression
    columns = [] if select is None or select.is_star else [c.lower() for c in select.named_selects]
    if columns and "email" not in columns:
        raise AudienceError(
            f"{where}: the view yields no `email` column (it yields {', '.join(columns)}); select the "
            "address as `email`"
        )
    missing = [p for p in properties if columns and p.lower() not in columns]
    if missing:
        raise AudienceError(
            f"{source}:{properties_line}: audience {name!r}: propert{'y' if len(missing) == 1 else 'ies'} "
            f"{', '.join(missing)} not among the view's columns ({', '.join(columns)}); add the column or "
            "drop it from `-- properties:`"
        )
    permission_text, permission_line = keys.get("permission", ("", start))
    permission = permission_text.strip().lower() or None
    if permission is not None and not NAME.fullmatch(permission):
        raise AudienceError(
            f"{source}:{permission_line}: audience {name!r}: permission {permission_text!r}: use lowercase "
            "letters, digits and underscores (e.g. email_newsletter)"
        )
    return Audience(name, list_ref, cast(OnExit, on_exit.lower()), properties, sql, start, permission)


@contextlib.contextmanager
def _quiet_sqlglot() -> Iterator[None]:
    """sqlglot logs a warning for a statement it cannot read and keeps it as a bare command; the message
    that follows says it better."""
    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _syntax_error(source: str, name: str, first_line: int, exc: ParseError) -> str:
    error = exc.errors[0] if exc.errors else {}
    line = first_line + int(error.get("line", 1)) - 1
    return (
        f"{source}:{line}: audience {name!r}: SQL syntax error ({error.get('description', exc)}); fix "
        "the statement"
    )


CREATE_VIEW = re.compile(r"\s*create\s+(?:or\s+replace\s+)?view\s+\S+\s+as\s", re.I)


def _unreadable(source: str, name: str, first_line: int, sql: str, view: str) -> str:
    """The message for a statement sqlglot could not read at all: where its query goes wrong, when the
    query alone tells, else what the statement must look like."""
    head = CREATE_VIEW.match(sql)
    if head is not None:
        try:
            with _quiet_sqlglot():
                sqlglot.parse_one(sql[head.end() :], read="duckdb")
        except ParseError as exc:
            return _syntax_error(source, name, first_line + sql[: head.end()].count("\n"), exc)
    return (
        f"{source}:{first_line}: audience {name!r}: SQL syntax error: the statement cannot be read as "
        f"`create or replace view {view} as select ...`; fix the statement"
    )


def one_list_one_audience(source: str, audience: Audience, other: Audience) -> str:
    """The message for two audiences feeding one list (each would remove the other's people)."""
    return (
        f"{source}:{audience.line}: audiences {other.name!r} and {audience.name!r} both feed list "
        f"{audience.list_ref!r}; each would unsubscribe or remove the people the other keeps. Give each list "
        "one audience (combine them in one view with `union`)"
    )


def read_audiences(path: Path) -> list[Audience]:
    """The audiences of the file at `path`; raises AudienceError, also for a file that cannot be read."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeError) as exc:
        raise AudienceError(f"{path}: cannot be read ({exc}); name a UTF-8 text file") from None
    return parse_audiences(text, str(path))


def audiences_path(given: str | None, shipped: Path = SHIPPED_AUDIENCES) -> Path:
    """The audiences file: the one given, else ./audiences.sql when present, else the shipped one (at the
    root of a clone of the repository). AudienceError when there is none of them: an installed package
    carries no audiences of its own."""
    if given:
        return Path(given)
    if LOCAL_AUDIENCES.is_file():
        return LOCAL_AUDIENCES
    if shipped.is_file():
        return shipped
    raise AudienceError(
        "no audiences file: there is no ./audiences.sql in this folder and no shipped one beside the "
        'installed package. Write your audiences in ./audiences.sql (see docs/audiences.md, "Writing an '
        'audience"), or give one with --audiences PATH'
    )


def choose(audiences: Sequence[Audience], name: str | None, source: Path) -> list[Audience]:
    """The audiences to plan: all, or the one named; CommandError (exit 2) for an unknown name."""
    if name is None:
        return list(audiences)
    chosen = [a for a in audiences if a.name == name]
    if not chosen:
        raise CommandError(
            f"--audience {name!r}: {source} defines no such audience; it defines "
            f"{', '.join(a.name for a in audiences)}",
            EXIT_USAGE,
        )
    return chosen


def missing_properties(where: str, missing: Sequence[str], columns: Sequence[str]) -> str:
    """The message for declared properties the audience's view does not yield."""
    return (
        f"{where}: declared propert{'y' if len(missing) == 1 else 'ies'} {', '.join(missing)} not among "
        f"the view's columns ({', '.join(columns)}); add the column or drop it from `-- properties:`"
    )
