# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fragments a module that talks to the API takes together, under one name:

    extends_documentation_fragment:
      - homelab.harvester.api                 # connection options, attributes (a module that changes things)
      - homelab.harvester.api.info_module     # connection options, attributes.info_module (only reads)
      - homelab.harvester.api.managed_object  # connection options, attributes, state, wait (one object's lifecycle)
      - homelab.harvester.api.tinkerbell      # connection options (to Tinkerbell's cluster), attributes

then the option groups it has besides (namespace, labels, description, info_filters, or state or
wait alone). Each is the named fragments joined (plugin_utils/fragments.py), nothing of its own;
PARTS says which, for the tests that hold every module's docs to its argument spec.
"""

from __future__ import annotations

# No fragment file may be named as a variant here: ansible-doc looks homelab.harvester.api.tinkerbell
# up as a fragment of its own (doc_fragments/tinkerbell.py) before it tries api's TINKERBELL.
from ansible_collections.homelab.harvester.plugins.doc_fragments import attributes, connection, state, tinkerbell_cluster, wait
from ansible_collections.homelab.harvester.plugins.plugin_utils.fragments import combined

PARTS = {
    "DOCUMENTATION": ("connection", "attributes"),
    "INFO_MODULE": ("connection", "attributes.info_module"),
    "MANAGED_OBJECT": ("connection", "attributes", "state", "wait"),
    "TINKERBELL": ("connection", "attributes", "tinkerbell_cluster"),
}
_TEXTS = {
    "connection": connection.ModuleDocFragment.DOCUMENTATION,
    "attributes": attributes.ModuleDocFragment.DOCUMENTATION,
    "attributes.info_module": attributes.ModuleDocFragment.INFO_MODULE,
    "state": state.ModuleDocFragment.DOCUMENTATION,
    "wait": wait.ModuleDocFragment.DOCUMENTATION,
    "tinkerbell_cluster": tinkerbell_cluster.ModuleDocFragment.DOCUMENTATION,
}


class ModuleDocFragment:

    DOCUMENTATION: str = combined(*(_TEXTS[p] for p in PARTS["DOCUMENTATION"]))
    INFO_MODULE: str = combined(*(_TEXTS[p] for p in PARTS["INFO_MODULE"]))
    MANAGED_OBJECT: str = combined(*(_TEXTS[p] for p in PARTS["MANAGED_OBJECT"]))
    TINKERBELL: str = combined(*(_TEXTS[p] for p in PARTS["TINKERBELL"]))
