# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the retry policy (plugins/module_utils/retry.py): decisions and delays, no sleeping."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.harvester.plugins.module_utils.errors import (
    AlreadyExists,
    Conflict,
    ConnectionFailure,
    RequestTimeout,
    TLSFailure,
)
from ansible_collections.homelab.harvester.plugins.module_utils.retry import (
    DEFAULT_POLICY,
    JSON_PATCH,
    NO_RETRY,
    RetryPolicy,
    is_idempotent,
    is_webhook_denial,
    on_conflict,
    parse_retry_after,
)

RV = {"metadata": {"name": "x", "resourceVersion": "42"}}
NO_RV = {"metadata": {"name": "x"}}
MERGE = "application/merge-patch+json"


@pytest.mark.parametrize("method, body, content_type, expected", [
    ("GET", None, None, True),
    ("get", None, None, True),
    ("DELETE", None, None, True),
    ("PUT", RV, "application/json", True),
    ("PUT", NO_RV, "application/json", False),
    ("PATCH", RV, MERGE, True),
    ("PATCH", NO_RV, MERGE, False),
    ("PATCH", [{"op": "test", "path": "/metadata/resourceVersion", "value": "42"},
               {"op": "replace", "path": "/spec/x", "value": 1}], JSON_PATCH, True),
    ("PATCH", [{"op": "add", "path": "/spec/list/-", "value": 1}], JSON_PATCH, False),
    ("POST", RV, "application/json", True),    # a fixed name: a repeat answers AlreadyExists
    ("POST", {"metadata": {"generateName": "x-"}}, "application/json", False),
    ("POST", {"metadata": {"name": "x", "generateName": "x-"}}, "application/json", False),
    ("POST", {}, "application/json", False),   # an action (Steve's node actions): may act twice
])
def test_is_idempotent(method, body, content_type, expected):
    assert is_idempotent(method, body, content_type) is expected


@pytest.mark.parametrize("status, idempotent, retried", [
    (429, False, True),   # refused before processing: even a POST
    (429, True, True),
    (500, True, True), (502, True, True), (503, True, True), (504, True, True),
    (500, False, False), (503, False, False),   # a POST may have been stored
    (400, True, False), (401, True, False), (403, True, False), (404, True, False),
    (409, True, False), (410, True, False), (422, True, False), (501, True, False),
])
def test_status_decisions(status, idempotent, retried):
    delay = DEFAULT_POLICY.decide(1, idempotent, status=status)
    assert (delay is not None) is retried


@pytest.mark.parametrize("failure, idempotent, retried", [
    (ConnectionFailure("refused", sent=False, cause="refused"), False, True),   # nothing was sent
    (ConnectionFailure("reset", sent=True, cause="reset"), True, True),
    (ConnectionFailure("reset", sent=True, cause="reset"), False, False),       # a POST may have arrived
    (ConnectionFailure("dns", sent=False, cause="dns"), True, False),
    (TLSFailure("tls", sent=False, cause="tls"), True, False),
    (RequestTimeout("slow", sent=True, cause="timeout"), True, False),         # the timeout is the caller's budget
])
def test_failure_decisions(failure, idempotent, retried):
    assert (DEFAULT_POLICY.decide(1, idempotent, failure=failure) is not None) is retried


def test_timeouts_retried_when_asked():
    policy = DEFAULT_POLICY.replace(retry_timeouts=True)
    assert policy.decide(1, True, failure=RequestTimeout("slow", sent=True, cause="timeout")) is not None
    assert policy.decide(1, False, failure=RequestTimeout("slow", sent=True, cause="timeout")) is None


def test_webhook_denial_never_retried():
    msg = 'admission webhook "validator.harvesterhci.io" denied the request: nope'
    assert is_webhook_denial(msg)
    assert DEFAULT_POLICY.decide(1, True, status=500, message=msg) is None
    assert DEFAULT_POLICY.decide(1, True, status=500, message="etcd timeout") is not None


def test_max_attempts_counts_the_first_try():
    policy = RetryPolicy(max_attempts=3, random=lambda: 0.5)
    assert policy.decide(1, True, status=503) is not None
    assert policy.decide(2, True, status=503) is not None
    assert policy.decide(3, True, status=503) is None
    assert NO_RETRY.decide(1, True, status=503) is None
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)


def test_full_jitter_bounds():
    top = RetryPolicy(max_attempts=20, base_delay=0.5, max_delay=4.0, random=lambda: 0.999999)
    bottom = top.replace(random=lambda: 0.0)
    ceilings = [top.backoff(n) for n in range(1, 10)]
    assert ceilings[:4] == pytest.approx([0.5, 1.0, 2.0, 4.0], rel=1e-5)
    assert all(c <= 4.0 for c in ceilings)              # max_delay caps the exponent
    assert all(bottom.backoff(n) == 0.0 for n in range(1, 10))


def test_backoff_iterator_yields_one_delay_per_retry():
    policy = RetryPolicy(max_attempts=4, base_delay=1.0, max_delay=10.0, random=lambda: 0.5)
    assert list(policy.delays()) == [0.5, 1.0, 2.0]
    assert list(NO_RETRY.delays()) == []


def test_retry_after_raises_the_delay_and_is_capped():
    policy = RetryPolicy(base_delay=0.25, max_retry_after=5.0, random=lambda: 0.1)
    assert policy.decide(1, False, status=429, retry_after=2) == pytest.approx(2.0)
    assert policy.decide(1, False, status=429, retry_after=600) == pytest.approx(5.0)
    assert policy.decide(1, False, status=429) == pytest.approx(0.025)


@pytest.mark.parametrize("value, expected", [("3", 3.0), ("0", 0.0), (None, None), ("", None), ("soon", None),
                                             ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0), ("-4", 0.0)])
def test_parse_retry_after(value, expected):
    assert parse_retry_after(value) == expected


def test_on_conflict_reapplies_until_it_sticks():
    calls, sleeps = [], []

    def attempt():
        calls.append(1)
        if len(calls) < 3:
            raise Conflict(409, "Conflict", "the object has been modified")
        return "applied"

    assert on_conflict(attempt, sleep=sleeps.append) == "applied"
    assert len(calls) == 3 and len(sleeps) == 2


def test_on_conflict_gives_up_and_never_retries_already_exists():
    def conflict():
        raise Conflict(409, "Conflict", "modified")

    with pytest.raises(Conflict):
        on_conflict(conflict, max_attempts=2, sleep=lambda s: None)

    calls = []

    def exists():
        calls.append(1)
        raise AlreadyExists(409, "AlreadyExists", "exists")

    with pytest.raises(AlreadyExists):
        on_conflict(exists, sleep=lambda s: None)
    assert calls == [1]


def test_on_conflict_never_retries_a_webhook_denial():
    calls = []

    def denied():
        calls.append(1)
        raise Conflict(409, "Conflict", 'admission webhook "validator.harvesterhci.io" denied the request: '
                                        "A resource with the same name exists")

    with pytest.raises(Conflict):
        on_conflict(denied, sleep=lambda s: None)
    assert calls == [1]


def test_policy_repr_is_readable():
    assert "max_attempts=10" in repr(DEFAULT_POLICY)


def test_a_policy_without_retry_refused_gives_up_on_a_refusal_and_still_retries_the_rest():
    policy = DEFAULT_POLICY.replace(retry_refused=False)
    assert policy.decide(1, True, failure=ConnectionFailure("refused", sent=False, cause="refused")) is None
    assert policy.decide(1, True, failure=ConnectionFailure("reset", sent=True, cause="reset")) is not None
    assert policy.decide(1, True, status=503) is not None
