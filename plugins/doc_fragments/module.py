# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every module that talks to the Harvester API shares, in one fragment: the connection
options and notes (homelab.harvester.connection) and the attributes (homelab.harvester.attributes:
check and diff mode, the action group, how a task executes). Put together from those two files, so
the text stays written once:

    extends_documentation_fragment:
      - homelab.harvester.module        # a module that changes things
      - homelab.harvester.module.info   # a module that only reads
"""

from __future__ import annotations

from ansible_collections.homelab.harvester.plugins.doc_fragments.attributes import ModuleDocFragment as _Attributes
from ansible_collections.homelab.harvester.plugins.doc_fragments.connection import ModuleDocFragment as _Connection


class ModuleDocFragment:

    DOCUMENTATION = _Connection.DOCUMENTATION + _Attributes.MODULE.lstrip("\n")

    INFO = _Connection.DOCUMENTATION + _Attributes.MODULE_INFO.lstrip("\n")
