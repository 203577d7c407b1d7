"""Rancher's local login as Harvester's embedded Rancher answers it (rancher/rancher v2.13
pkg/auth/providers/publicapi/login.go): the password set with --admin-password and written next to
the kubeconfig, a token accepted as a bearer token on every API, 401 in Rancher's error shape for a
wrong password. Black-box through requests and kubectl, on a twin of its own (the flag)."""
from __future__ import annotations

import stat
import subprocess

import pytest

from .conftest import KUBECTL, TEST_CRDS, start_twin, stop_twin

PASSWORD = "lab-Admin-pw-1"
LOGIN = "/v3-public/localProviders/local"


@pytest.fixture(scope="module")
def login_twin(tmp_path_factory):
    t = start_twin(tmp_path_factory.mktemp("twin-login"), [TEST_CRDS], extra=["--admin-password", PASSWORD])
    yield t
    stop_twin(t)


def login(twin, body, **kwargs):
    s = twin.session()
    s.headers.pop("Authorization")  # the login needs no token
    return s.post(twin.url(LOGIN), params={"action": "login"}, json=body, **kwargs)


def test_the_flags_password_is_written_next_to_the_kubeconfig(login_twin):
    path = login_twin.kubeconfig.with_name("admin-password")
    assert path.read_text().strip() == PASSWORD
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_wrong_password_or_user_is_rancher_401(login_twin):
    expected = {"code": "Unauthorized", "status": 401, "message": "authentication failed", "type": "error",
                "baseType": "error"}
    for body in ({"username": "admin", "password": "nope"}, {"username": "root", "password": PASSWORD}, {}):
        r = login(login_twin, body)
        assert (r.status_code, r.json()) == (401, expected), body
    bad = login(login_twin, None, data=b"{not json")
    assert (bad.status_code, bad.json()) == (422, {"code": "InvalidBodyContent", "status": 422, "type": "error",
                                                   "baseType": "error"})


def test_the_token_is_a_bearer_token_on_every_api(login_twin, tmp_path):
    r = login(login_twin, {"username": "admin", "password": PASSWORD, "description": "automation"})
    assert r.status_code == 201, r.text
    token = r.json()
    assert set(token) == {"baseType", "expiresAt", "id", "token", "type"}
    assert token["type"] == token["baseType"] == "token" and token["token"].startswith(token["id"] + ":")
    s = login_twin.session(token=token["token"])
    assert s.get(login_twin.url("/v1/harvester/nodes")).json()["count"] == 3
    assert s.get(login_twin.url("/api/v1/namespaces/default")).status_code == 200
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(login_twin.kubeconfig.read_text().replace(login_twin.token, token["token"]))
    out = subprocess.run([KUBECTL, "--kubeconfig", str(kubeconfig), "get", "nodes", "-o", "name"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and out.stdout.split() == ["node/ms02-1", "node/ms02-2", "node/ms02-3"]
    assert login_twin.session(token=token["token"] + "x").get(login_twin.url("/api/v1/nodes")).status_code == 401
