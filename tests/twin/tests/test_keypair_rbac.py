"""KeyPair (Harvester's validator and fingerprint controller), the RBAC kinds (the apiserver's
own checks) and the ServiceAccount token controller, through requests, kubectl and the
kubernetes dynamic client against a twin process."""
from __future__ import annotations

import base64

import pytest

from .conftest import status_of, wait_for

KEYPAIRS = "/apis/harvesterhci.io/v1beta1/namespaces/default/keypairs"
RBAC = "/apis/rbac.authorization.k8s.io/v1"
SECRETS = "/api/v1/namespaces/default/secrets"
SERVICE_ACCOUNTS = "/api/v1/namespaces/default/serviceaccounts"

# public keys made with ssh-keygen, and what `ssh-keygen -l -E md5` printed for them
ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINIo/2HGpPL7GjBFJsVI7cMISvAndq+HWkTUGcr4VPsi ops@lab"
ED25519_MD5 = "af:b2:31:64:25:41:11:b8:0e:7f:f0:03:35:bd:c5:74"
RSA = ("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCV7DDgygK9AMtJyhl/hbGDFvT8yg11tvV0H0BC8V+nMHu7hFeX4AT5igvmHSTMuWJHc4U3beY4w"
       "zNkSuf3EIur+TV6KXAIqiVjtiNY3QVwHXle/02MDWmPf7c85clD9zfhARUbdvNN7d/jj5i5iFB7JNaIUaYGRFr3QGrnBvqThE+2pdtR/D+wnaLj32A1z"
       "x7XptRY2P5kGwaspx9k/dehbTmGnarIrZ9LsiZneooA6XyUWdFYJjDpBsRIRJAR1dcwFvslKbPh4s3VfIq+6kf9kehatmFGUc2Ck1aW5+FAMFSpS7t7q"
       "TE6o+0g8ZQgMq3l0CpULi+99k3u5zmN+OmX rsa@lab")
RSA_MD5 = "33:56:2e:c3:a7:de:08:78:9c:b1:10:ce:57:6e:bd:12"
ECDSA = ("ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBNCCsbzdxHP2Dx2p697yO8Bnaxba6BqCDM+Y/yWJ"
         "EgIK0XOE4Iv/GIQL84pTRnN74gN9Qw+UThixoIkiUh3bRYERN5L/swX18qr/uDbPL8nkX6o7q2SwPw2aMwaqG1vRKw== ec@lab")
ECDSA_MD5 = "0c:96:0f:53:0e:5b:65:3d:c9:da:ba:b3:49:c3:70:51"

INVALID_KEY = 'admission webhook "validator.harvesterhci.io" denied the request: key is not in valid OpenSSH public key format'


def keypair(name: str, key: str) -> dict:
    return {"apiVersion": "harvesterhci.io/v1beta1", "kind": "KeyPair", "metadata": {"name": name},
            "spec": {"publicKey": key}}


def fingerprinted(twin, name: str):
    def read():
        kp = twin.session().get(twin.url(f"{KEYPAIRS}/{name}")).json()
        return kp if (kp.get("status") or {}).get("fingerPrint") else None
    return wait_for(read, f"keypair {name} to get its fingerprint")


# ---------------------------------------------------------------------------------- KeyPair
@pytest.mark.parametrize("key, fingerprint", [(ED25519 + "\n", ED25519_MD5), (RSA, RSA_MD5), (ECDSA, ECDSA_MD5)],
                         ids=["ed25519", "rsa", "ecdsa"])
def test_keypair_gets_the_md5_fingerprint_and_validated(twin, key, fingerprint):
    r = twin.session().post(twin.url(KEYPAIRS), json=keypair("ops", key))
    assert r.status_code == 201, r.text
    kp = fingerprinted(twin, "ops")
    assert kp["status"]["fingerPrint"] == fingerprint
    [cond] = kp["status"]["conditions"]
    assert cond["type"] == "validated" and cond["status"] == "True" and "lastUpdateTime" in cond
    assert kp["spec"]["publicKey"] == key  # stored as given, comment and newline included


@pytest.mark.parametrize("key", [
    "ssh-ed25519 not-base64!",
    "ssh-ed25519",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINIo/2HGpPL7GjBFJsVI7cMISvAndq+HWkTUGcr4VP",  # truncated blob
    "ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQABAAAAAQ== x",  # an RSA blob cut inside the modulus
    "# just a comment",
    "-----BEGIN OPENSSH PRIVATE KEY-----",
], ids=["not-base64", "no-blob", "truncated", "short-rsa", "comment-only", "private-key"])
def test_invalid_public_key_refused_by_the_webhook(twin, key):
    r = twin.session().post(twin.url(KEYPAIRS), json=keypair("bad", key))
    body = status_of(r)
    assert r.status_code == 422 and body["reason"] == "Invalid"
    assert body["message"] == INVALID_KEY
    assert body["details"]["causes"][0]["field"] == "spec.publicKey"
    assert twin.session().get(twin.url(f"{KEYPAIRS}/bad")).status_code == 404


def test_empty_public_key_refused(twin):
    r = twin.session().post(twin.url(KEYPAIRS), json=keypair("empty", ""))
    assert r.status_code == 422
    assert status_of(r)["message"] == 'admission webhook "validator.harvesterhci.io" denied the request: public key is required'


def test_key_type_word_is_not_checked_like_parse_authorized_key(twin):
    """x/crypto/ssh reads the key type from the blob; the first word is skipped unchecked."""
    _type, blob, comment = ED25519.split(" ")
    r = twin.session().post(twin.url(KEYPAIRS), json=keypair("loose", f"ssh-rsa {blob} {comment}"))
    assert r.status_code == 201, r.text
    assert fingerprinted(twin, "loose")["status"]["fingerPrint"] == ED25519_MD5


def test_public_key_change_is_allowed_but_the_fingerprint_stays(twin):
    """Harvester's validator re-checks a new key but allows it; its controller only fingerprints
    a KeyPair that has no fingerprint yet, so the old one stays."""
    s = twin.session()
    s.post(twin.url(KEYPAIRS), json=keypair("ops", ED25519)).raise_for_status()
    kp = fingerprinted(twin, "ops")
    kp["spec"]["publicKey"] = RSA
    r = s.put(twin.url(f"{KEYPAIRS}/ops"), json=kp)
    assert r.status_code == 200, r.text
    bad = dict(r.json(), spec={"publicKey": "ssh-rsa AAAA"})
    assert status_of(s.put(twin.url(f"{KEYPAIRS}/ops"), json=bad))["message"] == INVALID_KEY
    live = s.get(twin.url(f"{KEYPAIRS}/ops")).json()
    assert live["spec"]["publicKey"] == RSA and live["status"]["fingerPrint"] == ED25519_MD5


def test_kubectl_get_keypairs(twin):
    twin.session().post(twin.url(KEYPAIRS), json=keypair("ops", ED25519)).raise_for_status()
    fingerprinted(twin, "ops")
    out = twin.kubectl("get", "keypairs", "-n", "default").stdout
    assert out.split("\n")[0].split() == ["NAME", "FINGER_PRINT", "AGE"]
    assert out.split("\n")[1].split()[:2] == ["ops", ED25519_MD5]
    assert twin.kubectl("get", "kp", "ops", "-o", "jsonpath={.status.conditions[0].type}").stdout == "validated"


# ---------------------------------------------------------------------------------- RBAC
def binding(name: str, role_kind: str, role: str) -> dict:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role},
            "subjects": [{"kind": "ServiceAccount", "name": "guest", "namespace": "default"}]}


def test_csi_driver_cluster_role_is_seeded(twin):
    client = twin.dynamic()
    api = client.resources.get(api_version="rbac.authorization.k8s.io/v1", kind="ClusterRole")
    role = api.get(name="harvesterhci.io:csi-driver").to_dict()
    assert role["rules"][0] == {"apiGroups": ["storage.k8s.io"], "resources": ["storageclasses"], "verbs": ["get", "list", "watch"]}
    assert any("networkfilesystems" in r["resources"] for r in role["rules"])


def test_role_binding_role_ref_cannot_change(twin):
    s = twin.session()
    r = s.post(twin.url(f"{RBAC}/namespaces/default/rolebindings"), json=binding("guest-csi", "ClusterRole", "harvesterhci.io:csi-driver"))
    assert r.status_code == 201, r.text
    changed = dict(r.json(), roleRef={"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"})
    r = s.put(twin.url(f"{RBAC}/namespaces/default/rolebindings/guest-csi"), json=changed)
    body = status_of(r)
    assert r.status_code == 422 and body["reason"] == "Invalid"
    assert body["message"] == ('RoleBinding.rbac.authorization.k8s.io "guest-csi" is invalid: roleRef: Invalid value: '
                               'rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"ClusterRole", Name:"view"}: '
                               "cannot change roleRef")
    proc = twin.kubectl("patch", "rolebinding", "guest-csi", "--type=merge", "-p", '{"roleRef":{"name":"view"}}', check=False)
    assert proc.returncode != 0 and "cannot change roleRef" in proc.stderr
    assert s.get(twin.url(f"{RBAC}/namespaces/default/rolebindings/guest-csi")).json()["roleRef"]["name"] == "harvesterhci.io:csi-driver"


def test_rbac_defaults_and_validation(twin):
    s = twin.session()
    crb = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "default-guest"},
           "roleRef": {"kind": "ClusterRole", "name": "harvesterhci.io:csi-driver"},
           "subjects": [{"kind": "Group", "name": "ops"}, {"kind": "ServiceAccount", "name": "guest", "namespace": "default"}]}
    r = s.post(twin.url(f"{RBAC}/clusterrolebindings"), json=crb)
    assert r.status_code == 201, r.text
    assert r.json()["roleRef"]["apiGroup"] == "rbac.authorization.k8s.io"
    assert r.json()["subjects"][0]["apiGroup"] == "rbac.authorization.k8s.io"

    bad_crb = dict(crb, metadata={"name": "bad"}, roleRef={"kind": "Role", "name": "x"},
                   subjects=[{"kind": "ServiceAccount", "name": "guest"}])
    body = status_of(s.post(twin.url(f"{RBAC}/clusterrolebindings"), json=bad_crb))
    assert body["message"] == ('ClusterRoleBinding.rbac.authorization.k8s.io "bad" is invalid: [roleRef.kind: Unsupported value: "Role": '
                               'supported values: "ClusterRole", subjects[0].namespace: Required value]')

    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "reader"},
            "rules": [{"apiGroups": [""], "resources": ["pods"]}]}
    body = status_of(s.post(twin.url(f"{RBAC}/namespaces/default/roles"), json=role))
    assert body["code"] == 422
    assert body["message"] == ('Role.rbac.authorization.k8s.io "reader" is invalid: rules[0].verbs: Required value: '
                               "verbs must contain at least one value")
    role["rules"][0]["verbs"] = ["get"]
    assert s.post(twin.url(f"{RBAC}/namespaces/default/roles"), json=role).status_code == 201
    assert "reader" in twin.kubectl("get", "roles", "-n", "default").stdout


# ---------------------------------------------------------------------------------- tokens
def token_secret(name: str, account: str) -> dict:
    return {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
            "metadata": {"name": name, "annotations": {"kubernetes.io/service-account.name": account}}}


def filled(twin, name: str):
    def read():
        secret = twin.session().get(twin.url(f"{SECRETS}/{name}")).json()
        return secret if "token" in (secret.get("data") or {}) else None
    return wait_for(read, f"secret {name} to get its token")


def test_token_secret_is_filled_and_the_token_authenticates(twin):
    s = twin.session()
    sa = s.post(twin.url(SERVICE_ACCOUNTS), json={"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "guest"}})
    sa.raise_for_status()
    s.post(twin.url(SECRETS), json=token_secret("guest-token", "guest")).raise_for_status()
    secret = filled(twin, "guest-token")
    data = secret["data"]
    assert base64.b64decode(data["namespace"]) == b"default"
    assert base64.b64decode(data["ca.crt"]) == twin.ca_file.read_bytes()
    assert secret["metadata"]["annotations"]["kubernetes.io/service-account.uid"] == sa.json()["metadata"]["uid"]
    token = base64.b64decode(data["token"]).decode()
    assert token.count(".") == 2  # JWT-shaped, as the real controller's

    assert twin.session(token=token).get(twin.url("/api/v1/namespaces")).status_code == 200
    assert twin.session(token=token + "x").get(twin.url("/api/v1/namespaces")).status_code == 401

    # a ServiceAccount's deletion takes its token with it, and the token stops working
    s.delete(twin.url(f"{SERVICE_ACCOUNTS}/guest")).raise_for_status()
    wait_for(lambda: s.get(twin.url(f"{SECRETS}/guest-token")).status_code == 404, "the token secret to be deleted")
    assert twin.session(token=token).get(twin.url("/api/v1/namespaces")).status_code == 401


def test_token_secret_of_a_missing_service_account_is_deleted(twin):
    s = twin.session()
    assert s.post(twin.url(SECRETS), json=token_secret("orphan-token", "nobody")).status_code == 201
    wait_for(lambda: s.get(twin.url(f"{SECRETS}/orphan-token")).status_code == 404, "the orphan token secret to be deleted")


def test_opaque_secret_is_left_alone(twin):
    s = twin.session()
    body = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "plain"}, "stringData": {"a": "b"}}
    s.post(twin.url(SECRETS), json=body).raise_for_status()
    # a token secret made afterwards is handled, so by then the controller has seen the opaque one
    s.post(twin.url(SERVICE_ACCOUNTS), json={"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "late"}})
    s.post(twin.url(SECRETS), json=token_secret("late-token", "late")).raise_for_status()
    filled(twin, "late-token")
    assert s.get(twin.url(f"{SECRETS}/plain")).json()["data"] == {"a": base64.b64encode(b"b").decode()}


def test_kubectl_create_rbac_objects(twin):
    """kubectl's typed create commands send RBAC objects as protobuf."""
    twin.kubectl("create", "clusterrolebinding", "default-guest", "--clusterrole=harvesterhci.io:csi-driver",
                 "--serviceaccount=default:guest")
    twin.kubectl("create", "rolebinding", "guest-view", "--clusterrole=view", "--user=bob", "-n", "default")
    crb = twin.session().get(twin.url(f"{RBAC}/clusterrolebindings/default-guest")).json()
    assert crb["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "harvesterhci.io:csi-driver"}
    assert crb["subjects"] == [{"kind": "ServiceAccount", "name": "guest", "namespace": "default"}]
    rb = twin.session().get(twin.url(f"{RBAC}/namespaces/default/rolebindings/guest-view")).json()
    assert rb["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "bob"}]
