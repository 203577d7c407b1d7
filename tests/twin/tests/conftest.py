"""Fixtures that run the twin as a real process (python -m tests.twin) and reach it only over
HTTPS, through clients we did not write: kubectl, the kubernetes Python client, requests."""
from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import yaml

ROOT = Path(__file__).resolve().parents[3]
# Controllers' delays are scaled by --speed: tests run the twin ten times faster than real time.
TEST_SPEED = "10"
UPSTREAM_CRDS = ROOT.parent / "shared" / "reference" / "crds"
KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"
# Widget: a test-only kind with no webhooks or controllers, for plain API semantics
TEST_CRDS = Path(__file__).resolve().parent / "crds"


@dataclass
class RunningTwin:
    process: subprocess.Popen
    kubeconfig: Path
    server: str
    token: str
    ca_file: Path
    workdir: Path

    # plain HTTPS -------------------------------------------------------------------------------
    def session(self, token: str | None = None) -> requests.Session:
        """A session with the twin's token (kept and reused: one TLS handshake) or ``token``."""
        if token is None:
            cached = self.__dict__.get("_session")
            if cached is None:
                cached = self.__dict__["_session"] = self._new_session(self.token)
            return cached
        return self._new_session(token)

    def _new_session(self, token: str) -> requests.Session:
        s = requests.Session()
        s.trust_env = False  # else REQUESTS_CA_BUNDLE in the environment overrides verify=
        s.verify = str(self.ca_file)
        s.headers["Authorization"] = f"Bearer {token}"
        return s

    def url(self, path: str) -> str:
        return self.server + path

    def reset(self) -> None:
        self.session().post(self.url("/_twin/reset")).raise_for_status()

    def requests_log(self, since: int = 0) -> list[dict]:
        r = self.session().get(self.url("/_twin/requests"), params={"since": since})
        r.raise_for_status()
        return r.json()

    def last_seq(self) -> int:
        log = self.requests_log()
        return log[-1]["seq"] if log else 0

    def fault(self, **spec) -> None:
        self.session().post(self.url("/_twin/faults"), json=spec).raise_for_status()

    # kubectl -----------------------------------------------------------------------------------
    def kubectl(self, *args: str, input: str | None = None, check: bool = True, timeout: float = 30,
                ) -> subprocess.CompletedProcess:
        cmd = [KUBECTL, "--kubeconfig", str(self.kubeconfig), "--request-timeout=20s", *args]
        proc = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}{proc.stdout}")
        return proc

    # the kubernetes Python client --------------------------------------------------------------
    def dynamic(self):
        from kubernetes import config, dynamic
        api_client = config.new_client_from_config(config_file=str(self.kubeconfig))
        return dynamic.DynamicClient(api_client)


def start_twin(workdir: Path, crd_dirs: list[Path] = (), extra: list[str] = ()) -> RunningTwin:
    workdir.mkdir(parents=True, exist_ok=True)
    kc = workdir / "kubeconfig"
    args = [sys.executable, "-m", "tests.twin", "--port", "0", "--kubeconfig", str(kc), "--speed", TEST_SPEED, *extra]
    for d in crd_dirs:
        args += ["--crds", str(d)]
    log = open(workdir / "twin.log", "w")  # noqa: SIM115 - lives as long as the process
    proc = subprocess.Popen(args, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while not kc.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"twin did not start:\n{(workdir / 'twin.log').read_text()}")
        time.sleep(0.05)
    doc = yaml.safe_load(kc.read_text())
    cluster = doc["clusters"][0]["cluster"]
    ca_file = workdir / "ca.crt"
    ca_file.write_bytes(base64.b64decode(cluster["certificate-authority-data"]))
    return RunningTwin(proc, kc, cluster["server"], doc["users"][0]["user"]["token"], ca_file, workdir)


def stop_twin(twin: RunningTwin) -> None:
    twin.process.send_signal(signal.SIGTERM)
    try:
        twin.process.wait(10)
    except subprocess.TimeoutExpired:
        twin.process.kill()


@pytest.fixture(scope="module")
def twin_process(tmp_path_factory):
    t = start_twin(tmp_path_factory.mktemp("twin"), [TEST_CRDS])
    yield t
    stop_twin(t)


@pytest.fixture
def twin(twin_process):
    """A twin in its start state for each test (one process per test module)."""
    twin_process.reset()
    return twin_process


def upstream_crd_dirs() -> list[Path]:
    if not UPSTREAM_CRDS.is_dir():
        return []
    return sorted(p for p in UPSTREAM_CRDS.iterdir() if p.is_dir())


@pytest.fixture(scope="module")
def upstream_twin_process(tmp_path_factory):
    dirs = upstream_crd_dirs()
    if not dirs:
        pytest.skip("../shared/reference/crds is not here (a fresh clone): upstream CRD checks skipped")
    t = start_twin(tmp_path_factory.mktemp("twin-upstream"), dirs)
    yield t
    stop_twin(t)


@pytest.fixture
def upstream_twin(upstream_twin_process):
    upstream_twin_process.reset()
    return upstream_twin_process


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
