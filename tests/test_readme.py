"""The README and every page of docs/ run as written, top to bottom, as a reader would follow them on a
fresh clone.

Every fenced block of README.md, then of each page of docs/ (in DOCUMENTS' order), is taken in order, in a
fresh project folder (the repository's `.venv` and
`examples/`, the shipped `.dlt/config.toml`, no `MAILJET__*` variable), by its language:

- `sh`: run by bash (`-euo pipefail`) in one "terminal": what a block exports or activates stays set for
  the next block. A block that starts a server (`mailjet-elt sandbox`, `mailjet-elt webhooks serve`) runs in
  a terminal of its own, as the page says, and the next block waits until it listens; servers stop at the
  end. The pages' ports (8765, 8766, 8775) are mapped to free ones, and its example PostgreSQL URL to a
  fresh database on the tests' PostgreSQL (`tests/postgres/conftest.py`): the only changes made to a block.
- `sql`, `python`, `toml` with `file=PATH` in the fence: written to PATH, as the reader saves them (a `toml`
  file's `[mailjet_elt]`, `[mailjet]`, `[mailjet.webhooks]` and `[sync]` keys must be settings that exist);
  without: run, the `sql` through `mailjet-elt sql`, the `python` with `.venv/bin/python`.
- `crontab`: each line's command runs with the project folder as the README's `/srv/mailjet-elt`, and
  the account's folder beside it as `/srv/acme`.
- `text`: a picture or an output, never a command.

A block that cannot run here is listed in NOT_RUN with the reason. Some blocks must also print what the
page says they show (EXPECT). Every link between the pages leads to a page and a heading that exist."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pipelines.sync.config import SyncConfiguration
from pipelines.warehouse.db_setting import ProjectConfiguration
from sources.mailjet.config import MailjetConfiguration
from sources.mailjet_webhooks import WebhooksConfiguration
from tests.postgres.conftest import (
    Server,
    new_database,
    postgres_server,  # noqa: F401 (the fixture, found here by pytest)
)

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
# The pages a reader follows, in the order this test walks them in one terminal: the README first, then the
# reference, whose examples carry on from the README's tour (the sandbox running, its variables set).
DOCUMENTS = (
    "README.md",
    "docs/warehouses.md",
    "docs/commands.md",
    "docs/extract.md",
    "docs/import.md",
    "docs/audiences.md",
    "docs/webhooks.md",
    "docs/sandbox.md",
    "docs/tables.md",
    "docs/models.md",
    "docs/settings.md",
    "docs/development.md",
)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```(\w*)([^\n]*)\n(.*?)^```", re.S | re.M)
HEADING = re.compile(r"^#{2,3} (.+)$", re.M)
# A section that runs longer than this is stuck (the slowest, the demo, takes about a minute).
SECTION_TIMEOUT = 600
LANGUAGES = {"sh", "sql", "python", "toml", "crontab", "text"}
# A block's first line: why it is not run by this test.
NOT_RUN = {"make test": "the test suite itself, which this test is part of"}
# Servers a block may start, the port each listens on by default, and the option that changes it.
SERVERS = {".venv/bin/mailjet-elt sandbox": 8765, ".venv/bin/mailjet-elt webhooks serve": 8766}
README_PORTS = (8765, 8766, 8775)
# The README's example PostgreSQL URL, replaced (as its ports are) by a fresh database's on the tests' server.
README_POSTGRES = "postgresql://loader:secret@db.example.com:5432/warehouse"
# (a line of the block, what its output must hold): the page says the block shows it.
EXPECT = (
    (".venv/bin/mailjet-elt check", "OK: http://127.0.0.1:"),
    ("sql .tables", "list_recipients"),
    ("group by l.name order by l.name", "Newsletter"),
    ("mailjet.csv_rejections", "invalid"),
    ("apply --yes\n", "verified: the list, read again, shows every change Mailjet confirmed"),
    ("mailjet_sync.sync_changelog", "consent_withdrawn"),
    ("mailjet-elt explain astrid", "withdrawn  support ticket"),
    ("mailjet-elt explain astrid", "unsubscribe (unsub), reason consent_withdrawn"),
    ("mailjet-elt run --yes", "nothing to send to the list"),
    ("mailjet-elt report --out report.html", "report: wrote report.html"),
    ("select event, email", "freya.russo.11@example.com"),
    ("unsubscribes Freya", "consent withdrawn after they subscribed"),
    ("print(mj.contactslist", "Newsletter"),
    ("make demo", "every confirmed change is there"),
    ("--destination postgres plan", "nothing to send to the list"),
    ("where email = 'louis.lefebvre.3@example.net'", "preference centre"),
    ("ann@example.com/getcontactslists", '"ListID": 1005'),
)
CONFIG_SECTIONS = {
    ("mailjet_elt",): ProjectConfiguration,
    ("mailjet",): MailjetConfiguration,
    ("mailjet", "webhooks"): WebhooksConfiguration,
    ("sync",): SyncConfiguration,
}


@dataclass
class Block:
    document: str  # the page, from the repository's root
    line: int
    language: str
    file: str | None
    body: str
    section: str = ""  # the page and the heading the block stands under

    @property
    def first(self) -> str:
        return self.body.strip().splitlines()[0]

    @property
    def where(self) -> str:
        return f"{self.document} line {self.line}"


def blocks() -> list[Block]:
    found = []
    for document in DOCUMENTS:
        text = (ROOT / document).read_text(encoding="utf-8")
        for m in FENCE.finditer(text):
            info = dict(part.split("=", 1) for part in m.group(2).split() if "=" in part)
            headings = HEADING.findall(text, 0, m.start())
            section = f"{document}: {headings[-1].strip() if headings else '(top)'}"
            line = text.count("\n", 0, m.start()) + 1
            found.append(Block(document, line, m.group(1), info.get("file"), m.group(3), section))
    return found


def sections() -> list[str]:
    """The pages' sections that hold blocks, in order: each is one test, run in the one terminal."""
    return list(dict.fromkeys(b.section for b in blocks()))


def why_not(block: Block) -> str | None:
    return next((why for start, why in NOT_RUN.items() if block.first.startswith(start)), None)


def server_port(block: Block) -> int | None:
    """The README port of the server the block starts, or None: the block does not serve."""
    if block.language != "sh":
        return None
    commands = [line for line in block.body.splitlines() if line.strip() and not line.startswith("#")]
    if len(commands) != 1:
        return None
    words = shlex.split(commands[0], comments=True)
    for start, port in SERVERS.items():
        if " ".join(words[: len(start.split())]) == start:
            return int(words[words.index("--port") + 1]) if "--port" in words else port
    return None


@dataclass
class Terminal:
    """The reader's shell: a project folder, the variables exported so far, the servers started."""

    folder: Path
    ports: dict[int, int]
    env: dict[str, str]
    urls: dict[str, str] = field(default_factory=dict)  # the README's database URL: the one used instead
    servers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    ran: list[str] = field(default_factory=list)

    @property
    def state(self) -> Path:
        return self.folder.parent / "exported.sh"

    @property
    def restored(self) -> str:
        """The shell line that gives a block the variables exported so far."""
        state = shlex.quote(str(self.state))
        return f"if [ -f {state} ]; then source {state}; fi"

    def mapped(self, text: str) -> str:
        for readme_port, port in self.ports.items():
            text = re.sub(rf"(?<![0-9]){readme_port}(?![0-9])", str(port), text)
        for readme_url, url in self.urls.items():
            text = text.replace(readme_url, url)
        return text

    def shell(self, block: Block, script: str) -> str:
        """Run a script as the block, in this terminal; its stdout."""
        wrapped = f"{self.restored}\n{script}\nexport -p > {shlex.quote(str(self.state))}\n"
        out_file = self.folder.parent / f"block-{block.document.replace('/', '-')}-{block.line}.out"
        err_file = self.folder.parent / f"block-{block.document.replace('/', '-')}-{block.line}.err"
        with out_file.open("w") as stdout, err_file.open("w") as stderr:
            process = subprocess.Popen(
                ["bash", "-euo", "pipefail", "-c", wrapped],
                cwd=self.folder,
                env=self.env,
                stdout=stdout,
                stderr=stderr,
                start_new_session=True,
            )
            try:
                process.wait(timeout=300)
            finally:
                stop(process)
        out, err = out_file.read_text(), err_file.read_text()
        where = f"{block.where} ({block.language} block):\n{block.body}"
        assert process.returncode == 0, f"{where}\nfailed with exit {process.returncode}:\n{err[-3000:]}"
        assert "Traceback" not in err, f"{where}\n{err[-3000:]}"
        return out

    def serve(self, block: Block, readme_port: int) -> None:
        """Start the block's server in a terminal of its own, with this terminal's variables, and wait until
        it listens."""
        port = self.ports[readme_port]
        words = shlex.split(self.mapped(block.body), comments=True)
        if "--port" not in words:
            words += ["--port", str(port)]
        command = shlex.join(words)
        log = self.folder.parent / f"server-{block.document.replace('/', '-')}-{block.line}.log"
        with log.open("w") as output:  # the server writes to its own copy of the descriptor
            self.servers.append(
                subprocess.Popen(
                    ["bash", "-c", f"{self.restored}\nexec {command}"],
                    cwd=self.folder,
                    env=self.env,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                return
            assert self.servers[-1].poll() is None, (
                f"{block.where}: the server stopped:\n{log.read_text()[-3000:]}"
            )
            time.sleep(0.2)
        raise AssertionError(f"{block.where}: nothing listens on port {port} after 120 s")

    def run(self, block: Block) -> None:
        if block.file:
            self.save(block)
            return
        if block.language == "text":
            lines = block.body.splitlines()
            commands = [line for line in lines if line.lstrip().startswith((".venv/", "$ "))]
            assert not commands, f"{block.where}: commands in a text block run nowhere: {commands}"
            return
        readme_port = server_port(block)
        if readme_port is not None:
            self.serve(block, readme_port)
            self.ran.append("sh (a server)")
            return
        out = ""
        if block.language == "sh":
            out = self.shell(block, self.mapped(block.body))
        elif block.language == "sql":
            out = self.shell(block, f".venv/bin/mailjet-elt sql <<'SQL'\n{block.body}SQL")
        elif block.language == "python":
            out = self.shell(block, f".venv/bin/python - <<'PY'\n{self.mapped(block.body)}PY")
        elif block.language == "toml":
            check_settings(block)
        elif block.language == "crontab":
            out = self.crontab(block)
        self.ran.append(block.language)
        for line, shown in EXPECT:
            if line in block.body:
                assert shown in out, f"{block.where}: the output lacks {shown!r}:\n{out[-3000:]}"
        if block.language == "sh" and re.search(r"(?<![\w./-])sql(?=\s|$)", block.body, re.M):
            assert out.strip(), f"{block.where}: a query printed nothing"

    def save(self, block: Block) -> None:
        """A block with `file=PATH`: saved where the reader saves it."""
        where = block.where
        assert block.language in {"sql", "python", "toml"}, f"{where}: file= in a {block.language} block"
        path = self.folder / block.file if block.file else self.folder
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(block.body, encoding="utf-8")
        if block.language == "toml":
            check_settings(block)
        self.ran.append(f"{block.language} saved as {block.file}")

    def crontab(self, block: Block) -> str:
        """Each crontab line's command, run with the clone (`/srv/mailjet-elt`) as the project folder and the
        account's folder (`/srv/acme`) beside it; a JSON log must hold JSON lines only."""
        out = ""
        folders = {"/srv/mailjet-elt": self.folder, "/srv/acme": self.folder.parent / "acme"}
        for line in block.body.splitlines():
            if line.strip() and not line.startswith("#"):
                command = line.split(None, 5)[5]
                for readme, folder in folders.items():
                    command = command.replace(readme, shlex.quote(str(folder)))
                out += self.shell(block, command)
                log = re.search(r">> (\S+)", command)
                ran_in = re.match(r"cd (\S+) &&", command)
                if log and "--log-format json" in command:  # the README says: JSON lines, each of them
                    where = Path(shlex.split(ran_in[1])[0]) if ran_in else self.folder
                    lines = (where / log[1]).read_text().splitlines()
                    assert lines and all(json.loads(x) for x in lines), block.where
                    assert json.loads(lines[-1])["result"] == "run", block.where
        return out

    def stop_servers(self) -> None:
        for server in self.servers:
            stop(server)


def check_settings(block: Block) -> None:
    """Every setting the pages write exists, in the section it is written in."""
    data = tomllib.loads(block.body)

    def walk(table: dict[str, object], path: tuple[str, ...]) -> None:
        spec = CONFIG_SECTIONS.get(path)
        for key, value in table.items():
            if isinstance(value, dict):
                walk(value, (*path, key))
            else:
                assert spec is not None, f"{block.where}: [{'.'.join(path)}] is no section we read"
                assert key in spec_fields(spec), f"{block.where}: [{'.'.join(path)}] {key} is no setting"

    walk(data, ())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a process and whatever it started (its session), gently, then for good."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        process.poll()  # reaps it: a zombie would still count as a member of its group
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)


@dataclass
class Reader:
    """One reader's walk through the README and docs/: the terminal, and how far it got."""

    terminal: Terminal
    repository: str  # the repository's changes (`git status`) before the walk: it must change nothing
    done: set[str] = field(default_factory=set)  # sections run to the end
    failed: str | None = None  # the first section that failed
    skipped: int = 0  # blocks NOT_RUN names


@pytest.fixture(scope="module")
def reader(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Reader]:
    """A project folder as a reader has it after `make`: the virtualenv, the examples, the settings; one
    terminal for every section, in order, as the reader goes through them; a PostgreSQL database of its
    own."""
    tmp_path = tmp_path_factory.mktemp("readme")
    folder = tmp_path / "project"
    (folder / ".dlt").mkdir(parents=True)
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    # The virtualenv is made (`make` made it to run this test): the files it was made from are copies older
    # than its stamp, so that `make` here does not make it again from this folder.
    assert (ROOT / ".venv" / ".setup-stamp").is_file(), "run the tests through `make test`"
    made_from = {"pyproject.toml", "constraints.txt", ".dlt"}
    # Files the reader edits or overwrites are copies: a README block never writes into the repository.
    edited = {"audiences.sql"}
    for name in {path.split("/")[0] for path in tracked.splitlines()} - made_from - edited | {".venv"}:
        (folder / name).symlink_to(ROOT / name)
    for name in made_from - {".dlt"}:
        shutil.copy(ROOT / name, folder / name)
        os.utime(folder / name, (0, 0))
    for name in edited:
        shutil.copy(ROOT / name, folder / name)
    shutil.copy(ROOT / ".dlt" / "config.toml", folder / ".dlt" / "config.toml")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAILJET__", "SYNC__", "DESTINATION__"))}
    # Pipelines outside the project (`my_pipeline.py`) keep their state in the test's folder.
    env["DLT_DATA_DIR"] = str(tmp_path / "dlt")
    ports = {port: free_port() for port in README_PORTS}
    server: Server = request.getfixturevalue("postgres_server")
    term = Terminal(folder, ports, env, {README_POSTGRES: new_database(server).url})
    try:
        yield Reader(term, repository_changes())
    finally:
        term.stop_servers()


@pytest.mark.unit
def test_the_readme_names_what_it_runs() -> None:
    found = blocks()
    assert len(found) > 10, "too few blocks found: the pages' fences changed"
    unknown = [(b.line, b.language) for b in found if b.language not in LANGUAGES]
    assert not unknown, f"blocks in a language this test does not run: {unknown}"
    stale = [key for key in NOT_RUN if not any(b.first.startswith(key) for b in found)]
    assert not stale, f"NOT_RUN names blocks the pages no longer have: {stale}"
    missing = [line for line, _ in EXPECT if not any(line in b.body for b in found)]
    assert not missing, f"EXPECT names lines the pages no longer have: {missing}"
    postgres = [b.line for b in found if b.language == "sh" and README_POSTGRES in b.body]
    assert postgres, f"no block uses README_POSTGRES, {README_POSTGRES}"
    pages = {str(path.relative_to(ROOT)) for path in (ROOT / "docs").glob("**/*.md")}
    assert pages == set(DOCUMENTS) - {"README.md"}, (
        f"DOCUMENTS must name every page of docs/ once: missing {sorted(pages - set(DOCUMENTS))},"
        f" gone {sorted(set(DOCUMENTS) - {'README.md'} - pages)}"
    )


def slug(heading: str) -> str:
    """A heading's anchor, as GitHub makes it: lower case, punctuation but `-`, `_` dropped, spaces as `-`."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


@pytest.mark.unit
def test_every_link_between_the_pages_leads_to_a_page_and_a_heading() -> None:
    broken = []
    for document in DOCUMENTS:
        page = ROOT / document
        text = page.read_text(encoding="utf-8")
        for target in LINK.findall(FENCE.sub("", text)):
            if re.match(r"[a-z]+:", target):
                continue  # a web address
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            if not linked.exists():
                broken.append(f"{document}: {target}: no such file")
            elif anchor and linked.suffix == ".md":
                headings = re.findall(
                    r"^#{1,6} (.+)$", FENCE.sub("", linked.read_text(encoding="utf-8")), re.M
                )
                if anchor not in {slug(h) for h in headings}:
                    broken.append(f"{document}: {target}: no such heading")
    assert not broken, "\n".join(broken)


@pytest.mark.e2e
@pytest.mark.timeout(SECTION_TIMEOUT)
@pytest.mark.parametrize("section", sections())
def test_a_readme_section_runs_as_written(reader: Reader, section: str) -> None:
    """The section's blocks, in the terminal the sections before it left: a section follows on from
    them (the sandbox started, the data extracted), so once one fails the ones after it are not run."""
    if reader.failed is not None:
        pytest.skip(f"follows on from the section {reader.failed!r}, which failed")
    try:
        for block in (b for b in blocks() if b.section == section):
            if why_not(block) is not None:
                reader.skipped += 1
                continue
            began = time.monotonic()
            reader.terminal.run(block)
            print(f"{block.where}: {block.language} block, {time.monotonic() - began:.1f} s")
    except BaseException:
        reader.failed = section
        raise
    reader.done.add(section)


def repository_changes() -> str:
    """The repository's uncommitted changes and their content, as `git` sees them."""
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    diff = subprocess.run(["git", "diff"], cwd=ROOT, capture_output=True, text=True, check=True)
    return status.stdout + diff.stdout


@pytest.mark.e2e
def test_every_readme_block_ran(reader: Reader) -> None:
    assert repository_changes() == reader.repository, "a block of the pages wrote into the repository"
    if reader.failed is not None:
        pytest.skip(f"the section {reader.failed!r} failed (reported above)")
    found = blocks()
    assert reader.done == set(sections()), "run the whole module: the sections run in order"
    commands = sum(1 for b in found if b.language != "text")
    assert len(reader.terminal.ran) + reader.skipped == commands
    assert reader.skipped == len(NOT_RUN)  # each NOT_RUN entry stands for one block
    print(
        f"README and docs/: {len(reader.terminal.ran)} of {commands} blocks run or saved as the reader does"
        f" ({', '.join(sorted(set(reader.terminal.ran)))}); {reader.skipped} not run, each with its reason;"
        f" {len(found) - commands} text blocks"
    )


def spec_fields(spec: type) -> dict[str, object]:
    """A dlt config spec's settings and their defaults."""
    return {
        f.name: getattr(spec, f.name, None) for f in dataclasses.fields(spec) if not f.name.startswith("__")
    }


@pytest.mark.unit
def test_the_settings_table_names_every_setting_with_its_default() -> None:
    text = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    table = text[: text.index("\n## ")]
    for path, spec in CONFIG_SECTIONS.items():
        section = "[" + ".".join(path) + "]"
        row = next(line for line in table.splitlines() if line.startswith(f"| `{section}` |"))
        named = dict(re.findall(r"`(\w+)` \(([^)]*)\)", row)) | {n: "" for n in re.findall(r"`(\w+)`,", row)}
        fields = spec_fields(spec)
        assert set(named) == set(fields), (
            f"{section}: the table names {sorted(named)}, the settings are {sorted(fields)}"
        )
        for name, said in named.items():
            default = fields[name]
            if isinstance(default, int | float) and not isinstance(default, bool):
                first = said.split()[0].rstrip(",;")
                assert float(first) == default, (
                    f"{section} {name}: docs/settings.md says {first}, the default is {default}"
                )
            elif isinstance(default, str):
                assert f"`{default}`" in said, (
                    f"{section} {name}: docs/settings.md says {said!r}, the default is {default}"
                )
