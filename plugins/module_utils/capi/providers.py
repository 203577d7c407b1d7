# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a management cluster runs the Cluster API providers this collection writes objects
for, read from the API's discovery (``/apis/<group>/<version>`` lists the resources it serves):

- Cluster API core: ``cluster.x-k8s.io/v1beta2`` (clusters, machinedeployments, machines) -- the
  version capi_cluster writes, served from Cluster API v1.11;
- CAPHV: ``infrastructure.cluster.x-k8s.io/v1beta1`` (harvesterclusters, harvestermachines,
  harvestermachinetemplates), served since CAPHV v0.5.0 (``v1alpha1`` too, deprecated);
- CABPT: ``bootstrap.cluster.x-k8s.io/v1alpha3`` (talosconfigs, talosconfigtemplates);
- CACPPT: ``controlplane.cluster.x-k8s.io/v1alpha3`` (taloscontrolplanes).

Other providers share these groups (kubeadm's bootstrap and control plane, other infrastructure
providers), so a provider counts as there only when its version serves its resources. A missing
one is named with the ``clusterctl init`` flag that installs it (CAPHV is not a built-in clusterctl
provider: its URL goes into ``~/.cluster-api/clusterctl.yaml`` first). Reads only.
"""

from __future__ import annotations

from ..errors import ApiError


class Provider:
    __slots__ = ("name", "title", "group", "version", "resources", "flag")

    def __init__(self, name, title, group, version, resources, flag):
        self.name, self.title, self.group, self.version = name, title, group, version
        self.resources, self.flag = tuple(resources), flag


PROVIDERS = (
    Provider("cluster-api", "Cluster API", "cluster.x-k8s.io", "v1beta2", ("clusters", "machinedeployments", "machines"),
             "--core cluster-api"),
    Provider("caphv", "the Harvester infrastructure provider (CAPHV)", "infrastructure.cluster.x-k8s.io", "v1beta1",
             ("harvesterclusters", "harvestermachines", "harvestermachinetemplates"), "--infrastructure harvester"),
    Provider("cabpt", "the Talos bootstrap provider (CABPT)", "bootstrap.cluster.x-k8s.io", "v1alpha3",
             ("talosconfigs", "talosconfigtemplates"), "--bootstrap talos"),
    Provider("cacppt", "the Talos control plane provider (CACPPT)", "controlplane.cluster.x-k8s.io", "v1alpha3",
             ("taloscontrolplanes",), "--control-plane talos"),
)
NAMES = tuple(p.name for p in PROVIDERS)
CAPHV_REGISTRATION = ("CAPHV is not a built-in clusterctl provider: first add it to ~/.cluster-api/clusterctl.yaml "
                      "(providers: name harvester, type InfrastructureProvider, url: its infrastructure-components.yaml "
                      "release URL)")


def _served_versions(client, group):
    found = client.get(f"/apis/{group}", missing_ok=True)
    return [v.get("version") for v in (found or {}).get("versions") or []]


def check_one(client, provider):
    """What the management cluster serves of ``provider``: a dict for the module's result."""
    entry = {"name": provider.name, "group": provider.group, "version": provider.version, "served": False,
             "missing_resources": list(provider.resources), "versions_served": [], "problem": None}
    try:
        listing = client.get(f"/apis/{provider.group}/{provider.version}", missing_ok=True)
    except ApiError as e:
        entry["problem"] = f"{provider.title}: reading /apis/{provider.group}/{provider.version} failed: {e}"
        return entry
    if listing is not None:
        names = {r.get("name") for r in listing.get("resources") or []}
        entry["missing_resources"] = [r for r in provider.resources if r not in names]
    entry["served"] = listing is not None and not entry["missing_resources"]
    if entry["served"]:
        entry["versions_served"] = [provider.version]
        return entry
    entry["versions_served"] = _served_versions(client, provider.group)
    if listing is not None:
        entry["problem"] = (f"{provider.title} is missing: {provider.group}/{provider.version} serves no "
                            f"{', '.join(entry['missing_resources'])}")
    elif entry["versions_served"]:
        entry["problem"] = (f"{provider.title} is missing: {provider.group} is served in "
                            f"{', '.join(entry['versions_served'])} only, not {provider.version} (what this collection "
                            "writes); upgrade it (clusterctl upgrade plan, clusterctl upgrade apply)")
    else:
        entry["problem"] = f"{provider.title} is missing: the API group {provider.group} is not served"
    return entry


def install_command(entries):
    """The clusterctl init command for the providers that are not served at all (none: empty)."""
    missing = [p for p in PROVIDERS for e in entries if e["name"] == p.name and not e["served"]]
    if not missing:
        return ""
    return " ".join(["clusterctl init"] + [p.flag for p in missing])


def check(client, names=NAMES):
    """The module's result: ``providers`` (one entry each), ``missing`` (names), ``problems``,
    ``install_command`` and ``notes`` (what to do before it)."""
    entries = [check_one(client, p) for p in PROVIDERS if p.name in names]
    missing = [e["name"] for e in entries if not e["served"]]
    notes = [CAPHV_REGISTRATION] if "caphv" in missing else []
    return {"providers": entries, "missing": missing, "problems": [e["problem"] for e in entries if e["problem"]],
            "install_command": install_command(entries), "notes": notes}
