# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options shared by every module (plugins/module_utils/connection.py CONNECTION_ARGS).
Use with ``extends_documentation_fragment: [homelab.harvester.connection]``. Edit both together:
tests/unit/plugins/module_utils/test_connection.py compares them."""

from __future__ import annotations


class ModuleDocFragment:

    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path to a kubeconfig file, a list of paths (merged, the first file to define a name wins),
        or the kubeconfig itself as a dictionary.
      - Can also be given with the E(K8S_AUTH_KUBECONFIG) environment variable (several paths separated by V(:)).
      - If neither O(host) with a credential nor this is given, E(KUBECONFIG) is used, then C(~/.kube/config).
      - Users with a bearer token, a C(tokenFile), a client certificate or an C(exec) credential plugin
        (C(client.authentication.k8s.io/v1) or C(v1beta1), run only when needed) are supported;
        C(auth-provider) users and basic auth are refused.
      - Secrets of a kubeconfig given as a dictionary are masked in the output.
    type: raw
  context:
    description:
      - The name of a context in the kubeconfig. Defaults to its C(current-context).
      - Can also be given with the E(K8S_AUTH_CONTEXT) environment variable.
    type: str
  host:
    description:
      - URL of the Harvester Kubernetes API, for example C(https://10.10.10.5:6443) or a Rancher
        proxy URL such as C(https://rancher.example/k8s/clusters/c-m-abcd).
      - Can also be given with the E(K8S_AUTH_HOST) environment variable.
      - Overrides the server of the kubeconfig.
    type: str
  api_key:
    description:
      - Bearer token used to authenticate with the API.
      - Can also be given with the E(K8S_AUTH_API_KEY) environment variable.
      - Never logged and never shown in task output or error messages.
    type: str
  validate_certs:
    description:
      - Whether to verify the API server's TLS certificate.
      - Can also be given with the E(K8S_AUTH_VALIDATE_CERTS) or E(K8S_AUTH_VERIFY_SSL) environment variable
        (the strings V(True) and V(False), as AWX injects them).
      - If not set, the kubeconfig's C(insecure-skip-tls-verify) decides, and verification is on otherwise.
    type: bool
    aliases: [verify_ssl]
  ca_cert:
    description:
      - Path to the CA certificate (PEM) that signed the API server's certificate. Only this CA is trusted.
      - Can also be given with the E(K8S_AUTH_CA_CERT) or E(K8S_AUTH_SSL_CA_CERT) environment variable.
      - If not set, the kubeconfig's C(certificate-authority-data) or C(certificate-authority) is used,
        else the system trust store.
    type: path
    aliases: [ssl_ca_cert]
  client_cert:
    description:
      - Path to a client certificate (PEM) used to authenticate with the API.
      - Can also be given with the E(K8S_AUTH_CLIENT_CERT) or E(K8S_AUTH_CERT_FILE) environment variable.
    type: path
    aliases: [cert_file]
  client_key:
    description:
      - Path to the private key (PEM) of O(client_cert).
      - Can also be given with the E(K8S_AUTH_CLIENT_KEY) or E(K8S_AUTH_KEY_FILE) environment variable.
    type: path
    aliases: [key_file]
  proxy:
    description:
      - URL of an HTTP proxy to reach the API through (C(http://[user:password@]host:port)); HTTPS is tunnelled with CONNECT.
      - Can also be given with the E(K8S_AUTH_PROXY) environment variable; the kubeconfig's C(proxy-url) otherwise.
      - The usual E(HTTPS_PROXY) and E(NO_PROXY) variables are not used.
    type: str
  request_timeout:
    description:
      - Seconds to wait for the API to answer one request (each retry gets the same time again).
      - Can also be given with the E(K8S_AUTH_REQUEST_TIMEOUT) environment variable.
    type: float
    default: 30
notes:
  - Options are resolved field by field in this order, the first one set wins, the module option,
    then its E(K8S_AUTH_*) environment variable, then the kubeconfig.
  - The kubeconfig is not read when O(host) and a credential (O(api_key) or O(client_cert)) are given
    and neither O(kubeconfig) nor O(context) is.
  - This is what the AWX / Automation Platform C(OpenShift or Kubernetes API Bearer Token) credential
    injects (E(K8S_AUTH_HOST), E(K8S_AUTH_API_KEY), E(K8S_AUTH_VERIFY_SSL), E(K8S_AUTH_SSL_CA_CERT)),
    and the same names M(kubernetes.core.k8s) reads.
  - Requests that are safe to repeat are retried with exponential backoff and jitter on HTTP 429
    (honouring C(Retry-After)), 500, 502, 503, 504 and on connection resets; creates are not repeated
    unless the connection was refused.
  - Set E(HOMELAB_HARVESTER_DEBUG_LOG) to a file path to log each API request (method, path, status, time;
    never headers or bodies) to that file.
"""
