# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of connection resolution (plugins/module_utils/connection.py): K8S_AUTH_* fallbacks,
precedence, kubeconfig contexts, exec plugins, refusals, and that no credential is ever shown."""

from __future__ import annotations

import base64
import json
import os
import sys

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.homelab.harvester.plugins.doc_fragments.connection import ModuleDocFragment
from ansible_collections.homelab.harvester.plugins.module_utils import connection
from ansible_collections.homelab.harvester.plugins.module_utils.connection import (
    CONNECTION_ARGS,
    ENV_VARS,
    gather,
    kubeconfig_secrets,
    resolve,
)
from ansible_collections.homelab.harvester.plugins.module_utils.errors import AuthConfigError

TOKEN = "kc-token-0123456789abcdef"
CA_PEM = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"


def kubeconfig(server="https://kc.example:6443", token=TOKEN, contexts=None, current="one", user=None, cluster_extra=None):
    cluster = {"server": server, "certificate-authority-data": base64.b64encode(CA_PEM.encode()).decode()}
    cluster.update(cluster_extra or {})
    return {
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "c1", "cluster": cluster},
                     {"name": "c2", "cluster": {"server": "https://other:6443", "insecure-skip-tls-verify": True}}],
        "users": [{"name": "u1", "user": user if user is not None else {"token": token}},
                  {"name": "u2", "user": {"token": "other-token-xxxxxxxx"}}],
        "contexts": contexts if contexts is not None else [
            {"name": "one", "context": {"cluster": "c1", "user": "u1"}},
            {"name": "two", "context": {"cluster": "c2", "user": "u2"}}],
        "current-context": current,
    }


def write_kc(tmp_path, doc, name="config"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc))
    return str(path)


@pytest.fixture
def home(tmp_path, monkeypatch):
    """No ~/.kube/config and no K8S_AUTH_* / KUBECONFIG from the developer's shell."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for names in ENV_VARS.values():
        for name in names:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("KUBECONFIG", raising=False)
    return tmp_path


# --- K8S_AUTH_* fallbacks -------------------------------------------------------------------
@pytest.mark.parametrize("variable", ["K8S_AUTH_VALIDATE_CERTS", "K8S_AUTH_VERIFY_SSL"])
@pytest.mark.parametrize("text, expected", [("True", True), ("False", False), ("true", True), ("no", False), ("1", True)])
def test_validate_certs_from_either_variable(variable, text, expected):
    env = {"K8S_AUTH_HOST": "https://h:6443", "K8S_AUTH_API_KEY": TOKEN, variable: text}
    assert resolve({}, environ=env).verify is expected


@pytest.mark.parametrize("option, variables", [
    ("ca_cert", ("K8S_AUTH_CA_CERT", "K8S_AUTH_SSL_CA_CERT")),
    ("client_cert", ("K8S_AUTH_CLIENT_CERT", "K8S_AUTH_CERT_FILE")),
    ("client_key", ("K8S_AUTH_CLIENT_KEY", "K8S_AUTH_KEY_FILE")),
])
def test_both_spellings_of_path_variables(option, variables):
    for variable in variables:
        assert gather({}, environ={variable: "/some/file"})[option] == "/some/file"
    # kubernetes.core reads the Ansible-named variable first
    assert gather({}, environ={variables[0]: "/first", variables[1]: "/second"})[option] == "/first"


def test_every_option_has_its_variable():
    env = {"K8S_AUTH_KUBECONFIG": "/kc", "K8S_AUTH_CONTEXT": "ctx", "K8S_AUTH_HOST": "https://h", "K8S_AUTH_API_KEY": "t",
           "K8S_AUTH_VERIFY_SSL": "False", "K8S_AUTH_SSL_CA_CERT": "/ca", "K8S_AUTH_CERT_FILE": "/crt",
           "K8S_AUTH_KEY_FILE": "/key", "K8S_AUTH_PROXY": "http://p:3128", "K8S_AUTH_REQUEST_TIMEOUT": "7.5"}
    assert gather({}, environ=env) == {
        "kubeconfig": "/kc", "context": "ctx", "host": "https://h", "api_key": "t", "validate_certs": False, "ca_cert": "/ca",
        "client_cert": "/crt", "client_key": "/key", "proxy": "http://p:3128", "request_timeout": 7.5}


def test_awx_bearer_token_credential(tmp_path):
    """What AWX's 'OpenShift or Kubernetes API Bearer Token' credential injects."""
    ca = tmp_path / "ca.pem"
    ca.write_text(CA_PEM)
    env = {"K8S_AUTH_HOST": "https://harvester:6443/", "K8S_AUTH_API_KEY": TOKEN, "K8S_AUTH_VERIFY_SSL": "True",
           "K8S_AUTH_SSL_CA_CERT": str(ca)}
    conn = resolve({}, environ=env)
    assert (conn.server, conn.verify, conn.ca_file, conn.source) == ("https://harvester:6443", True, str(ca), "options")
    assert conn.credentials().token == TOKEN
    no_ca = resolve({}, environ={"K8S_AUTH_HOST": "https://h", "K8S_AUTH_API_KEY": TOKEN, "K8S_AUTH_VERIFY_SSL": "False"})
    assert no_ca.verify is False


def test_bad_boolean_and_timeout_are_named():
    with pytest.raises(AuthConfigError, match="K8S_AUTH_VERIFY_SSL.*'maybe' is not a boolean"):
        gather({}, environ={"K8S_AUTH_VERIFY_SSL": "maybe"})
    with pytest.raises(AuthConfigError, match="request_timeout"):
        gather({}, environ={"K8S_AUTH_REQUEST_TIMEOUT": "soon"})


def test_empty_variables_count_as_unset():
    assert gather({}, environ={"K8S_AUTH_HOST": "", "K8S_AUTH_VERIFY_SSL": ""})["host"] is None


def test_argspec_applies_the_fallbacks_the_way_ansiblemodule_does(monkeypatch):
    for names in ENV_VARS.values():
        for name in names:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("K8S_AUTH_VERIFY_SSL", "False")
    monkeypatch.setenv("K8S_AUTH_API_KEY", TOKEN)
    monkeypatch.setenv("K8S_AUTH_HOST", "https://env-host")
    result = ArgumentSpecValidator(CONNECTION_ARGS).validate({"host": "https://option-host"})
    assert not result.error_messages, result.error_messages
    params = result.validated_parameters
    assert params["validate_certs"] is False
    assert params["host"] == "https://option-host"       # option beats the variable
    assert params["request_timeout"] == 30.0
    assert TOKEN in result._no_log_values                # a token from the environment is masked too
    aliased = ArgumentSpecValidator(CONNECTION_ARGS).validate({"verify_ssl": "no", "ssl_ca_cert": "/x"})
    assert aliased.validated_parameters["validate_certs"] is False
    assert aliased.validated_parameters["ca_cert"] == "/x"


# --- precedence: option > env > kubeconfig ----------------------------------------------------
def test_kubeconfig_alone(tmp_path, home):
    conn = resolve({"kubeconfig": write_kc(tmp_path, kubeconfig())})
    assert conn.server == "https://kc.example:6443"
    assert conn.ca_data == CA_PEM and conn.ca_file is None and conn.verify is True
    assert conn.credentials().token == TOKEN and conn.context == "one"


def test_option_beats_env_beats_kubeconfig(tmp_path, home):
    kc = write_kc(tmp_path, kubeconfig())
    env = {"K8S_AUTH_KUBECONFIG": kc, "K8S_AUTH_HOST": "https://env:6443", "K8S_AUTH_VERIFY_SSL": "False"}
    conn = resolve({}, environ=env)
    assert conn.server == "https://env:6443" and conn.verify is False
    assert conn.credentials().token == TOKEN                          # the kubeconfig still gives the token
    conn = resolve({"host": "https://opt:6443", "api_key": "opt-token-123456789", "validate_certs": True}, environ=env)
    assert conn.server == "https://opt:6443" and conn.verify is True
    assert conn.credentials().token == "opt-token-123456789"


def test_host_and_token_need_no_kubeconfig(home):
    conn = resolve({"host": "https://h:6443", "api_key": TOKEN}, environ={})
    assert conn.source == "options" and conn.verify is True


def test_kubeconfig_from_default_locations(tmp_path, home):
    kube = tmp_path / "home" / ".kube"
    kube.mkdir(parents=True)
    (kube / "config").write_text(yaml.safe_dump(kubeconfig(server="https://home:6443")))
    assert resolve({}, environ={}).server == "https://home:6443"
    other = write_kc(tmp_path, kubeconfig(server="https://env:6443"), "env-config")
    assert resolve({}, environ={"KUBECONFIG": other}).server == "https://env:6443"


def test_merged_kubeconfigs_first_wins(tmp_path, home):
    first = write_kc(tmp_path, {"clusters": [{"name": "c1", "cluster": {"server": "https://first"}}],
                                "current-context": "one"}, "a")
    second = write_kc(tmp_path, kubeconfig(server="https://second"), "b")
    conn = resolve({"kubeconfig": os.pathsep.join([first, second])})
    assert conn.server == "https://first" and conn.credentials().token == TOKEN
    assert resolve({"kubeconfig": [second, first]}).server == "https://second"


def test_inline_kubeconfig_dict(home):
    conn = resolve({"kubeconfig": kubeconfig()})
    assert conn.source == "(inline dict)" and conn.credentials().token == TOKEN


def test_json_kubeconfig_skips_yaml(tmp_path, home):
    path = tmp_path / "kc.json"
    path.write_text(json.dumps(kubeconfig()))
    assert resolve({"kubeconfig": str(path)}).server == "https://kc.example:6443"


# --- contexts ------------------------------------------------------------------------------
def test_context_selection(tmp_path, home):
    kc = write_kc(tmp_path, kubeconfig())
    conn = resolve({"kubeconfig": kc, "context": "two"})
    assert conn.server == "https://other:6443" and conn.verify is False      # insecure-skip-tls-verify
    assert conn.credentials().token == "other-token-xxxxxxxx"
    assert resolve({"kubeconfig": kc}, environ={"K8S_AUTH_CONTEXT": "two"}).context == "two"
    with pytest.raises(AuthConfigError, match="context 'three' is not in kubeconfig .*available: one, two"):
        resolve({"kubeconfig": kc, "context": "three"})


def test_no_current_context(tmp_path, home):
    with pytest.raises(AuthConfigError, match="no current-context; set context to one of: one, two"):
        resolve({"kubeconfig": write_kc(tmp_path, kubeconfig(current=""))})
    single = kubeconfig(current="", contexts=[{"name": "only", "context": {"cluster": "c1", "user": "u1"}}])
    assert resolve({"kubeconfig": write_kc(tmp_path, single, "single")}).context == "only"


def test_context_naming_a_missing_cluster(tmp_path, home):
    doc = kubeconfig(contexts=[{"name": "one", "context": {"cluster": "nope", "user": "u1"}}])
    with pytest.raises(AuthConfigError, match="names cluster 'nope'"):
        resolve({"kubeconfig": write_kc(tmp_path, doc)})


def test_relative_paths_are_relative_to_the_kubeconfig(tmp_path, home):
    (tmp_path / "pki").mkdir()
    doc = kubeconfig(user={"client-certificate": "pki/u.crt", "client-key": "pki/u.key"},
                     cluster_extra={"certificate-authority-data": None, "certificate-authority": "pki/ca.crt"})
    conn = resolve({"kubeconfig": write_kc(tmp_path, doc)})
    assert conn.ca_file == str(tmp_path / "pki" / "ca.crt")
    creds = conn.credentials()
    assert creds.cert_file == str(tmp_path / "pki" / "u.crt") and creds.key_file == str(tmp_path / "pki" / "u.key")
    assert creds.token is None and conn.auth_method == "client-cert"


def test_client_certificate_data_and_token_file(tmp_path, home):
    doc = kubeconfig(user={"client-certificate-data": base64.b64encode(b"CERT").decode(),
                           "client-key-data": base64.b64encode(b"KEY").decode()})
    creds = resolve({"kubeconfig": write_kc(tmp_path, doc)}).credentials()
    assert (creds.cert_data, creds.key_data) == ("CERT", "KEY")
    (tmp_path / "token").write_text(TOKEN + "\n")
    conn = resolve({"kubeconfig": write_kc(tmp_path, kubeconfig(user={"tokenFile": "token"}), "tf")})
    assert conn.auth_method == "token-file" and conn.credentials().token == TOKEN


# --- what is refused, and how it reads ----------------------------------------------------------
def test_missing_everything_names_what_to_set(home):
    with pytest.raises(AuthConfigError) as e:
        resolve({}, environ={})
    text = str(e.value)
    assert "host (K8S_AUTH_HOST)" in text and "api_key (K8S_AUTH_API_KEY)" in text
    assert "K8S_AUTH_KUBECONFIG" in text and "~/.kube/config does not exist" in text


def test_missing_named_kubeconfig(tmp_path, home):
    with pytest.raises(AuthConfigError, match=r"kubeconfig .*/nope does not exist"):
        resolve({"kubeconfig": str(tmp_path / "nope")})


def test_user_without_credentials(tmp_path, home):
    with pytest.raises(AuthConfigError, match="user 'u1' has no credentials .*set api_key"):
        resolve({"kubeconfig": write_kc(tmp_path, kubeconfig(user={}))})


def test_auth_provider_is_refused(tmp_path, home):
    doc = kubeconfig(user={"auth-provider": {"name": "oidc", "config": {"id-token": "secret-id-token"}}})
    with pytest.raises(AuthConfigError, match="auth-provider 'oidc'.*not support.*exec credential plugin") as e:
        resolve({"kubeconfig": write_kc(tmp_path, doc)})
    assert "secret-id-token" not in str(e.value)


def test_basic_auth_is_refused(tmp_path, home):
    with pytest.raises(AuthConfigError, match="basic auth"):
        resolve({"kubeconfig": write_kc(tmp_path, kubeconfig(user={"username": "a", "password": "b"}))})


def test_broken_yaml_and_base64(tmp_path, home):
    bad = tmp_path / "bad"
    bad.write_text("clusters: [\n  - {")
    with pytest.raises(AuthConfigError, match="not valid YAML at line"):
        resolve({"kubeconfig": str(bad)})
    doc = kubeconfig(cluster_extra={"certificate-authority-data": "%%%not-base64"})
    with pytest.raises(AuthConfigError, match="certificate-authority-data is not valid base64"):
        resolve({"kubeconfig": write_kc(tmp_path, doc, "b64")})


def test_client_key_without_cert(tmp_path, home):
    key = tmp_path / "k"
    key.write_text("x")
    with pytest.raises(AuthConfigError, match="client_key is set but client_cert is not"):
        resolve({"host": "https://h", "client_key": str(key)})


# --- exec credential plugins -------------------------------------------------------------------
def exec_user(script, api_version="client.authentication.k8s.io/v1", **extra):
    config = {"apiVersion": api_version, "command": sys.executable, "args": ["-c", script],
              "env": [{"name": "PLUGIN_SECRET", "value": "env-secret-value"}], "interactiveMode": "Never"}
    config.update(extra)
    return {"exec": config}


PLUGIN = """
import json, os, sys
info = json.loads(os.environ["KUBERNETES_EXEC_INFO"])
open(sys.argv[1], "a").write(os.environ["PLUGIN_SECRET"] + " " + json.dumps(info["spec"]) + "\\n")
print(json.dumps({"apiVersion": info["apiVersion"], "kind": "ExecCredential",
                  "status": {"token": "exec-token-" + str(sum(1 for _ in open(sys.argv[1])))}}))
"""


@pytest.mark.parametrize("api_version", ["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"])
def test_exec_plugin_runs_lazily_once(tmp_path, home, api_version):
    calls = tmp_path / "calls"
    user = exec_user(PLUGIN, api_version, provideClusterInfo=True)
    user["exec"]["args"].append(str(calls))
    conn = resolve({"kubeconfig": write_kc(tmp_path, kubeconfig(user=user))})
    assert not calls.exists()                                  # resolving does not run it
    assert conn.auth_method == "exec" and "exec:" in repr(conn)
    assert conn.credentials().token == "exec-token-1"
    assert conn.credentials().token == "exec-token-1"          # cached
    secret, spec = calls.read_text().splitlines()[0].split(" ", 1)
    assert secret == "env-secret-value"
    assert json.loads(spec) == {"interactive": False, "cluster": {
        "server": "https://kc.example:6443", "certificateAuthorityData": base64.b64encode(CA_PEM.encode()).decode()}}
    assert conn.refresh() is True
    assert conn.credentials().token == "exec-token-2"
    assert "exec-token-2" in conn.secret_values()


def test_exec_not_run_when_a_token_is_given(tmp_path, home):
    user = exec_user("import sys; sys.exit(3)")
    conn = resolve({"kubeconfig": write_kc(tmp_path, kubeconfig(user=user)), "api_key": TOKEN})
    assert conn.credentials().token == TOKEN


@pytest.mark.parametrize("script, message", [
    ("import sys; sys.stderr.write('token expired\\n'); sys.exit(2)", "failed with exit code 2: token expired"),
    ("print('not json')", "did not print an ExecCredential"),
    ("import json; print(json.dumps({'kind': 'ExecCredential', 'apiVersion': 'client.authentication.k8s.io/v1beta1',"
     " 'status': {'token': 'x'}}))", "answered apiVersion"),
    ("import json; print(json.dumps({'kind': 'ExecCredential', 'apiVersion': 'client.authentication.k8s.io/v1',"
     " 'status': {}}))", "neither a token nor a client certificate"),
])
def test_exec_plugin_failures(tmp_path, home, script, message):
    conn = resolve({"kubeconfig": write_kc(tmp_path, kubeconfig(user=exec_user(script)))})
    with pytest.raises(AuthConfigError, match=message):
        conn.credentials()


def test_exec_plugin_config_refusals(tmp_path, home):
    for extra, message in ((exec_user("", "client.authentication.k8s.io/v1alpha1"), "v1alpha1' is not supported"),
                           (exec_user("", interactiveMode="Always"), "interactiveMode Always")):
        with pytest.raises(AuthConfigError, match=message):
            resolve({"kubeconfig": write_kc(tmp_path, kubeconfig(user=extra))})
    missing = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "no-such-plugin-xyz",
                        "installHint": "install it\nfrom the website"}}
    conn = resolve({"kubeconfig": write_kc(tmp_path, kubeconfig(user=missing), "m")})
    with pytest.raises(AuthConfigError, match="'no-such-plugin-xyz' not found; install it from the website"):
        conn.credentials()


# --- secrets never shown -----------------------------------------------------------------------
def test_token_never_in_repr_or_str(tmp_path, home):
    conns = [resolve({"kubeconfig": write_kc(tmp_path, kubeconfig())}),
             resolve({"host": "https://h", "api_key": TOKEN, "proxy": "http://user:proxy-pass@p:3128"}, environ={})]
    for conn in conns:
        for text in (repr(conn), str(conn), repr(conn.credentials()), str(conn.credentials())):
            assert TOKEN not in text and "proxy-pass" not in text
        assert TOKEN in conn.secret_values()
    assert "token=***" in repr(conns[0].credentials())
    assert "user:***@p:3128" in repr(conns[1])
    assert conns[0].digest() != conns[1].digest() and TOKEN not in conns[0].digest()


def test_kubeconfig_secrets_for_no_log():
    doc = kubeconfig(user={"token": TOKEN, "client-key-data": "S0VZ",
                           "exec": {"env": [{"name": "A", "value": "env-secret"}]}})
    assert kubeconfig_secrets(doc) == {TOKEN, "S0VZ", "env-secret", "other-token-xxxxxxxx"}
    assert kubeconfig_secrets("/a/path") == set()


# --- the doc fragment is the argspec ---------------------------------------------------------
def test_doc_fragment_matches_the_argspec():
    options = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    assert set(options) == set(CONNECTION_ARGS)
    for name, spec in CONNECTION_ARGS.items():
        doc = options[name]
        assert doc["type"] == spec["type"], name
        assert sorted(doc.get("aliases", [])) == sorted(spec.get("aliases", [])), name
        assert doc.get("default") == spec.get("default"), name
        text = " ".join(doc["description"])
        for variable in spec["fallback"][1]:
            assert f"E({variable})" in text, (name, variable)
    assert CONNECTION_ARGS["api_key"]["no_log"] is True
    assert connection.DEFAULT_REQUEST_TIMEOUT == options["request_timeout"]["default"]
