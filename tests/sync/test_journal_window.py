"""`apply` killed after Mailjet accepted a job and before the job log's commit: the rerun finds the batch's
intent without a job, reads the list, and sends only the changes the list does not show yet, so no batch
goes out twice."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from pipelines.apply import apply
from pipelines.extract import extract
from pipelines.load import load
from pipelines.plan import plan
from pipelines.sync.config import SyncConfiguration
from tests.conftest import Api, creds
from tests.sync.conftest import memberships, rows, write_profiles

# The apply dies the moment Mailjet has accepted its first job, before the job is written down.
KILLED_AFTER_THE_POST = textwrap.dedent(
    """
    import os, signal, sys
    from pipelines.sync.journal import JobJournal
    JobJournal.started = lambda *args, **kwargs: os.kill(os.getpid(), signal.SIGKILL)
    from pipelines.apply import apply
    apply(db=sys.argv[1], yes=True, batch_size=4, audiences=sys.argv[2])
    """
)


def test_a_batch_whose_job_was_not_written_down_is_not_sent_twice(
    synced: tuple[Api, Path, int, list[str]], tmp_path: Path
) -> None:
    api, db, fans, people = synced
    leaving, staying = people[:10], people[10:]
    write_profiles(tmp_path / "profiles.csv", staying)
    load(db=str(db), file=str(tmp_path / "profiles.csv"), table="profiles")
    extract(db=str(db))
    plan(db=str(db), audiences=str(tmp_path / "audiences.sql"), config=SyncConfiguration(max_removal_pct=100))
    jobs_before = len(api.app.store.jobs)

    child = subprocess.run(
        [sys.executable, "-c", KILLED_AFTER_THE_POST, str(db), str(tmp_path / "audiences.sql")],
        cwd=Path(__file__).parents[2],
        env={**os.environ, **creds(api)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert child.returncode == -9, child.stderr
    [first] = [j for j in api.app.store.jobs.values()][jobs_before:]
    api.finish_jobs()  # Mailjet ran it meanwhile
    sent_first = {str(c["Email"]).lower() for c in first.contacts}
    assert len(sent_first) == 4

    [applied] = apply(db=str(db), yes=True, batch_size=4, audiences=str(tmp_path / "audiences.sql")).runs
    assert applied.status == "applied"
    later = [j for j in api.app.store.jobs.values()][jobs_before + 1 :]
    resent = [str(c["Email"]).lower() for j in later for c in j.contacts]
    assert not set(resent) & sent_first, "a change Mailjet had applied was sent again"
    assert sorted(resent) == sorted(set(leaving) - sent_first)
    assert not set(leaving) & set(memberships(api, fans))
    outcomes = dict(
        rows(db, "select email, outcome from mailjet_sync.sync_changelog where action = 'remove'")
    )
    assert outcomes == {e: ("skipped" if e in sent_first else "done") for e in leaving}
