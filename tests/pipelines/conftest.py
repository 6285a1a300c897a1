"""The crash-safety tests' world (see crash_world), built once per session: the test_crash_* modules run
on one worker together (tests/conftest.py, SHARED_WORKER), and none of their tests changes the sandbox or
the world's databases (each works on copies, in a folder of its own)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import Api, creds, start
from tests.pipelines.crash_world import CONTACTS, EXPORT_ROWS, World, clean_run, cli, copy_db


def requests(api: Api) -> int:
    return int(api.admin("GET", "requests").json()["total"])


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    app = start(contacts=CONTACTS)
    api = Api(app)
    env = {**creds(api), "MAILJET__BACKOFF_SECONDS": "0.01"}
    root = tmp_path_factory.mktemp("crash")
    baseline = root / "baseline" / "mj.duckdb"
    baseline.parent.mkdir()
    assert cli(baseline, "extract", env=env).returncode == 0
    contacts = api.data("contact", Limit=40, Offset=100, Sort="ID")
    # A CSV export about API contacts (properties, a list membership) and a few people only in the file.
    attached = root / "attached.csv"
    attached.write_text(
        "email,first name,status\n"
        + "".join(f"{c['Email'].upper()},Ann{i},subscribed\n" for i, c in enumerate(contacts[:20]))
        + "".join(f"file{i}@example.com,File{i},unsubscribed\n" for i in range(20)),
        encoding="utf-8",
    )
    assert cli(baseline, "import-csv", str(attached), "--list", "Newsletter", env=env).returncode == 0
    # Mailjet changes: two contacts with file rows are deleted for good, memberships go, contacts come.
    for contact in contacts[:2]:
        gone = api.session.delete(f"{api.base}/v4/contacts/{contact['ID']}", timeout=30)
        assert gone.status_code in (200, 204)
    assert api.admin("POST", "contacts/purge").status_code == 200
    for member in api.data("listrecipient", Limit=5, Offset=50, Sort="ID"):
        assert api.delete(f"listrecipient/{member['ID']}").status_code == 204
    for i in range(5):
        assert api.post("contact", {"Email": f"new{i}@example.com"}).status_code == 201

    extracted = copy_db(baseline, root / "extracted")
    before = requests(api)
    extract_seconds, result = clean_run(extracted, "extract", env=env)
    extract_requests = requests(api) - before
    assert result.returncode == 0, result.stderr
    assert " before)" in result.stdout  # the rerun replaces tables that lost rows

    export = root / "export.csv"
    lines = ["Email;Name;Country;Status"]
    lines += [
        f"user{i}@example.org;User {i};FR;{'unsub' if i % 9 == 0 else 'active'}" for i in range(EXPORT_ROWS)
    ]
    lines += ["not an email;x;y;active", "user7@example.org;dup;FR;active"]
    export.write_text("\n".join(lines) + "\n", encoding="utf-8")
    imported = copy_db(baseline, root / "imported")
    import_seconds, result = clean_run(imported, "import-csv", str(export), "--list", "Events", env=env)
    assert result.returncode == 0, result.stderr
    yield World(
        api,
        env,
        root,
        baseline,
        extracted,
        imported,
        export,
        extract_seconds,
        import_seconds,
        extract_requests,
    )
    app.stop()
