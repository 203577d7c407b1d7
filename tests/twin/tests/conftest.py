"""Fixtures that run the twin as a real process (python -m tests.twin) and reach it only over
HTTPS, through clients we did not write: kubectl, the kubernetes Python client, requests."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
import requests

from tests.twin import launch
from tests.twin.launch import KUBECTL, RunningTwin, stop_twin  # noqa: F401 - the tests' names for them

ROOT = Path(__file__).resolve().parents[3]
# Controllers' delays are scaled by --speed: tests run the twin twenty times faster than real time,
# as make demo and the site-level runs do (at 10, make check took 123 s against 115 s on 2 cores).
TEST_SPEED = "20"
UPSTREAM_CRDS = ROOT.parent / "shared" / "reference" / "crds"
# Widget: a test-only kind with no webhooks or controllers, for plain API semantics
TEST_CRDS = Path(__file__).resolve().parent / "crds"


def start_twin(workdir: Path, crd_dirs: list[Path] = (), extra: list[str] = ()) -> RunningTwin:
    """A twin at the tests' speed (tests/twin/launch.py starts it)."""
    return launch.start_twin(workdir, crd_dirs, ["--speed", TEST_SPEED, *extra])


@pytest.fixture(scope="module")
def twin_process(twins):
    """The worker's twin with the test CRDs (tests/conftest.py: TwinPool)."""
    return twins.get([TEST_CRDS])


@pytest.fixture
def twin(twin_process):
    """A twin in its start state for each test."""
    twin_process.reset()
    return twin_process


def upstream_crd_dirs() -> list[Path]:
    if not UPSTREAM_CRDS.is_dir():
        return []
    return sorted(p for p in UPSTREAM_CRDS.iterdir() if p.is_dir())


@pytest.fixture(scope="module")
def upstream_twin_process(twins):
    dirs = upstream_crd_dirs()
    if not dirs:
        pytest.skip("../shared/reference/crds is not here (a fresh clone): upstream CRD checks skipped")
    return twins.get(dirs)


@pytest.fixture
def upstream_twin(upstream_twin_process):
    upstream_twin_process.reset()
    return upstream_twin_process


def own_twin(workdir: Path, crd_dirs: list[Path] = (), extra: list[str] = ()):
    """The body of a module fixture for a twin of the module's own (its own --lab, say): start,
    hand over, stop. Use as `yield from own_twin(...)`."""
    t = start_twin(workdir, crd_dirs, extra)
    yield t
    stop_twin(t)


def read(twin, path: str) -> dict:
    """GET path as JSON, failing the test on any error status."""
    r = twin.session().get(twin.url(path))
    r.raise_for_status()
    return r.json()


def read_or_none(twin, path: str) -> dict | None:
    """GET path as JSON; None when it does not answer 200 (gone, not there yet)."""
    r = twin.session().get(twin.url(path))
    return r.json() if r.status_code == 200 else None


def wait_for(fn, what: str = "the condition", timeout: float = 10.0, interval: float = 0.05):
    """Poll fn until it returns something truthy (and return that), or fail naming what and the
    last value seen: controllers act a moment after a write, as on a real cluster."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; last seen: {value!r}")
        time.sleep(interval)


def status_of(response: requests.Response) -> dict:
    """The Status body of an error response, checked to be a real Kubernetes Status."""
    body = response.json()
    assert body["kind"] == "Status" and body["apiVersion"] == "v1", body
    assert body["code"] == response.status_code, body
    return body


def dumps(obj) -> str:
    return json.dumps(obj)


os.environ.setdefault("KUBECTL_COMMAND_HEADERS", "false")


UPSTREAM_FIXTURES = {"upstream_twin", "upstream_twin_process", "upstream"}


def pytest_collection_modifyitems(items):
    """What runs against the upstream CRDs (all of ../shared/reference/crds: seconds to load each
    time) is `slow`: `make test` runs it, `make check` leaves it out."""
    for item in items:
        if UPSTREAM_FIXTURES & set(getattr(item, "fixturenames", ())) or "upstream" in item.nodeid.split("::")[0]:
            item.add_marker(pytest.mark.slow)
