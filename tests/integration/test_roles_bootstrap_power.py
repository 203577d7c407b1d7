# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The bootstrap role's network boot through AMT, run as users run it (`ansible-playbook -i
inventory/lab playbooks/bootstrap.yml --tags bootstrap`), each node's AMT a local WS-Management
endpoint (tests/amt_server.py) given through bootstrap_amt_endpoints as the twin's amt-endpoints.yml
gives them. What each endpoint was asked proves what the role did:

- an installed cluster: no AMT is even asked (the cluster says every node is there);
- a plan check or a missing AMT password fails before any AMT is asked;
- nothing at the VIP: the create node first (one-time PXE, power on), then the wait for the API,
  and the joins only once it answers (here it never does, so they stay off);
- a node missing from a running cluster: that one alone is booted; the create node missing from a
  running cluster is refused (a second cluster), nothing powered;
- a wrong AMT password stops at the create node with AMT's refusal.

From bare metal all the way to Ready nodes (the twin's `--bare`: its simulated AMT, PXE and
install), and the same through Tinkerbell: test_roles_bootstrap_bare.py."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import types

import pytest
import yaml

from tests.amt_server import closed_port, serve
from tests.integration.playbooks import ROOT
from tests.integration.roles import LAB_INVENTORY, copy_inventory, run_site

pytestmark = [pytest.mark.twin, pytest.mark.integration]

PLAYBOOK = ROOT / "playbooks" / "bootstrap.yml"
NODES = ["ms02-1", "ms02-2", "ms02-3"]
AMT_PASSWORD = yaml.safe_load((LAB_INVENTORY / "group_vars" / "all" / "vault.yml").read_text())["vault_amt_password"]
NO_WAIT = {"bootstrap_wait": False, "bootstrap_settings": False}


@contextlib.contextmanager
def amts(power=8):
    """One AMT endpoint per node, all off; yields (endpoints by node, the extra vars that point the role at them)."""
    with contextlib.ExitStack() as stack:
        found = {n: stack.enter_context(serve(password=AMT_PASSWORD, power=power)) for n in NODES}
        endpoints = {n: {"host": "127.0.0.1", "port": a.port, "tls": False} for n, a in found.items()}
        yield found, {"bootstrap_amt_endpoints": endpoints}


def no_api(tmp_path, port=None):
    """Something that stands for "a cluster" whose VIP nothing answers at: a kubeconfig to a closed
    port (or to ``port``)."""
    kubeconfig = tmp_path / "dead-kubeconfig"
    server = f"https://127.0.0.1:{port or closed_port()}"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "dead",
        "clusters": [{"name": "dead", "cluster": {"server": server, "insecure-skip-tls-verify": True}}],
        "users": [{"name": "dead", "user": {"token": "no-cluster-yet"}}],
        "contexts": [{"name": "dead", "context": {"cluster": "dead", "user": "dead"}}]}))
    return types.SimpleNamespace(kubeconfig=kubeconfig)


@contextlib.contextmanager
def resetting_listener():
    """A port where something accepts each connection and resets it at once (SO_LINGER 0): a
    server that is there but broken, or a proxy in the way. Yields (port, accepted connections)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)  # so the loop notices the end of the test
    accepted, done = [], threading.Event()

    def serve_resets():
        while not done.is_set():
            try:
                conn, peer = listener.accept()
            except TimeoutError:
                continue
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()
            accepted.append(1)
    thread = threading.Thread(target=serve_resets, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], accepted
    finally:
        done.set()
        thread.join(5)
        listener.close()


def bootstrap(twin, tmp_path, inventory=LAB_INVENTORY, **extra):
    return run_site(twin, tmp_path, playbook=PLAYBOOK, inventory=inventory, tags=["bootstrap"], extra_vars=extra)


def test_an_installed_cluster_touches_no_nodes_power(twin, tmp_path):
    with amts(power=2) as (found, endpoints):
        rc, out, recap = bootstrap(twin, tmp_path, **endpoints)
    assert rc == 0 and recap["failed"] == 0, out
    assert {n: a.calls for n, a in found.items()} == {n: [] for n in NODES}


def test_no_node_is_powered_when_the_plan_check_fails(tmp_path):
    def duplicate_vlan(lab, hosts):
        lab["lab_vlans"][2]["id"] = 30
    inventory = copy_inventory(tmp_path, duplicate_vlan)
    with amts() as (found, endpoints):
        rc, out, recap = bootstrap(no_api(tmp_path), tmp_path, inventory=inventory, **endpoints)
    assert rc != 0 and "The lab plan has 1 problem(s), nothing was changed" in out, out
    assert {n: a.calls for n, a in found.items()} == {n: [] for n in NODES}


def test_nothing_at_the_vip_boots_the_create_node_first_and_the_joins_only_once_the_api_answers(tmp_path):
    with amts() as (found, endpoints):
        rc, out, recap = bootstrap(no_api(tmp_path), tmp_path, bootstrap_wait_retries=2, bootstrap_wait_delay=1,
                                   **NO_WAIT, **endpoints)
    assert rc != 0 and recap["failed"] == 1, out
    assert found["ms02-1"].boots == ["pxe"] and found["ms02-1"].power == 2
    assert ("ms02-1 was powered on to install, but the Harvester API (VIP 10.10.10.5) did not answer within 2 s") in out
    assert "The joins were not powered." in out
    assert found["ms02-2"].calls == [] and found["ms02-3"].calls == []


def test_a_vip_that_resets_connections_is_not_read_as_no_cluster(tmp_path):
    # something answered at the VIP (a reset needs a listener), so a cluster may be there: booting
    # the create node could install a second one
    with resetting_listener() as (port, accepted), amts() as (found, endpoints):
        rc, out, recap = bootstrap(no_api(tmp_path, port), tmp_path, **NO_WAIT, **endpoints)
    assert rc != 0 and "Cannot tell which nodes the cluster has, so no node is powered" in out, out
    assert accepted, "the probe never reached the listener"
    assert {n: a.calls for n, a in found.items()} == {n: [] for n in NODES}


def test_a_missing_amt_password_fails_before_any_amt_is_asked(tmp_path):
    with amts() as (found, endpoints):
        rc, out, recap = bootstrap(no_api(tmp_path), tmp_path, bootstrap_amt_password="", **NO_WAIT, **endpoints)
    assert rc != 0 and "lab_node.amt.host and the AMT password" in out and "No node was powered." in out, out
    assert {n: a.calls for n, a in found.items()} == {n: [] for n in NODES}


def test_a_wrong_amt_password_stops_at_the_create_node(tmp_path):
    with amts() as (found, endpoints):
        rc, out, recap = bootstrap(no_api(tmp_path), tmp_path, bootstrap_amt_password="Wr0ng-Amt-Pw!", **NO_WAIT, **endpoints)
    assert rc != 0 and "refused the credentials of user admin" in out, out
    assert "Wr0ng-Amt-Pw!" not in out
    assert found["ms02-1"].auth_failures == 1 and found["ms02-1"].power == 8
    assert found["ms02-2"].calls == [] and found["ms02-3"].calls == []


def test_a_node_missing_from_the_cluster_is_booted_alone(twin, tmp_path):
    twin.kubectl("delete", "node", "ms02-3")
    with amts() as (found, endpoints):
        rc, out, recap = bootstrap(twin, tmp_path, **NO_WAIT, **endpoints)
    assert rc == 0 and recap["failed"] == 0, out
    assert found["ms02-3"].boots == ["pxe"]
    assert found["ms02-1"].calls == [] and found["ms02-2"].calls == []


def test_the_create_node_missing_from_a_running_cluster_is_refused(twin, tmp_path):
    twin.kubectl("delete", "node", "ms02-1")
    with amts() as (found, endpoints):
        rc, out, recap = bootstrap(twin, tmp_path, **NO_WAIT, **endpoints)
    assert rc != 0 and "ms02-1 (role create) is not one of its nodes (ms02-2, ms02-3): installing it would create a second " \
        "cluster" in out, out
    assert {n: a.calls for n, a in found.items()} == {n: [] for n in NODES}
