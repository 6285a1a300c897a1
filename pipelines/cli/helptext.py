"""Each command's `--help` page in one layout: what it does, then its options, one or two examples and its
exit codes."""

from __future__ import annotations

import argparse
import re
import textwrap
from collections.abc import Iterable, Sequence
from typing import TypeAlias

from pipelines.cli.options import Commands

# One line of a page's exit codes: the code (or codes) and what it means.
Exit: TypeAlias = tuple[str, str]

DONE: Exit = ("0", "done")
FAILED: Exit = (
    "1",
    "failed (Mailjet, the network or the database); nothing unfinished is reported done: rerun",
)
USAGE: Exit = ("2", "bad usage, settings or credentials: the message names the value and the fix")
STOPPED: Exit = ("130, 143", "stopped by Ctrl-C (SIGINT) or SIGTERM; a rerun resumes")
EXAMPLE = "  mailjet-elt "  # how an example's line starts
# Where a line's text starts after its label (an exit code, then two spaces or more).
HANGING = re.compile(r"\s*(?:\S+(?: \S+)*\s{2,})?")


class PageFormatter(argparse.HelpFormatter):
    """argparse's layout, but the description and the epilog are filled line by line: an example stays
    whole, to be copied; an exit code's long meaning continues under itself."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        lines = []
        for line in text.splitlines():
            if line.startswith(EXAMPLE):
                lines.append(indent + line)
                continue
            hanging = HANGING.match(line)
            under = indent + " " * (hanging.end() if hanging else 0)
            lines.append(textwrap.fill(line, width, initial_indent=indent, subsequent_indent=under))
        return "\n".join(lines)


def add_command(
    commands: Commands,
    name: str,
    *,
    parents: Iterable[argparse.ArgumentParser],
    summary: str,
    description: str,
    examples: Sequence[str],
    exits: Sequence[Exit],
) -> argparse.ArgumentParser:
    """The command's parser: `summary` is its line in `mailjet-elt --help`; its own `--help` shows the
    description, its options, then the examples and the exit codes."""
    return commands.add_parser(
        name,
        parents=list(parents),
        help=summary,
        description=description,
        epilog=epilog(examples, exits),
        formatter_class=PageFormatter,
    )


def epilog(examples: Sequence[str], exits: Sequence[Exit]) -> str:
    """The examples (the words after `mailjet-elt`), one a line, and the exit codes, one a line."""
    width = max(len(code) for code, _ in exits)
    return "\n".join(
        [
            "examples:",
            *(f"{EXAMPLE}{example}" for example in examples),
            "",
            "exit codes:",
            *(f"  {code:<{width}}  {meaning}" for code, meaning in exits),
        ]
    )
