# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pre-flight checks on the Harvester cluster before a Cluster API cluster is written: every
image, VM network and the KeyPair the machines name exist there, images are not failed, and an
address pool lies inside its VM network's subnet. CAPI would accept the objects anyway and the
machines would then hang in Provisioning; a check here fails in a second with every problem
named, and nothing written.

Names without a namespace are looked up in the target namespace (where CAPHV creates the VMs).
Reads only (GET); a read that is refused (403) counts as a problem named as such.
"""

from __future__ import annotations

import ipaddress
import json

from .. import kinds
from ..errors import ApiError, HarvesterError
from ..vm_network import ANNOTATION_ROUTE


class PreflightFailed(HarvesterError):
    def __init__(self, problems):
        super().__init__("pre-flight on Harvester failed: " + "; ".join(problems))
        self.problems = problems

    def as_dict(self):
        return {"problems": self.problems}


def split(ref, default_namespace):
    namespace, slash, name = ref.partition("/")
    return (namespace, name) if slash else (default_namespace, ref)


def _get(client, kind, ref, default_namespace, problems, what):
    namespace, name = split(ref, default_namespace)
    try:
        obj = client.get(kind.path(namespace, name), missing_ok=True)
    except ApiError as e:
        problems.append(f"{what} {namespace}/{name}: {e.reason or e.status} ({e.message})")
        return None
    if obj is None:
        problems.append(f"{what} {namespace}/{name} not found")
    return obj


def _image_problem(image, ref):
    status = image.get("status") or {}
    for cond in status.get("conditions") or []:
        if cond.get("type") == "Imported" and cond.get("status") == "False" and cond.get("reason") == "ImportFailed":
            return f"image {ref} failed to import: {cond.get('message') or 'no message'}"
    return None


def route_cidr(nad):
    """The subnet a VM network's route annotation names (manual, or learned by DHCP), or None."""
    text = ((nad.get("metadata") or {}).get("annotations") or {}).get(ANNOTATION_ROUTE)
    try:
        route = json.loads(text) if text else {}
        return ipaddress.ip_network(route["cidr"], strict=False) if route.get("cidr") else None
    except (ValueError, TypeError, KeyError):
        return None


def _pool_fits(pool, nad, option, problems):
    subnet = route_cidr(nad) if nad else None
    if subnet is None:
        return  # the network has no known subnet (auto route not learned yet): nothing to compare
    ours = ipaddress.ip_network(pool["subnet"], strict=False)
    if not ours.subnet_of(subnet):
        problems.append(f"{option}.subnet {ours} is not inside VM network {pool['network']}'s subnet {subnet}")
        return
    for key in ("range_start", "range_end", "gateway"):
        if ipaddress.ip_address(pool[key]) not in subnet:
            problems.append(f"{option}.{key} {pool[key]} is not inside VM network {pool['network']}'s subnet {subnet}")


def check(client, spec):
    """Raise ``PreflightFailed`` listing every problem; return the objects read, by reference."""
    problems = []
    seen = {}
    target = spec["target_namespace"]
    machines = [spec["control_plane"]] + list(spec["workers"])
    for ref in sorted({m["image"] for m in machines}):
        image = _get(client, kinds.VM_IMAGE, ref, target, problems, "image")
        problem = _image_problem(image, ref) if image else None
        if problem:
            problems.append(problem)
        seen[("image", ref)] = image
    pools = [(spec["load_balancer"].get("pool"), "load_balancer.pool"), (spec.get("machine_ip_pool"), "machine_ip_pool")]
    networks = {n for m in machines for n in m["networks"]} | {pool["network"] for pool, option in pools if pool}
    for ref in sorted(networks):
        seen[("network", ref)] = _get(client, kinds.NAD, ref, target, problems, "VM network")
    seen[("keypair", spec["ssh_keypair"])] = _get(client, kinds.KEY_PAIR, spec["ssh_keypair"], target, problems, "KeyPair")
    for pool, option in pools:
        if pool:
            _pool_fits(pool, seen.get(("network", pool["network"])), option, problems)
    if problems:
        raise PreflightFailed(problems)
    return seen
