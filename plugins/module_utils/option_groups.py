# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The option groups several modules share, each written once as an argument spec here and once as
documentation in its doc fragment (the kubernetes.core way: ``AUTH_ARG_SPEC`` plus the ``auth``
fragment):

    ==================  ==============================================  ==============================
    spec                fragment                                        options
    ==================  ==============================================  ==============================
    STATE_ARGS          homelab.harvester.state                         state (present/absent)
    wait_args(seconds)  homelab.harvester.wait                          wait, wait_timeout
    NAMESPACE_ARGS      homelab.harvester.namespace                     namespace
    LABELS_ARGS         homelab.harvester.labels                        labels
    DESCRIPTION_ARGS    homelab.harvester.description                   description (shown in the UI)
    INFO_FILTER_ARGS    homelab.harvester.info_filters                  namespace, label_selector
    LISTING_ARGS        homelab.harvester.listing                       name, and INFO_FILTER_ARGS
    ==================  ==============================================  ==============================

A module merges the groups it has into its spec (``{**STATE_ARGS, **wait_args(600), ...}``) and
lists the fragments in ``extends_documentation_fragment``. ansible-doc merges a fragment's option
with the module's own entry of that name key by key, the module's winning: a module whose ``state``
means something particular writes only its ``description``; the wait fragment leaves the default
of ``wait_timeout`` to each module (it differs: a key pair is validated in seconds, an upgrade
takes an hour). tests/unit/plugins/module_utils/test_option_groups.py holds each fragment to its
spec and each module's rendered docs to its spec.
"""

from __future__ import annotations

STATE_ARGS = {"state": {"type": "str", "choices": ["present", "absent"], "default": "present"}}

NAMESPACE_ARGS = {"namespace": {"type": "str", "default": "default"}}

LABELS_ARGS = {"labels": {"type": "dict"}}

DESCRIPTION_ARGS = {"description": {"type": "str"}}

INFO_FILTER_ARGS = {"namespace": {"type": "str", "default": "default"}, "label_selector": {"type": "str"}}

LISTING_ARGS = {"name": {"type": "str"}, **INFO_FILTER_ARGS}


def wait_args(timeout):
    """``wait`` (default true) and ``wait_timeout`` in seconds, defaulting to ``timeout``."""
    return {"wait": {"type": "bool", "default": True}, "wait_timeout": {"type": "int", "default": timeout}}
