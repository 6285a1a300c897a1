"""The `db` setting (`[mailjet_elt]` in .dlt/config.toml, or MAILJET_ELT__DB) names the DuckDB file of the
commands not given `--db`: `--db` wins, then the setting, then ./mailjet_elt.duckdb. A value that names no
file is refused as `--db`'s would be, before anything is written."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.cli import run_command
from tests.conftest import run_cli


def marked(folder: Path, name: str) -> None:
    """A DuckDB file NAME.duckdb whose table `mark` holds its name."""
    with duckdb.connect(str(folder / f"{name}.duckdb")) as con:
        con.execute("create table mark as select ? as name", [name])


def test_the_environment_names_the_file_and_db_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("mailjet_elt", "account", "other"):
        marked(tmp_path, name)

    def read(*before: str) -> str:
        code = run_command([*before, "sql", "select name from mark", "--format", "csv"])
        out = capsys.readouterr().out
        assert code == 0, out
        return out.splitlines()[-1]

    monkeypatch.delenv("MAILJET_ELT__DB", raising=False)
    assert read() == "mailjet_elt"  # no setting: the default
    monkeypatch.setenv("MAILJET_ELT__DB", "account.duckdb")
    assert read() == "account"
    assert read("--db", "other.duckdb") == "other"


@pytest.mark.parametrize(
    ("value", "said"),
    [
        pytest.param("", "the db setting (MAILJET_ELT__DB or db under [mailjet_elt]", id="empty"),
        pytest.param("folder", "the db setting 'folder' (MAILJET_ELT__DB or db under", id="folder"),
    ],
)
def test_a_setting_that_names_no_file_is_refused_before_anything_is_written(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    value: str,
    said: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "folder").mkdir()
    monkeypatch.setenv("MAILJET_ELT__DB", value)
    monkeypatch.setenv("MAILJET__BASE_URL", "http://127.0.0.1:9")  # nothing listens: nothing is reached
    assert run_command(["extract"]) == 2
    err = capsys.readouterr().err
    assert said in err, err
    fix = 'name a database file, e.g. db = "' if value == "" else "is a directory: name a database file in"
    assert fix in err, err
    assert [p.name for p in tmp_path.iterdir()] == ["folder"], "something was written"


def test_the_config_file_of_the_folder_names_the_file(tmp_path: Path) -> None:
    """As a user runs it: the account's folder, its .dlt/config.toml, no --db."""
    (tmp_path / ".dlt").mkdir()
    (tmp_path / ".dlt" / "config.toml").write_text('[mailjet_elt]\ndb = "acme.duckdb"\n', encoding="utf-8")
    (tmp_path / "profiles.csv").write_text("email,first_name\nann@example.com,Ann\n", encoding="utf-8")
    done = run_cli(["load", "profiles.csv", "--table", "profiles"], {}, tmp_path)
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "mailjet_elt.duckdb").exists()
    with duckdb.connect(str(tmp_path / "acme.duckdb"), read_only=True) as con:
        assert con.sql("select email, first_name from crm.profiles").fetchall() == [
            ("ann@example.com", "Ann")
        ]


def test_db_given_with_another_destination_is_refused_not_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--db` names a DuckDB file; with `--destination postgres` it would name nothing, silently."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MAILJET_ELT__DB", "account.duckdb")  # the setting alone is not read there: no error
    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", "postgresql://u:p@127.0.0.1:9/w")
    assert run_command(["--db", "account.duckdb", "--destination", "postgres", "sql", "select 1"]) == 2
    said = capsys.readouterr().err
    assert "--db account.duckdb names a DuckDB file, but --destination postgres" in said
    assert "drop --db" in said
    assert not list(tmp_path.iterdir())  # nothing written, nothing created


CONFIG_TWICE = '[mailjet_elt]\ndb = "a.duckdb"\n\n[mailjet_elt]\ndb = "acme.duckdb"\n'
SAID_TWICE = '.dlt/config.toml cannot be read as TOML (Key "mailjet_elt" already exists.'


@pytest.mark.parametrize(
    ("file", "text", "said", "command"),
    [  # the README's `[mailjet_elt]` appended to a copy that has the section already: every kind of command
        pytest.param("config.toml", CONFIG_TWICE, SAID_TWICE, ["check"], id="config-check"),
        pytest.param("config.toml", CONFIG_TWICE, SAID_TWICE, ["extract"], id="config-extract"),
        pytest.param(
            "config.toml", CONFIG_TWICE, SAID_TWICE, ["--db", "x.duckdb", "extract"], id="config-db"
        ),
        pytest.param("config.toml", CONFIG_TWICE, SAID_TWICE, ["api", "GET", "x"], id="config-api"),
        pytest.param(  # of a secrets file, only where: never what the parser read
            "secrets.toml",
            '[mailjet]\napi_key = "s3cr3t-value\n',
            ".dlt/secrets.toml cannot be read as TOML (at line 2 col ",
            ["check"],
            id="secrets-check",
        ),
    ],
)
def test_a_settings_file_that_is_not_toml_is_named_with_the_fix(
    tmp_path: Path, file: str, text: str, said: str, command: list[str]
) -> None:
    (tmp_path / ".dlt").mkdir()
    (tmp_path / ".dlt" / file).write_text(text, encoding="utf-8")
    env = {"MAILJET__BASE_URL": "http://127.0.0.1:9"}  # nothing listens: nothing is reached
    if file != "secrets.toml":
        env |= {"MAILJET__API_KEY": "k", "MAILJET__API_SECRET": "s"}
    done = run_cli(command, env, tmp_path)
    assert done.returncode == 2, done.stderr
    assert said in done.stderr and "each [section] once" in done.stderr
    assert "Traceback" not in done.stderr and "s3cr3t" not in done.stderr
