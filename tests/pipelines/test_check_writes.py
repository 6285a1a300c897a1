"""`mailjet-elt check --writes` against a sandbox: under each write quirk it reports that quirk's reading
for its behaviour and the default reading for every other; under `all`, every other reading. One small
sandbox for the module, whose jobs run until the check's waits finish them: the check's pacer advances the
sandbox's clock instead of sleeping."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dlt.sources.helpers.rest_client.auth import HttpBasicAuth

from pipelines.check_writes import Pacer, WritesCheckResult, check_writes, scratch_now
from pipelines.check_writes.readings import NOT_OBSERVED
from pipelines.report import render
from sources.mailjet.client import HttpSettings, MailjetHttp
from tests.conftest import BIN, Api, creds, run_cli, start

# Each behaviour's reading under no quirk, and the quirk that gives it its other reading.
DEFAULT = {
    "running_status": "guide",
    "count": "applied",
    "report_shape": "object",
    "report_keys": "capitalized",
    "errorfile_form": "absolute",
    "errorfile_without_errors": "empty",
    "invalid_address": "per-contact",
    "error_after_part": "completed",
    "listing_lag": "none",
    "unsub_nonmember": "unsubscribed-member",
    "remove_unsub": "erases",
    "property_names": "kept-case",
    "property_coercion": "coerced",
    "webhook_retry": NOT_OBSERVED,
}
QUIRKS: dict[str, dict[str, str]] = {
    "job-status-in-progress": {"running_status": "in-progress"},
    "job-count-processed": {"count": "processed"},
    "job-report-bare-list": {"report_shape": "bare-list"},
    "job-report-lowercase-keys": {"report_keys": "lowercase"},
    # Every job names an ErrorFile; the report says nothing, so its keys cannot be seen.
    "job-report-empty": {
        "report_shape": "empty",
        "report_keys": NOT_OBSERVED,
        "errorfile_without_errors": "set",
    },
    "errorfile-relative": {"errorfile_form": "relative"},
    "job-error-partial": {"error_after_part": "error-after-applying"},
    "bulk-invalid-email-400": {"invalid_address": "whole-post-400"},
    "listing-lag=3": {"listing_lag": "lags"},
    "unsub-nonmember-noop": {"unsub_nonmember": "noop"},
    "remove-keeps-unsub": {"remove_unsub": "keeps"},
    "webhook-retry-10x10min": {},  # cannot be probed without a public endpoint
    "property-names-lowercased": {"property_names": "lowercased"},
    "strict-property-types": {"property_coercion": "strict"},
}


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    """A small sandbox whose jobs run until the check's pacer finishes them."""
    app = start(contacts=20, job_seconds=60)
    yield Api(app)
    app.stop()


def sandbox_pacer(api: Api) -> Pacer:
    """The check's time on the sandbox: a wait advances its clock and finishes its jobs."""
    elapsed = [0.0]

    def wait(seconds: float) -> None:
        elapsed[0] += seconds
        assert api.admin("POST", "clock", {"advance": seconds}).status_code == 200
        api.finish_jobs()

    return Pacer(now=lambda: elapsed[0], wait=wait)


def check(api: Api, spec: str, pacer: Pacer | None = None) -> dict[str, Any]:
    """`check --writes --format json` run in-process against the sandbox under `spec`, as a document."""
    document: dict[str, Any] = json.loads(render(checked(api, spec, pacer), "json"))
    return document


def checked(api: Api, spec: str, pacer: Pacer | None = None) -> WritesCheckResult:
    """The write check run in-process against the sandbox under `spec`."""
    assert api.admin("PUT", "quirks", {"spec": spec}).status_code == 200
    auth = HttpBasicAuth(api.app.config.api_key, api.app.config.api_secret)
    http = MailjetHttp(api.base, auth, HttpSettings(max_attempts=1))
    try:
        result = check_writes(http, pacer or sandbox_pacer(api), scratch_now())
    finally:
        http.close()
        api.admin("PUT", "quirks", {"spec": ""})
    return result


def readings(document: dict[str, Any]) -> dict[str, str]:
    return {name: reading["reading"] for name, reading in document["readings"].items()}


def test_no_quirk_reads_the_default_and_cleans_up(api: Api) -> None:
    lists_before = len(api.data("contactslist", Limit=1000, IsDeleted="false"))
    document = check(api, "")
    assert document["result"] == "check --writes" and document["failed"] is None
    assert readings(document) == DEFAULT
    assert len(api.data("contactslist", Limit=1000, IsDeleted="false")) == lists_before
    assert not [m for m in api.data("contactmetadata", Limit=1000) if "MjeltCheck" in str(m["Name"])]
    left = document["left_behind"]
    assert left and all(item.startswith("contact mailjet-elt-check-") for item in left)
    assert all("@example.com" in item for item in left)


@pytest.mark.parametrize("spec", list(QUIRKS))
def test_each_write_quirk_reads_its_own_way(api: Api, spec: str) -> None:
    document = check(api, spec)
    assert document["failed"] is None
    assert readings(document) == {**DEFAULT, **QUIRKS[spec]}


def test_all_quirks_read_every_other_way(api: Api) -> None:
    document = check(api, "all")
    expected = {**DEFAULT}
    for changed in QUIRKS.values():
        expected.update(changed)
    assert readings(document) == expected


def test_a_probe_failing_midway_exits_1_and_still_cleans_up(api: Api) -> None:
    paced = sandbox_pacer(api)

    def wait(seconds: float) -> None:  # once the first job runs, Mailjet answers every POST with a 500
        assert api.admin("PUT", "faults", {"spec": "error_rate=1,methods=POST"}).status_code == 200
        paced.wait(seconds)

    try:
        result = checked(api, "", Pacer(now=paced.now, wait=wait))
    finally:
        api.admin("PUT", "faults", {"spec": ""})
    assert result.exit_code == 1
    document = json.loads(render(result, "json"))
    assert document["failed"].startswith("the addnoforce job with refusals: ")
    assert readings(document)["running_status"] == "guide"  # seen before the failure
    count = document["readings"]["count"]
    assert count["reading"] == NOT_OBSERVED and "the check stopped before it" in count["detail"]
    cleaned = [c.split(" (ID")[0] for c in document["cleaned"]]
    assert cleaned[0] == f"list {document['scratch_list']}" and len(cleaned) == 2
    assert cleaned[1].startswith("contact property MjeltCheck_")
    assert not api.data("contactslist", Name=document["scratch_list"], IsDeleted="false")


def test_the_cli_asks_first_and_runs_with_yes(api: Api, tmp_path: Path) -> None:
    api.app.store.job_seconds = 0  # the CLI waits in real time: each job has ended by its first poll
    try:
        refused = subprocess.run(  # as a scheduler runs it: no terminal, nothing on stdin
            [str(BIN), "check", "--writes"],
            stdin=subprocess.DEVNULL,
            env={**{k: v for k, v in os.environ.items() if not k.startswith("MAILJET__")}, **creds(api)},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert refused.returncode == 2
        assert "pass --yes" in refused.stderr and api.base in refused.stderr
        assert api.app.config.api_secret not in refused.stderr
        assert not api.data("contactslist", Name="mailjet-elt-check-")  # nothing created
        ran = run_cli(["check", "--writes", "--yes"], creds(api), tmp_path)
    finally:
        api.app.store.job_seconds = 60
    assert ran.returncode == 0, ran.stderr
    assert "Write check on" in ran.stdout and "Left behind: contact mailjet-elt-check-" in ran.stdout
