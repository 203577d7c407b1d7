# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module base every homelab.harvester module uses. It composes ``AnsibleModule`` (as
kubernetes.core's ``AnsibleK8SModule`` and amazon.aws's ``AnsibleAWSModule`` do) and adds:

- the connection options (``connection.CONNECTION_ARGS``) merged into the argument spec;
- ``client``: the one ``Client``, built on first use with ``dry_run=check_mode`` -- so input
  checks done before touching it can never cause a request -- with the connection's secrets
  registered in ``no_log_values``;
- ``run(fn)``: calls the module's one function, exits with ``changed`` (and ``diff`` only under
  ``--diff``), and turns any ``HarvesterError`` into one failure shape,
  ``fail_json(msg=str(e), **e.as_dict())``::

    def main():
        HarvesterModule(argument_spec=ARGUMENT_SPEC).run(run)   # run(module) -> dict
"""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule

from .client import Client
from .connection import CONNECTION_ARGS, kubeconfig_secrets, resolve
from .errors import HarvesterError


class HarvesterModule:
    """``params``, ``check_mode``, ``diff_mode``, ``client``, ``warn``, ``run``."""

    def __init__(self, argument_spec, supports_check_mode=True, **kwargs):
        spec = dict(CONNECTION_ARGS)
        spec.update(argument_spec)
        self.ansible = AnsibleModule(argument_spec=spec, supports_check_mode=supports_check_mode, **kwargs)
        self.params = self.ansible.params
        self.check_mode = self.ansible.check_mode
        self.diff_mode = bool(self.ansible._diff)
        self.ansible.no_log_values.update(kubeconfig_secrets(self.params.get("kubeconfig")))
        self._connection = None
        self._client = None

    @property
    def client(self):
        if self._client is None:
            self._connection = resolve(self.params)
            self.ansible.no_log_values.update(self._connection.secret_values())
            self._client = Client(self._connection, dry_run=self.check_mode)
        return self._client

    def warn(self, message):
        self.ansible.warn(message)

    def run(self, fn):
        """``fn(self)`` returns the result dict (``changed``, optional ``diff``, return values)."""
        try:
            result = fn(self)
        except HarvesterError as e:
            self.ansible.fail_json(msg=str(e), **e.as_dict())
        if self._connection is not None:  # an exec plugin may have produced a token since
            self.ansible.no_log_values.update(self._connection.secret_values())
        diff = result.pop("diff", None)
        if self.diff_mode and diff is not None:
            result["diff"] = diff
        self.ansible.exit_json(**result)
