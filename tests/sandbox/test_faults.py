"""Fault injection: rate limits with an HTML 429, 5xx, latency, dropped connections, refusals drawn per
contact, bad specs."""

from __future__ import annotations

import time

import pytest
import requests

from sandbox.exceptions import SandboxConfigError
from sandbox.faults import Faults
from tests.conftest import Api


def test_rate_limit_answers_html_429_without_retry_after(api: Api) -> None:
    api.admin("PUT", "faults", {"spec": "rate_limit=5"})
    answers = [api.get("contactslist") for _ in range(20)]  # 5 a second pass; the rest of that second not
    statuses = [a.status_code for a in answers]
    assert statuses[:5] == [200] * 5 and 429 in statuses, statuses
    limited = next(a for a in answers if a.status_code == 429)
    assert limited.headers["Content-Type"].startswith("text/html")
    assert "Retry-After" not in limited.headers
    assert "<h1>429 Too Many Requests</h1>" in limited.text
    time.sleep(0.5)
    assert api.get("contactslist").status_code == 200


def test_storm_answers_429_to_everything_for_its_share_of_each_second(api: Api) -> None:
    api.admin("PUT", "faults", {"spec": "storm=1"})
    assert {api.get("contactslist").status_code for _ in range(10)} == {429}
    api.admin("PUT", "faults", {"spec": "storm=0.5"})
    codes = set()
    deadline = time.monotonic() + 1.5  # a storm lasts half of every second: ask across more than one
    while time.monotonic() < deadline:
        codes.add(api.get("contactslist").status_code)
        time.sleep(0.01)
    assert codes == {200, 429}
    api.admin("PUT", "faults", {"spec": ""})
    assert {api.get("contactslist").status_code for _ in range(10)} == {200}


def test_error_rate_answers_500_with_an_error_identifier(api: Api) -> None:
    api.admin("PUT", "faults", {"spec": "error_rate=1"})
    response = api.get("contact")
    assert response.status_code == 500
    body = response.json()
    assert body["StatusCode"] == 500 and len(body["ErrorIdentifier"]) == 36
    assert api.admin("GET", "summary").status_code == 200
    api.admin("PUT", "faults", {"spec": "error_rate=0.5,seed=3"})
    codes = [api.get("contact").status_code for _ in range(200)]
    assert 60 < codes.count(500) < 140 and set(codes) == {200, 500}


def test_latency_makes_impatient_clients_time_out(api: Api) -> None:
    api.admin("PUT", "faults", {"spec": "latency_ms=1500"})
    with pytest.raises(requests.exceptions.ReadTimeout):
        api.session.get(f"{api.base}/v3/REST/contactslist", timeout=0.3)
    api.admin("PUT", "faults", {"spec": ""})
    assert api.session.get(f"{api.base}/v3/REST/contactslist", timeout=5).status_code == 200


def test_dropped_connection_cuts_the_body(api: Api) -> None:
    api.admin("PUT", "faults", {"spec": "drop_rate=1"})
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        api.get("contact", Limit=200)
    api.admin("PUT", "faults", {"spec": ""})
    assert api.get("contact", Limit=200).status_code == 200


def test_faults_limited_to_some_methods_leave_the_others_alone(api: Api) -> None:
    api.admin("PUT", "faults", {"spec": "latency_ms=1000,methods=POST"})
    started = time.monotonic()
    assert api.get("contact", Limit=5).status_code == 200
    assert time.monotonic() - started < 0.9  # the GET was not slowed down
    api.admin("PUT", "faults", {"spec": "error_rate=1,methods=POST+DELETE"})
    assert api.get("contact", Limit=5).status_code == 200
    assert api.put("contact/5", {"Name": "Still fine"}).status_code == 200
    assert api.post("contact", {"Email": "faulted@example.com"}).status_code == 500
    assert api.delete("listrecipient/1").status_code == 500
    api.admin("PUT", "faults", {"spec": ""})
    assert api.get("contact/faulted@example.com").status_code == 404  # a faulted request changes nothing


def test_admin_and_counters_are_not_faulted(api: Api) -> None:
    api.admin("DELETE", "requests")
    api.admin("PUT", "faults", {"spec": "error_rate=1"})
    assert api.admin("GET", "summary").status_code == 200
    api.get("contact/5")
    api.get("contact/6/getcontactslists")
    counts = api.admin("GET", "requests").json()
    assert counts["by_endpoint"] == {
        "GET /v3/REST/contact/{id}": 1,
        "GET /v3/REST/contact/{id}/getcontactslists": 1,
    }


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param("nonsense=1", id="unknown-name"),
        pytest.param("error_rate=2", id="ratio-above-1"),
        pytest.param("job_refuse_rate=1.5", id="refuse-ratio-above-1"),
        pytest.param("job_refuse_rate=-0.1", id="refuse-ratio-below-0"),
        pytest.param("job_refuse=2", id="refuse-alias-above-1"),
        pytest.param("rate_limit=-1", id="negative"),
        pytest.param("latency_ms=fast", id="not-a-number"),
        pytest.param("error_rate", id="no-value"),
        pytest.param("methods=FETCH", id="unknown-method"),
    ],
)
def test_bad_fault_specs_name_the_problem(spec: str) -> None:
    with pytest.raises(SandboxConfigError, match=spec.split("=", maxsplit=1)[0]):
        Faults.parse(spec)


def test_fault_spec_aliases_and_units() -> None:
    faults = Faults.parse(
        "rate=20, 5xx=10%, latency=50ms, drop=0.05, jobfail=1, jobrefuse=25%, storm_share=30%, "
        "method=post+Put"
    )
    assert faults.describe() == {
        "rate_limit": 20.0,
        "error_rate": 0.1,
        "latency_ms": 50.0,
        "drop_rate": 0.05,
        "job_fail_rate": 1.0,
        "job_refuse_rate": 0.25,
        "job_refuse_first": 0.0,
        "storm": 0.3,
        "seed": 0,
        "methods": "POST+PUT",
    }


def test_job_refuse_rate_parses_by_name_and_alias() -> None:
    assert Faults.parse("job_refuse_rate=0.3").job_refuse_rate == 0.3
    assert Faults.parse("jobrefuse=0.3").job_refuse_rate == 0.3
    assert Faults.parse("JOB_REFUSE=30%").job_refuse_rate == 0.3
    assert Faults.parse("").job_refuse_rate == 0.0


def test_job_refusals_are_drawn_per_contact_from_the_seed() -> None:
    emails = [f"c{i}@example.com" for i in range(400)]

    def draws(spec: str) -> list[bool]:
        faults = Faults.parse(spec)
        return [faults.job_refuses(e) for e in emails]

    half = draws("job_refuse_rate=0.5,seed=1")
    assert half == draws("job_refuse_rate=0.5,seed=1")
    assert half != draws("job_refuse_rate=0.5,seed=2")
    assert 140 < sum(half) < 260
    assert not any(draws("job_refuse_rate=0")) and all(draws("job_refuse_rate=1"))
    # The shared generator of the request faults (and so their traffic and timing) does not move the draws.
    busy = Faults.parse("job_refuse_rate=0.5,error_rate=0.5,job_fail_rate=0.5,seed=1")
    for _ in range(100):
        busy.decide("GET")
        busy.job_fails()
    assert [busy.job_refuses(e) for e in emails] == half
    # An address is drawn afresh each time (each later job), the same way whatever its case.
    faults, upper = Faults.parse("job_refuse_rate=0.5,seed=1"), Faults.parse("job_refuse_rate=0.5,seed=1")
    again = [faults.job_refuses("same@example.com") for _ in range(40)]
    assert True in again and False in again
    assert [upper.job_refuses(" Same@Example.COM") for _ in range(40)] == again


@pytest.mark.unit
def test_first_time_refusals_are_drawn_once_per_address_and_action() -> None:
    emails = [f"c{i}@example.com" for i in range(400)]

    def first(spec: str, action: str = "addnoforce") -> list[bool]:
        faults = Faults.parse(spec)
        return [faults.job_refuses_first(e, action) for e in emails]

    half = first("job_refuse_first=0.5,seed=1")
    assert half == first("jobrefusefirst=50%,seed=1") and half != first("job_refuse_first=0.5,seed=2")
    assert 140 < sum(half) < 260
    assert all(first("job_refuse_first=1")) and not any(first("job_refuse_first=0"))
    # Refused the first time a job asks an action of the address, whatever its case; never again for it.
    faults = Faults.parse("job_refuse_first=1,seed=3")
    assert faults.job_refuses_first(" Same@Example.COM", "addnoforce")
    assert not any(faults.job_refuses_first("same@example.com", "addnoforce") for _ in range(5))
    assert faults.job_refuses_first("same@example.com", "remove")  # another action is asked afresh
    assert not faults.job_refuses_first("same@example.com", "remove")
    assert not faults.job_refuses("same@example.com")  # the other refusal fault is off
    # Replacing the faults starts over.
    assert Faults.parse("job_refuse_first=1,seed=3").job_refuses_first("same@example.com", "addnoforce")
