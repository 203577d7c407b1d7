# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The attributes of a module: check mode, diff mode, the action group and how a task executes
(the action plugin, async). A module adds only its own ``details`` (merged into these by
ansible-doc):

    extends_documentation_fragment:
      - homelab.harvester.attributes              # a module that talks to the API and changes things
      - homelab.harvester.attributes.info_module  # a module that talks to the API and only reads
      - homelab.harvester.attributes.standalone   # a module outside the API's action group (no connection options)

Each variant is whole, so a module lists one. The variants are DOCUMENTATION with a few entries
changed (plugin_utils/fragments.py), so what they share is written once. homelab.harvester.module
joins the connection options and these attributes under one name.
"""

from __future__ import annotations

from ansible_collections.homelab.harvester.plugins.plugin_utils.fragments import variant


class ModuleDocFragment:

    DOCUMENTATION = r"""
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
  action_group:
    description: Use C(group/homelab.harvester.harvester) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - homelab.harvester.harvester
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
    support: full
    details:
      - >-
        On a local connection (C(connection=local), or C(delegate_to=localhost)) the whole module runs inside the
        ansible-playbook worker, with the controller's Python (C(ansible_playbook_python)), and prints the progress of
        long waits as it happens.
      - >-
        It runs as an ordinary module instead when the task is C(async), uses C(become), targets another connection,
        or when the variable C(homelab_harvester_in_process) or the controller's environment variable
        E(HOMELAB_HARVESTER_IN_PROCESS) is false. Both ways give the same result.
  async:
    description: Supports being used with the C(async) keyword.
    support: full
    details: An C(async) task runs as an ordinary module (the async wrapper needs a module process).
"""

    INFO_MODULE: str = variant(DOCUMENTATION, "attributes", change={
        "check_mode": {"details": "The module only reads; it returns the same answer in check mode."},
        "diff_mode": {"support": "none", "details": "Nothing is ever changed, so there is no diff."},
    })

    # amt_power and harvester_install_files: no connection options, so not in the action group;
    # each says in its own details of action where it runs and writes.
    STANDALONE: str = variant(DOCUMENTATION, "attributes", remove=["action_group"])
