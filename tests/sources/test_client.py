"""The one Mailjet client against the sandbox: writes retried like reads under one rate limit and one set
of counters, bulk jobs polled to their end with their error report, a pool that fits its threads."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from sources.mailjet.client import MailjetHttp
from sources.mailjet.config import MailjetConfiguration
from sources.mailjet.exceptions import MailjetJobFailed, MailjetJobTimeout
from sources.mailjet.settings import MAX_ACTIVE_READERS
from tests.conftest import Api, start

NEWSLETTER = 1001
SERVICE_MESSAGES = 1002
BULK = f"contactslist/{SERVICE_MESSAGES}/managemanycontacts"


def connect(api: Api, **settings: Any) -> MailjetHttp:
    """The client `[mailjet]` would build for this sandbox, with fast retries unless told otherwise."""
    config = MailjetConfiguration(
        api_key=api.app.config.api_key,
        api_secret=api.app.config.api_secret,
        base_url=api.base,
        **{"backoff_seconds": 0.01, "max_attempts": 12, **settings},
    )
    return MailjetHttp.from_config(config)


@pytest.fixture
def client(api: Api) -> Iterator[MailjetHttp]:
    http = connect(api)
    yield http
    http.close()


def set_faults(api: Api, spec: str) -> None:
    assert api.admin("PUT", "faults", {"spec": spec}).status_code == 200


def served(api: Api) -> dict[str, int]:
    """API requests the sandbox received, by method and endpoint (faulted ones included)."""
    return dict(api.admin("GET", "requests").json()["by_endpoint"])


def memberships(api: Api, email: str) -> list[int]:
    return [int(str(row["ListID"])) for row in api.data("listrecipient", ContactEmail=email)]


def test_bulk_job_through_dropped_posts_completes_with_its_error_report(
    api: Api, client: MailjetHttp
) -> None:
    # Seed 7 drops the first two POSTs (after the sandbox applied them) and lets the third through.
    set_faults(api, "drop_rate=0.5,seed=7,methods=POST")
    api.admin("DELETE", "requests")
    contacts = [{"Email": "ada@example.com"}, {"Email": "not-an-email"}, {"Email": "alan@example.com"}]

    job_id = client.start_job(BULK, {"Action": "addnoforce", "Contacts": contacts})
    result = client.wait_for_job(BULK, job_id, first_poll=0.05)

    assert (result.status, result.failed, result.job_id) == ("Completed", False, job_id)
    assert result.statuses[-1] == "Completed" and result.job["Count"] == 2
    assert result.errors == [{"Email": "not-an-email", "Error": "Invalid email address"}]
    assert dict(client.stats.retries) == {"ChunkedEncodingError": 2}
    calls = served(api)
    assert calls["POST /v3/REST/contactslist/{id}/managemanycontacts"] == 3
    assert client.stats.requests == sum(calls.values())
    # The two dropped submissions were applied too: three jobs, yet one membership each (idempotent).
    assert len(api.app.store.jobs) == 3
    api.finish_jobs()
    assert memberships(api, "ada@example.com") == [SERVICE_MESSAGES]
    assert memberships(api, "alan@example.com") == [SERVICE_MESSAGES]
    assert api.get("contact/not-an-email").status_code == 404


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        pytest.param("rate_limit=2", "429", id="429-html"),
        pytest.param("error_rate=0.5,seed=3", "5xx", id="500"),
        pytest.param("drop_rate=0.5,seed=3", "ChunkedEncodingError", id="dropped"),
    ],
)
def test_writes_are_retried_and_counted_with_reads(
    api: Api, client: MailjetHttp, spec: str, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    contact = api.data("contact", Limit=1)[0]["ID"]
    set_faults(api, f"{spec},methods=POST+PUT")
    api.admin("DELETE", "requests")
    email = "grace@example.com"

    with caplog.at_level(logging.WARNING, logger="sources"):  # what the CLI shows without -v
        total = client.count("contact")
        jobs = [
            client.start_job(BULK, {"Action": "addnoforce", "Contacts": [{"Email": email}]}) for _ in range(3)
        ]
        for name in ("Renamed", "Renamed again"):
            client.put(f"contact/{contact}", {"Name": name})
        done = [client.wait_for_job(BULK, job, first_poll=0.05) for job in jobs]
    # Each retry is one line at default verbosity: what, why, which attempt, after how long.
    said = [r.getMessage() for r in caplog.records if "; attempt " in r.getMessage()]

    assert total == 300 and [job.status for job in done] == ["Completed"] * 3
    assert client.stats.retries[reason] >= 1 and set(client.stats.retries) == {reason}
    assert len(said) == client.stats.retries[reason]
    assert all(reason in line and " of 12 in " in line for line in said), said
    calls = served(api)
    writes = sum(n for endpoint, n in calls.items() if not endpoint.startswith("GET"))
    assert writes == 5 + client.stats.retries[reason]  # every retried write went through the client
    assert client.stats.requests == sum(calls.values())  # reads and writes in one tally
    set_faults(api, "")
    assert api.data(f"contact/{contact}")[0]["Name"] == "Renamed again"
    assert memberships(api, email) == [SERVICE_MESSAGES]


def test_reads_and_writes_share_one_rate_limit(api: Api) -> None:
    # The sandbox answers 429 beyond 20 requests/s; the client keeps all its threads, reading and
    # writing, under 16/s, so not one request is refused (and none is retried: one attempt each).
    set_faults(api, "rate_limit=20")
    client = connect(api, requests_per_second=16, max_attempts=1, concurrency=4)
    reader = client.with_auth(client.auth)  # another client on the same limit, as the SMS reader is
    failures: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for _ in range(4):
                if i % 2:
                    client.start_job(
                        BULK, {"Action": "addnoforce", "Contacts": [{"Email": f"w{i}@example.com"}]}
                    )
                else:
                    reader.get("contactslist", {"Limit": 1})
        except Exception as exc:  # noqa: BLE001  # collected and asserted below
            failures.append(exc)

    started = time.monotonic()
    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    client.close()
    assert failures == []
    assert client.stats.requests == 32 and reader.stats is client.stats and not client.stats.retries
    assert time.monotonic() - started >= 31 / 16  # 32 requests spaced 1/16 s apart


def test_threads_up_to_the_pool_size_never_discard_a_connection(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    concurrency = 2
    set_faults(api, "latency_ms=30")  # keeps every thread in a request at the same time
    client = connect(api, concurrency=concurrency)
    threads_at_once = concurrency * MAX_ACTIVE_READERS
    ready = threading.Barrier(threads_at_once)
    failures: list[BaseException] = []

    def work(i: int) -> None:
        try:
            ready.wait(timeout=30)
            client.get("contactslist", {"Limit": 1})
            job = client.start_job(
                BULK, {"Action": "addnoforce", "Contacts": [{"Email": f"p{i}@example.com"}]}
            )
            client.wait_for_job(BULK, job, first_poll=0.05)
        except Exception as exc:  # noqa: BLE001  # collected and asserted below
            failures.append(exc)

    with caplog.at_level(logging.WARNING, logger="urllib3.connectionpool"):
        threads = [threading.Thread(target=work, args=(i,)) for i in range(threads_at_once)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    client.close()
    assert failures == []
    full = [r.getMessage() for r in caplog.records if "Connection pool is full" in r.getMessage()]
    assert full == []


def test_a_failed_job_returns_its_error_report_and_raise_if_failed_raises() -> None:
    app = start(faults="job_fail_rate=1")
    api = Api(app)
    client = connect(api)
    try:
        job = client.start_job(BULK, {"Action": "addforce", "Contacts": [{"Email": "nope@example.com"}]})
        result = client.wait_for_job(BULK, job, first_poll=0.05)
        assert (result.status, result.failed) == ("Error", True)
        assert result.errors == [{"Email": "nope@example.com", "Error": "job aborted"}]
        with pytest.raises(MailjetJobFailed, match=f"job {job} ended Error: Job failed"):
            result.raise_if_failed()
    finally:
        client.close()
        app.stop()


def test_polling_backs_off_and_stops_at_its_deadline_with_a_clear_error() -> None:
    app = start(job_seconds=60)
    api = Api(app)
    client = connect(api)
    try:
        job = client.start_job(BULK, {"Action": "unsub", "Contacts": [{"Email": "slow@example.com"}]})
        api.admin("DELETE", "requests")
        started = time.monotonic()
        with pytest.raises(MailjetJobTimeout) as timed_out:
            client.wait_for_job(BULK, job, timeout=1.0, first_poll=0.05, max_poll=10)
        waited = time.monotonic() - started
        polls = served(api)["GET /v3/REST/contactslist/{id}/managemanycontacts/{id}"]
    finally:
        client.close()
        app.stop()
    message = str(timed_out.value)
    assert f"job {job} is still Allocated after 1 s of polling GET /v3/REST/{BULK}/{job}" in message
    assert f"mailjet-elt api GET {BULK}/{job}" in message and timed_out.value.transient
    assert 3 <= polls <= 7  # 0.05 s doubling up to the deadline; a fixed 0.05 s would poll 20 times
    assert waited >= 1.0


def test_csv_import_error_report_has_the_rows_in_error(api: Api, client: MailjetHttp) -> None:
    upload = client.request(
        "POST",
        "/v3/DATA/contactslist/1004/CSVData/text:plain",
        data=b"email,country\ncsvok@example.com,NL\nbroken,FR\n",
        headers={"Content-Type": "text/plain"},
    )
    job = client.start_job(
        "csvimport",
        {"ContactsListID": 1004, "DataID": upload["ID"], "Method": "addnoforce", "ErrTreshold": 60},
    )
    result = client.wait_for_job("csvimport", job, first_poll=0.05)
    assert result.status == "Completed" and result.job["Errcount"] == 1
    assert result.errors == [{"email": "broken", "country": "FR", "error": "###Invalid email at line 2"}]
