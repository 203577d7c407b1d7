"""The twin as a process: its command line, its kubeconfig, TLS with its own CA, bearer tokens."""
from __future__ import annotations

import os
import signal
import ssl
import stat
import subprocess
import sys
import time

import pytest
import requests
import yaml

from .conftest import ROOT, start_twin, status_of, stop_twin


def test_kubeconfig_points_at_a_serving_twin(twin):
    doc = yaml.safe_load(twin.kubeconfig.read_text())
    assert doc["current-context"] == "twin"
    assert twin.server.startswith("https://127.0.0.1:")
    assert stat.S_IMODE(os.stat(twin.kubeconfig).st_mode) == 0o600
    # written only once serving: the first request after the file appears succeeds
    assert twin.session().get(twin.url("/version")).status_code == 200


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_explicit_port_is_used_and_a_signal_stops_it_cleanly(tmp_path, stop):
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    kc = tmp_path / "kc"
    proc = subprocess.Popen([sys.executable, "-m", "tests.twin", "--port", str(port), "--kubeconfig", str(kc)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(300):
            if kc.exists():
                break
            time.sleep(0.05)
        assert yaml.safe_load(kc.read_text())["clusters"][0]["cluster"]["server"] == f"https://127.0.0.1:{port}"
    finally:
        proc.send_signal(stop)
        assert proc.wait(10) == 0


def test_bad_crds_folder_is_a_usage_error(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "tests.twin", "--port", "0", "--kubeconfig", str(tmp_path / "kc"),
                           "--crds", str(tmp_path / "missing")], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 2
    assert "not a directory" in proc.stderr
    assert not (tmp_path / "kc").exists()


def test_tls_verifies_with_the_kubeconfig_ca(twin):
    r = requests.get(twin.url("/api/v1/namespaces"), verify=str(twin.ca_file),
                     headers={"Authorization": f"Bearer {twin.token}"})
    assert r.status_code == 200


def test_tls_fails_without_the_ca(twin):
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(twin.url("/version"), headers={"Authorization": f"Bearer {twin.token}"})


def test_tls_fails_with_another_twins_ca(twin, tmp_path):
    other = start_twin(tmp_path / "other")
    try:
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(twin.url("/version"), verify=str(other.ca_file))
    finally:
        stop_twin(other)


def test_plain_http_is_not_served(twin):
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(twin.url("/version").replace("https://", "http://"), timeout=5)


def test_server_certificate_names_loopback(twin):
    host, port = twin.server.removeprefix("https://").rsplit(":", 1)
    ctx = ssl.create_default_context(cafile=str(twin.ca_file))
    import socket
    with socket.create_connection((host, int(port))) as sock, ctx.wrap_socket(sock, server_hostname=host) as tls:
        assert tls.version() in ("TLSv1.2", "TLSv1.3")


@pytest.mark.parametrize("header", [None, "Bearer not-the-token", "Basic dXNlcjpwYXNz", "Bearer "])
def test_missing_or_wrong_token_is_401(twin, header):
    headers = {"Authorization": header} if header else {}
    r = requests.get(twin.url("/api/v1/namespaces"), verify=str(twin.ca_file), headers=headers)
    assert r.status_code == 401
    body = status_of(r)
    assert body["reason"] == "Unauthorized"


def test_wrong_token_is_refused_by_kubectl(twin, tmp_path):
    cache = f"--cache-dir={tmp_path}"
    # Without cached discovery kubectl reports a 401 on /api generically, as against a real cluster
    cold = twin.kubectl(cache, "--token", "not-the-token", "get", "namespaces", check=False)
    assert cold.returncode != 0
    assert "You must be logged in to the server (the server has asked for the client to provide credentials)" \
        in cold.stderr
    # With discovery cached by an earlier good call, the GET itself is refused and the Status shows
    twin.kubectl(cache, "get", "namespaces")
    warm = twin.kubectl(cache, "--token", "not-the-token", "get", "namespaces", check=False)
    assert warm.returncode != 0
    assert "error: You must be logged in to the server (Unauthorized)" in warm.stderr


def test_health_endpoints_need_no_token(twin):
    r = requests.get(twin.url("/readyz"), verify=str(twin.ca_file))
    assert r.status_code == 200 and r.text == "ok"


def _seconds_until_pending(t) -> float:
    """Time from a danger-zone Longhorn setting change (volumes attached) until its controller,
    after its sync delay, reports it not applied."""
    path = "/apis/longhorn.io/v1beta2/namespaces/longhorn-system/settings/taint-toleration"
    s = t.session()
    started = time.monotonic()
    s.patch(t.url(path), data='{"value":"dedicated=storage:NoSchedule"}',
            headers={"Content-Type": "application/merge-patch+json"}).raise_for_status()
    while time.monotonic() - started < 20:
        if s.get(t.url(path)).json().get("status", {}).get("applied") is False:
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError("taint-toleration never became pending")


def test_speed_scales_the_controllers_delays(twin, tmp_path):
    from tests.twin.controllers.longhorn import SYNC_DELAY
    slow = start_twin(tmp_path / "slow", extra=["--speed", "1"])
    try:
        time.sleep(SYNC_DELAY + 1)  # the start-up syncs of every setting are over
        assert _seconds_until_pending(slow) >= SYNC_DELAY * 0.95
    finally:
        stop_twin(slow)
    assert _seconds_until_pending(twin) < SYNC_DELAY * 0.95  # --speed 10: a tenth of it


def test_speed_must_be_positive(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "tests.twin", "--port", "0", "--kubeconfig", str(tmp_path / "kc"),
                           "--speed", "0"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 2 and "--speed must be positive" in proc.stderr
    assert not (tmp_path / "kc").exists()
