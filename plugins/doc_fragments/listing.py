# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the ``*_info`` modules that list one kind in one request select by: ``name``, ``namespace``
(empty: every namespace) and ``label_selector`` (plugins/module_utils/option_groups.py LISTING_ARGS,
read by plugins/module_utils/listing.py). It is homelab.harvester.info_filters with a name and
that reading of the namespace, so the label selector is written once."""

from __future__ import annotations

from ansible_collections.homelab.harvester.plugins.doc_fragments import info_filters
from ansible_collections.homelab.harvester.plugins.plugin_utils.fragments import variant


class ModuleDocFragment:

    DOCUMENTATION: str = variant(info_filters.ModuleDocFragment.DOCUMENTATION, "options", add={
        "name": {"description": ["Name of one object. The result is an empty list when it does not exist."],
                 "type": "str"},
    }, change={
        "namespace": {"description": ["Namespace of the objects listed. V(null) (or an empty string) lists every "
                                      "namespace."]},
    })
