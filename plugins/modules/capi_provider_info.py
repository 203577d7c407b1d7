#!/usr/bin/python
# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: capi_provider_info
short_description: Check that a management cluster serves Cluster API, CAPHV and the Talos providers
version_added: 0.1.0
author:
  - Homelab platform team (@homelab)
description:
  - Reads the API discovery of the management cluster (the Platform cluster where Cluster API runs) and says, for each
    provider homelab.harvester.capi_cluster writes objects for, whether it is served at the version the collection
    writes - Cluster API C(cluster.x-k8s.io/v1beta2) (Cluster API v1.11 or later), CAPHV
    C(infrastructure.cluster.x-k8s.io/v1beta1) (HarvesterCluster, HarvesterMachine, HarvesterMachineTemplate), CABPT
    C(bootstrap.cluster.x-k8s.io/v1alpha3) (TalosConfig, TalosConfigTemplate) and CACPPT
    C(controlplane.cluster.x-k8s.io/v1alpha3) (TalosControlPlane).
  - A provider counts as served only when its version lists its resources - other providers share these API groups
    (kubeadm's bootstrap and control plane, other infrastructure providers).
  - For what is missing it returns the C(clusterctl init) command that installs it. Installing providers stays
    clusterctl's job; the capi role fails with this answer before it writes anything.
  - Never changes anything.
extends_documentation_fragment:
  - homelab.harvester.api.info_module
options:
  providers:
    description: The providers to check.
    type: list
    elements: str
    choices: [cluster-api, caphv, cabpt, cacppt]
    default: [cluster-api, caphv, cabpt, cacppt]
notes:
  - Always returns C(changed=false); a missing provider is an answer, not a failure.
seealso:
  - name: clusterctl init
    description: Installing Cluster API providers into a management cluster.
    link: https://cluster-api.sigs.k8s.io/clusterctl/commands/init
"""

EXAMPLES = r"""
- name: Read which providers the management cluster serves
  homelab.harvester.capi_provider_info:
    kubeconfig: ~/.kube/platform.yaml
  register: capi_providers

- name: Stop when one is missing
  ansible.builtin.fail:
    msg: "{{ capi_providers.problems | join('; ') }}; install with: {{ capi_providers.install_command }}"
  when: capi_providers.missing | length > 0
"""

RETURN = r"""
providers:
  description: One entry per provider checked.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: V(cluster-api), V(caphv), V(cabpt) or V(cacppt).
      type: str
    group:
      description: Its API group.
      type: str
    version:
      description: The version this collection writes.
      type: str
    served:
      description: Whether that version serves every resource of the provider.
      type: bool
    missing_resources:
      description: Its resources the version does not serve (all of them when the version is not served).
      type: list
      elements: str
    versions_served:
      description: The versions of the group the cluster serves.
      type: list
      elements: str
    problem:
      description: What is wrong, or null.
      type: str
  sample:
    - {name: caphv, group: infrastructure.cluster.x-k8s.io, version: v1beta1, served: false,
       missing_resources: [harvesterclusters, harvestermachines, harvestermachinetemplates], versions_served: [],
       problem: "the Harvester infrastructure provider (CAPHV) is missing: the API group infrastructure.cluster.x-k8s.io is not served"}
missing:
  description: The names of the providers not served.
  returned: always
  type: list
  elements: str
  sample: [caphv]
problems:
  description: One line per provider that is not served, saying what is missing.
  returned: always
  type: list
  elements: str
install_command:
  description: The C(clusterctl init) command that installs the providers that are missing; empty when none is.
  returned: always
  type: str
  sample: clusterctl init --infrastructure harvester
notes:
  description: What to do before running it (CAPHV's registration in C(~/.cluster-api/clusterctl.yaml)).
  returned: always
  type: list
  elements: str
"""

from ansible_collections.homelab.harvester.plugins.module_utils.capi import providers as capi_providers
from ansible_collections.homelab.harvester.plugins.module_utils.module import ModuleDefinition, run_module

ARGUMENT_SPEC = {
    "providers": {"type": "list", "elements": "str", "choices": list(capi_providers.NAMES),
                  "default": list(capi_providers.NAMES)},
}


def run(module):
    result = capi_providers.check(module.client, module.params["providers"])
    result["changed"] = False
    return result


DEFINITION = ModuleDefinition(ARGUMENT_SPEC, run)


if __name__ == "__main__":
    run_module(DEFINITION)
