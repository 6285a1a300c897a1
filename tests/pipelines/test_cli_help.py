"""Each command's `--help`: what it does, an example, its exit codes; only the options that apply to it."""

from __future__ import annotations

import pytest

from pipelines.cli import COMMANDS, build_parser

pytestmark = pytest.mark.unit

PAGES = [
    *(c.NAME for c in COMMANDS if c.NAME != "webhooks"),
    "webhooks",
    "webhooks serve",
    "webhooks register",
]
USE_THE_DATABASE = [
    "extract",
    "plan",
    "apply",
    "run",
    "runs",
    "explain",
    "report",
    "sql",
    "load",
    "import-csv",
    "webhooks serve",
]
USE_NO_DATABASE = ["sandbox", "api", "demo", "check", "webhooks register"]
ARGUMENTS = {
    "api": ["GET", "contact"],
    "webhooks register": ["https://hooks.example.com/events"],
    "explain": ["jane@example.com"],
}


def help_page(command: str, capsys: pytest.CaptureFixture[str]) -> str:
    """What `mailjet-elt COMMAND --help` prints (argparse ends it with exit 0)."""
    with pytest.raises(SystemExit) as done:
        build_parser().parse_args([*command.split(), "--help"])
    assert done.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("command", PAGES)
def test_each_help_page_describes_shows_examples_and_exit_codes(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    page = help_page(command, capsys)
    paragraphs = page.split("\n\n")
    description = paragraphs[1]  # after the usage
    assert not description.startswith(("positional arguments:", "options:")), f"no description:\n{page}"
    assert len(description.split()) >= 10, description
    examples = page[page.index("\nexamples:\n") + 1 :].split("\n\n")[0].splitlines()[1:]
    assert examples and all(e.startswith("  mailjet-elt ") and command in e for e in examples), page
    codes = page[page.index("\nexit codes:\n") + 1 :].splitlines()[1:]
    assert codes[0].split()[0] == "0", page
    assert all(line.strip() for line in codes), page


@pytest.mark.parametrize("command", USE_THE_DATABASE)
def test_the_database_options_show_where_they_apply(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    page = help_page(command, capsys)
    for option in ("--db PATH", "--destination NAME", "--lock-wait SECONDS", "--log-format", "--verbose"):
        assert option in page, f"{command} --help lacks {option}"
    assert "MAILJET_ELT__DB" in page  # --db's default: the db setting


@pytest.mark.parametrize("command", USE_NO_DATABASE)
def test_the_database_options_are_absent_where_they_mean_nothing(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    page = help_page(command, capsys)
    assert "--db" not in page and "--lock-wait" not in page, page
    assert "--log-format" in page and "--verbose" in page
    assert ("--destination NAME" in page) == (command == "demo"), page  # the demo can load elsewhere
    with pytest.raises(SystemExit) as refused:
        build_parser().parse_args([*command.split(), *ARGUMENTS.get(command, []), "--db", "x.duckdb"])
    assert refused.value.code == 2
    assert "unrecognized arguments: --db" in capsys.readouterr().err


def test_the_database_options_still_go_before_any_command() -> None:
    parser = build_parser()
    demo = parser.parse_args(["--destination", "postgres", "demo"])
    assert demo.destination == "postgres"
    assert parser.parse_args(["demo", "--destination", "postgres"]).destination == "postgres"
    extract = parser.parse_args(["--db", "a.duckdb", "--lock-wait", "5", "extract", "-v"])
    assert (extract.db, extract.lock_wait, extract.verbose_after) == ("a.duckdb", 5.0, 1)
    assert parser.parse_args(["extract"]).db is None  # not given: the db setting decides, then the default
