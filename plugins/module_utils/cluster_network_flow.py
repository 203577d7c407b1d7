# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The flow of ``harvester_cluster_network``: the ClusterNetwork, then its VlanConfigs (stale
ones of this cluster network deleted first), then the wait on the agent's VlanStatuses; or,
for ``state=absent``, the VlanConfigs and then the ClusterNetwork. What the objects are is in
``cluster_network.py``. Check mode is the client's (``client.dry_run``): the writes are dry runs,
nothing is waited for, and the two writes a dry run cannot show (below) are predicted."""

from __future__ import annotations

from . import cluster_network as cnet
from . import reconcile, wait
from .wait import should_wait


def run(module):
    """harvester_cluster_network's ``run(module)``: ``cluster_network.check`` before the client
    exists (bad input makes no request), then the flow."""
    cnet.check(module.params)
    return absent(module) if module.params["state"] == "absent" else present(module)


def _view(name, exists):
    return {"name": name} if exists else {}


def _wait_gone(module, path, what):
    wait.until(lambda: module.client.get(path, missing_ok=True), lambda o: o is None, timeout=module.params["wait_timeout"],
               what=f"{what} to be deleted", describe=lambda o: "gone" if o is None else "still there")


def _delete_stale(module, stale, diff):
    """Delete VlanConfigs of this cluster network that are not wanted; returns whether any was."""
    changed = False
    for vc in stale:
        name = vc["metadata"]["name"]
        diff["before"]["vlan_configs"][name] = reconcile.managed_view(vc, cnet.ALL_VLAN_CONFIG_FIELDS)
        if vc["metadata"].get("deletionTimestamp"):
            continue
        module.client.delete(cnet.VLAN_CONFIG.path(None, name), missing_ok=True)
        changed = True
    if should_wait(module.client, module.params):
        for vc in stale:
            _wait_gone(module, cnet.VLAN_CONFIG.path(None, vc["metadata"]["name"]), f"VlanConfig {vc['metadata']['name']}")
    return changed


def present(module):
    p, client = module.params, module.client
    name = p["name"]
    cn_changed, cn_before, cn_obj, dummy = reconcile.ensure_present(client, cnet.CLUSTER_NETWORK, cnet.desired_cluster_network(name),
                                                                    fields=[])
    diff = {"before": {"cluster_network": _view(name, cn_before is not None), "vlan_configs": {}},
            "after": {"cluster_network": _view(name, True), "vlan_configs": {}}}
    mine = cnet.of_cluster_network(client.list(cnet.VLAN_CONFIG.path()), name)
    wanted = {u["name"] for u in p["uplinks"]}
    changed = cn_changed
    changed |= _delete_stale(module, [vc for vc in mine if vc["metadata"]["name"] not in wanted], diff)
    vlan_configs = []
    for uplink in p["uplinks"]:
        desired = cnet.desired_vlan_config(name, uplink)
        fields = cnet.vlan_config_fields(uplink)
        if client.dry_run and cn_before is None:
            # check mode: the ClusterNetwork was only dry-run, and the VlanConfig webhook refuses a VlanConfig
            # of a cluster network that does not exist yet: report the VlanConfig that would be created
            vc_changed, before, after = True, None, desired
        else:
            vc_changed, before, after, dummy = reconcile.ensure_present(client, cnet.VLAN_CONFIG, desired, fields=fields)
        changed |= vc_changed
        vc_name = uplink["name"]
        if before is not None:
            diff["before"]["vlan_configs"][vc_name] = reconcile.managed_view(before, fields)
        diff["after"]["vlan_configs"][vc_name] = reconcile.managed_view(desired if vc_changed else before, fields)
        vlan_configs.append(after)
    result = {"changed": changed, "cluster_network": cn_obj, "vlan_configs": vlan_configs, "diff": diff}
    if should_wait(client, p):
        expected = {vc["metadata"]["name"]: cnet.matched_nodes(vc) for vc in vlan_configs}
        for vc_name, nodes in expected.items():
            if not nodes:
                module.warn(f"uplink {vc_name} covers no node: nothing to wait for")
        path = cnet.CLUSTER_NETWORK.path(None, name)
        selector = f"{cnet.LABEL_CLUSTER_NETWORK}={name}"

        def read():
            return cnet.Health(client.get(path, missing_ok=True), client.list(cnet.VLAN_STATUS.path(), label_selector=selector), expected)

        health = wait.until(read, lambda h: h.ready(), timeout=p["wait_timeout"],
                            what=f"cluster network {name} and its VlanStatuses to be ready",
                            failed=lambda h: h.failed() or (None if h.cluster_network else "the ClusterNetwork is gone"),
                            describe=lambda h: h.summary())
        result["cluster_network"] = health.cluster_network
        result["vlan_statuses"] = sorted(health.statuses, key=lambda s: (s["vlan_config"] or "", s["node"] or ""))
    return result


def absent(module):
    p, client = module.params, module.client
    name = p["name"]
    path = cnet.CLUSTER_NETWORK.path(None, name)
    live = client.get(path, missing_ok=True)
    diff = {"before": {"cluster_network": _view(name, live is not None), "vlan_configs": {}},
            "after": {"cluster_network": {}, "vlan_configs": {}}}
    mine = cnet.of_cluster_network(client.list(cnet.VLAN_CONFIG.path()), name)
    changed = _delete_stale(module, mine, diff)
    if live is not None:
        if not live["metadata"].get("deletionTimestamp"):
            changed = True
            # the ClusterNetwork webhook refuses the delete while VlanConfigs exist: in check mode
            # they are still stored, so the dry run would be refused for a reason the real run removes
            if not (client.dry_run and mine):
                client.delete(path, missing_ok=True)
        if should_wait(client, p):
            _wait_gone(module, path, f"ClusterNetwork {name}")
    return {"changed": changed, "diff": diff}
