# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the API is and how to authenticate: the shared argument spec and its resolution.

Options are named like kubernetes.core's (``plugins/module_utils/args_common.py``
``AUTH_ARG_SPEC``) and fall back to the same ``K8S_AUTH_*`` variables, both spellings
kubernetes.core reads (``K8S_AUTH_<ansible name>`` first, then ``K8S_AUTH_<client name>``, as its
``k8s/client.py:_create_auth_spec`` does). That is what AWX's "OpenShift or Kubernetes API
Bearer Token" credential injects (``K8S_AUTH_HOST``, ``K8S_AUTH_API_KEY``,
``K8S_AUTH_VERIFY_SSL='True'|'False'``, ``K8S_AUTH_SSL_CA_CERT``=path).

Resolution (``resolve``), field by field: module option > ``K8S_AUTH_*`` > kubeconfig.
The kubeconfig is read only when it is needed: when one is named (``kubeconfig``/
``K8S_AUTH_KUBECONFIG``), a ``context`` is asked for, or ``host`` plus a credential
(``api_key`` or ``client_cert``) are not all given. The default kubeconfig is ``$KUBECONFIG``
(colon-separated files are merged, first wins, as kubectl and the kubernetes Python client do),
then ``~/.kube/config``. No in-cluster service-account fallback: inside an AWX container group
that would silently talk to the wrong cluster.

Kubeconfig users: ``token``, ``tokenFile``, client certificate (file or data) and ``exec``
credential plugins (run lazily, on the first request, never at resolution). ``auth-provider``
and basic auth are refused with a message saying what to use instead.

The result is a ``Connection``: a small value whose repr/str never show a credential.
Only standard library imports at module level; YAML is parsed with ansible's yaml helper and
only for kubeconfig files that are not JSON.
"""

from __future__ import annotations

import base64
import json
import os
from typing import NamedTuple

from ansible.module_utils.common.parameters import env_fallback

from .errors import AuthConfigError

DEFAULT_REQUEST_TIMEOUT = 30.0

# Environment variables per option, in the order they are read (kubernetes.core's order).
ENV_VARS = {
    "kubeconfig": ("K8S_AUTH_KUBECONFIG",),
    "context": ("K8S_AUTH_CONTEXT",),
    "host": ("K8S_AUTH_HOST",),
    "api_key": ("K8S_AUTH_API_KEY",),
    "validate_certs": ("K8S_AUTH_VALIDATE_CERTS", "K8S_AUTH_VERIFY_SSL"),
    "ca_cert": ("K8S_AUTH_CA_CERT", "K8S_AUTH_SSL_CA_CERT"),
    "client_cert": ("K8S_AUTH_CLIENT_CERT", "K8S_AUTH_CERT_FILE"),
    "client_key": ("K8S_AUTH_CLIENT_KEY", "K8S_AUTH_KEY_FILE"),
    "proxy": ("K8S_AUTH_PROXY",),
    "request_timeout": ("K8S_AUTH_REQUEST_TIMEOUT",),
}

# The argument spec every module merges in: ``argument_spec=dict(CONNECTION_ARGS, **own)``.
# Kept in lockstep with plugins/doc_fragments/connection.py (a unit test compares them).
CONNECTION_ARGS = {
    "kubeconfig": {"type": "raw", "fallback": (env_fallback, list(ENV_VARS["kubeconfig"]))},
    "context": {"type": "str", "fallback": (env_fallback, list(ENV_VARS["context"]))},
    "host": {"type": "str", "fallback": (env_fallback, list(ENV_VARS["host"]))},
    "api_key": {"type": "str", "no_log": True, "fallback": (env_fallback, list(ENV_VARS["api_key"]))},
    "validate_certs": {"type": "bool", "aliases": ["verify_ssl"], "fallback": (env_fallback, list(ENV_VARS["validate_certs"]))},
    "ca_cert": {"type": "path", "aliases": ["ssl_ca_cert"], "fallback": (env_fallback, list(ENV_VARS["ca_cert"]))},
    "client_cert": {"type": "path", "aliases": ["cert_file"], "fallback": (env_fallback, list(ENV_VARS["client_cert"]))},
    "client_key": {"type": "path", "aliases": ["key_file"], "no_log": False,
                   "fallback": (env_fallback, list(ENV_VARS["client_key"]))},
    "proxy": {"type": "str", "fallback": (env_fallback, list(ENV_VARS["proxy"]))},
    "request_timeout": {"type": "float", "default": DEFAULT_REQUEST_TIMEOUT,
                        "fallback": (env_fallback, list(ENV_VARS["request_timeout"]))},
}


def nested_args():
    """The connection options of a second cluster, given as one dict option (``capi_cluster``'s
    ``harvester``): the names, types, aliases and ``no_log`` of CONNECTION_ARGS, without their
    ``K8S_AUTH_*`` fallbacks (those belong to the module's own connection) and without defaults
    (a value left out is resolved as a module option left out is)."""
    return {name: {key: value for key, value in spec.items() if key not in ("fallback", "default")}
            for name, spec in CONNECTION_ARGS.items()}


EXEC_API_VERSIONS = ("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1")
_TRUE = ("1", "true", "yes", "on", "y", "t")
_FALSE = ("0", "false", "no", "off", "n", "f")


def parse_bool(value, what="value"):
    """``True``/``False`` and the strings AWX and shells use ('True', 'false', 'yes', '0'...)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise AuthConfigError(f"{what}: {value!r} is not a boolean (use true or false)")


def _b64(data, what):
    try:
        return base64.b64decode(data, validate=False).decode("utf-8")
    except (ValueError, UnicodeDecodeError) as e:
        raise AuthConfigError(f"{what} is not valid base64-encoded PEM ({e.__class__.__name__})") from None


def _expand(path):
    return os.path.abspath(os.path.expandvars(os.path.expanduser(path)))


# --- the resolved value ---------------------------------------------------------------------
class Credentials(NamedTuple):
    """What goes on the wire: a bearer token and/or a client certificate (paths or PEM data)."""

    token: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    cert_data: str | None = None
    key_data: str | None = None
    expires: str | None = None

    @property
    def has_client_cert(self):
        return bool(self.cert_file or self.cert_data)

    def __repr__(self):
        parts = []
        if self.token:
            parts.append("token=***")
        if self.has_client_cert:
            parts.append("client_cert=" + (self.cert_file or "<data>"))
        return f"Credentials({', '.join(parts) or 'none'})"

    __str__ = __repr__


class Connection:
    """Where and how to connect. Credentials come from ``credentials()`` (which runs an exec
    plugin on first use); ``repr``/``str`` never include a token or key."""

    __slots__ = ("server", "ca_file", "ca_data", "verify", "proxy", "timeout", "source", "context", "_static", "_exec",
                 "_token_file", "_cached")

    def __init__(self, server, token=None, client_cert=None, client_key=None, client_cert_data=None, client_key_data=None,
                 ca_file=None, ca_data=None, verify=True, proxy=None, timeout=DEFAULT_REQUEST_TIMEOUT, token_file=None,
                 exec_config=None, source="options", context=None):
        self.server = server.rstrip("/")
        self.ca_file = ca_file
        self.ca_data = ca_data
        self.verify = verify
        self.proxy = proxy or None
        self.timeout = float(timeout) if timeout else DEFAULT_REQUEST_TIMEOUT
        self.source = source  # "options", or the kubeconfig it came from
        self.context = context
        self._static = Credentials(token, client_cert, client_key, client_cert_data, client_key_data)
        self._token_file = token_file
        self._exec = exec_config  # an ExecPlugin, or None
        self._cached = None

    # credentials -----------------------------------------------------------------------
    @property
    def auth_method(self):
        if self._static.token:
            return "token"
        if self._static.has_client_cert:
            return "client-cert"
        if self._token_file:
            return "token-file"
        if self._exec is not None:
            return "exec"
        return "none"

    @property
    def uses_exec(self):
        return self._exec is not None and not self._static.token and not self._static.has_client_cert

    def credentials(self):
        """The credentials to send; an exec plugin runs here, once, on first call."""
        if self._cached is not None:
            return self._cached
        creds = self._static
        if not creds.token and not creds.has_client_cert:
            if self._token_file:
                try:
                    with open(self._token_file, encoding="utf-8") as f:
                        token = f.read().strip()
                except OSError as e:
                    raise AuthConfigError(f"tokenFile {self._token_file}: {e.strerror or e}") from None
                creds = Credentials(token=token)
            elif self._exec is not None:
                creds = self._exec.run(self.server)
        self._cached = creds
        return creds

    def refresh(self):
        """Forget cached exec credentials (after a 401); ``True`` if there was something to refresh."""
        if self.uses_exec and self._cached is not None:
            self._cached = None
            return True
        return False

    def secret_values(self):
        """Strings a module should add to ``module.no_log_values`` (known without running exec)."""
        values = {v for v in (self._static.token, self._static.key_data) if v}
        if self._cached is not None:
            values.update(v for v in (self._cached.token, self._cached.key_data) if v)
        return values

    def digest(self):
        """A stable key for the process-wide session pool (credentials hashed, never shown)."""
        import hashlib
        h = hashlib.sha256()
        for value in (self.server, self._static.token, self._static.cert_file, self._static.key_file,
                      self._static.cert_data, self._static.key_data, self._token_file,
                      self._exec.digest() if self._exec else None, self.ca_file, self.ca_data, self.verify, self.proxy):
            h.update(repr(value).encode("utf-8"))
            h.update(b"\0")
        return h.hexdigest()

    def __repr__(self):
        if self.ca_data:
            ca = "kubeconfig-data"
        elif self.ca_file:
            ca = self.ca_file
        else:
            ca = "system"
        auth = self.auth_method
        if auth == "exec":
            auth = f"exec:{self._exec.command}"
        return (f"Connection(server={self.server!r}, auth={auth}, ca={ca}, verify={self.verify}, "
                f"proxy={_redact_url(self.proxy)!r}, timeout={self.timeout}, source={self.source!r})")

    __str__ = __repr__


def _redact_url(url):
    """A proxy URL without its password."""
    if not url or "@" not in url:
        return url
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    userinfo, hostpart = rest.rsplit("@", 1)
    user = userinfo.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{hostpart}"


# --- exec credential plugins -----------------------------------------------------------
class ExecPlugin:
    """A kubeconfig ``exec`` user: runs the command and reads its ExecCredential from stdout."""

    __slots__ = ("api_version", "command", "args", "env", "install_hint", "provide_cluster_info", "cluster", "base_dir",
                 "timeout")

    def __init__(self, config, base_dir, cluster=None, timeout=60.0):
        api_version = config.get("apiVersion") or ""
        if api_version not in EXEC_API_VERSIONS:
            raise AuthConfigError(f"exec credential plugin: apiVersion {api_version!r} is not supported "
                                  f"(use {' or '.join(EXEC_API_VERSIONS)})")
        if not config.get("command"):
            raise AuthConfigError("exec credential plugin: no command")
        if config.get("interactiveMode") == "Always":
            raise AuthConfigError(f"exec credential plugin {config['command']!r} needs interactiveMode Always; "
                                  "Ansible runs without a terminal: use a non-interactive plugin or a token")
        self.api_version = api_version
        self.command = config["command"]
        self.args = [str(a) for a in config.get("args") or []]
        self.env = {str(e.get("name")): str(e.get("value", "")) for e in config.get("env") or [] if isinstance(e, dict)}
        self.install_hint = config.get("installHint") or ""
        self.provide_cluster_info = bool(config.get("provideClusterInfo"))
        self.cluster = cluster or {}
        self.base_dir = base_dir
        self.timeout = timeout

    def digest(self):
        return repr((self.api_version, self.command, self.args, sorted(self.env.items())))

    def _argv0(self):
        # client-go: a relative command with a path separator is relative to the kubeconfig.
        if os.sep in self.command and not os.path.isabs(self.command) and self.base_dir:
            return os.path.join(self.base_dir, self.command)
        return self.command

    def run(self, server):
        import subprocess  # only users with an exec plugin pay for it
        spec = {"interactive": False}
        if self.provide_cluster_info:
            spec["cluster"] = {"server": server}
            spec["cluster"].update({_CLUSTER_INFO[k]: v for k, v in self.cluster.items() if k in _CLUSTER_INFO})
        env = dict(os.environ)
        env.update(self.env)
        env["KUBERNETES_EXEC_INFO"] = json.dumps({"apiVersion": self.api_version, "kind": "ExecCredential", "spec": spec})
        name = os.path.basename(self.command)
        try:
            proc = subprocess.run([self._argv0()] + self.args, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                                  timeout=self.timeout, check=False, cwd=self.base_dir or None)
        except FileNotFoundError:
            hint = f"; {' '.join(self.install_hint.split())}" if self.install_hint else ""
            raise AuthConfigError(f"exec credential plugin {self.command!r} not found{hint}") from None
        except subprocess.TimeoutExpired:
            raise AuthConfigError(f"exec credential plugin {name!r} gave no answer within {self.timeout:g} s") from None
        except OSError as e:
            raise AuthConfigError(f"exec credential plugin {name!r} could not run: {e.strerror or e}") from None
        if proc.returncode != 0:
            err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            tail = f": {err[-1][:300]}" if err else ""
            raise AuthConfigError(f"exec credential plugin {name!r} failed with exit code {proc.returncode}{tail}")
        try:
            doc = json.loads(proc.stdout.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise AuthConfigError(f"exec credential plugin {name!r} did not print an ExecCredential JSON object") from None
        if not isinstance(doc, dict) or doc.get("kind") != "ExecCredential":
            raise AuthConfigError(f"exec credential plugin {name!r} printed something else than an ExecCredential")
        if doc.get("apiVersion") != self.api_version:
            raise AuthConfigError(f"exec credential plugin {name!r} answered apiVersion {doc.get('apiVersion')!r}, "
                                  f"the kubeconfig asked for {self.api_version!r}")
        status = doc.get("status") or {}
        token = status.get("token")
        cert, key = status.get("clientCertificateData"), status.get("clientKeyData")
        if not token and not (cert and key):
            raise AuthConfigError(f"exec credential plugin {name!r} returned neither a token nor a client certificate and key")
        return Credentials(token=token or None, cert_data=cert or None, key_data=key or None,
                           expires=status.get("expirationTimestamp"))


# kubeconfig cluster keys -> ExecCredential spec.cluster keys (client.authentication.k8s.io)
_CLUSTER_INFO = {"certificate-authority-data": "certificateAuthorityData", "insecure-skip-tls-verify": "insecureSkipTLSVerify",
                 "proxy-url": "proxyURL", "tls-server-name": "tlsServerName"}


# --- kubeconfig ------------------------------------------------------------------------
def _load_file(path):
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise AuthConfigError(f"kubeconfig {path}: {e.strerror or e}") from None
    text = raw.decode("utf-8", "replace")
    if text.lstrip().startswith("{"):
        try:
            return json.loads(text)
        except ValueError:
            pass  # YAML flow style that is not JSON: let YAML have a go
    try:
        from ansible.module_utils.common.yaml import HAS_YAML, yaml_load
    except ImportError:  # pragma: no cover - ansible-core always ships it
        HAS_YAML = False
    if not HAS_YAML:
        raise AuthConfigError(f"kubeconfig {path} is YAML and PyYAML is not installed")
    try:
        doc = yaml_load(text)
    except Exception as e:  # yaml.YAMLError, without importing yaml here
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise AuthConfigError(f"kubeconfig {path} is not valid YAML{where}") from None
    return doc if doc is not None else {}


class Kubeconfig:
    """One or more kubeconfig documents merged kubectl's way (the first file to define a name or
    ``current-context`` wins). Relative paths in a file are relative to that file."""

    def __init__(self, sources):
        self.sources = []
        self.clusters, self.users, self.contexts = {}, {}, {}
        self.current_context = None
        for label, doc, base_dir in sources:
            if not isinstance(doc, dict):
                raise AuthConfigError(f"kubeconfig {label} is not a mapping")
            self.sources.append(label)
            for section, target in (("clusters", self.clusters), ("users", self.users), ("contexts", self.contexts)):
                entries = doc.get(section) or []
                if not isinstance(entries, list):
                    raise AuthConfigError(f"kubeconfig {label}: {section} is not a list")
                for entry in entries:
                    if isinstance(entry, dict) and entry.get("name") and entry["name"] not in target:
                        inner = entry.get(section[:-1]) or {}
                        target[entry["name"]] = (inner if isinstance(inner, dict) else {}, base_dir, label)
            if not self.current_context and doc.get("current-context"):
                self.current_context = doc["current-context"]

    @property
    def label(self):
        return ", ".join(self.sources)

    def select(self, context=None):
        """(context name, cluster dict, cluster base dir, user dict, user base dir)."""
        name = context or self.current_context
        if not name:
            if len(self.contexts) == 1:
                name = next(iter(self.contexts))
            elif not self.contexts:
                raise AuthConfigError(f"kubeconfig {self.label} has no contexts; set host and api_key instead")
            else:
                raise AuthConfigError(f"kubeconfig {self.label} has no current-context; set context to one of: "
                                      f"{', '.join(sorted(self.contexts))}")
        if name not in self.contexts:
            raise AuthConfigError(f"context {name!r} is not in kubeconfig {self.label}; available: "
                                  f"{', '.join(sorted(self.contexts)) or 'none'}")
        ctx = self.contexts[name][0]
        cluster_name, user_name = ctx.get("cluster"), ctx.get("user")
        if not cluster_name or cluster_name not in self.clusters:
            raise AuthConfigError(f"context {name!r} in kubeconfig {self.label} names cluster {cluster_name!r}, "
                                  "which is not defined there")
        cluster, cluster_dir = self.clusters[cluster_name][:2]
        user, user_dir = {}, None
        if user_name:
            if user_name not in self.users:
                raise AuthConfigError(f"context {name!r} in kubeconfig {self.label} names user {user_name!r}, "
                                      "which is not defined there")
            user, user_dir = self.users[user_name][:2]
        return name, cluster, cluster_dir, user, user_dir, user_name


def _kubeconfig_sources(value, environ):
    """[(label, document, base_dir)] from the kubeconfig option: a dict, a path, a list of paths,
    or (when not set) $KUBECONFIG then ~/.kube/config."""
    if isinstance(value, dict):
        return [("(inline dict)", value, os.getcwd())], True
    explicit = value is not None and value != "" and value != []
    if not explicit:
        value = environ.get("KUBECONFIG") or "~/.kube/config"
    paths = value if isinstance(value, (list, tuple)) else str(value).split(os.pathsep)
    paths = [_expand(str(p)) for p in paths if str(p).strip()]
    existing = [p for p in paths if os.path.exists(p)]
    if not existing:  # like kubectl, missing files in a list are skipped, but one must exist
        if explicit:
            raise AuthConfigError(f"kubeconfig {', '.join(paths)} does not exist")
        return [], False
    return [(p, _load_file(p), os.path.dirname(p)) for p in existing], explicit


def _rel(path, base_dir):
    if not path:
        return None
    path = os.path.expanduser(str(path))
    return path if os.path.isabs(path) or not base_dir else os.path.join(base_dir, path)


def _clean(value):
    """Empty strings (an unset AWX field, ``VAR=``) count as not given."""
    if isinstance(value, str):
        value = value.strip()
    return None if value in ("", None) else value


def gather(params=None, environ=None):
    """The connection options after the ``K8S_AUTH_*`` fallbacks: option first, then each
    variable in ``ENV_VARS`` order. AnsibleModule has done this already through the argspec's
    ``env_fallback``; this repeats it for callers without AnsibleModule (tests, plugins)."""
    params = dict(params or {})
    environ = os.environ if environ is None else environ
    aliases = {"verify_ssl": "validate_certs", "ssl_ca_cert": "ca_cert", "cert_file": "client_cert", "key_file": "client_key"}
    for alias, name in aliases.items():
        if params.get(name) is None and params.get(alias) is not None:
            params[name] = params[alias]
    out = {}
    for name, env_names in ENV_VARS.items():
        value = params.get(name)
        if _clean(value) is None:
            value = None
            for env_name in env_names:
                if _clean(environ.get(env_name)) is not None:
                    value = environ[env_name]
                    break
        out[name] = _clean(value) if not isinstance(value, (dict, list)) else value
    if out["validate_certs"] is not None:
        out["validate_certs"] = parse_bool(out["validate_certs"], "validate_certs (K8S_AUTH_VALIDATE_CERTS/K8S_AUTH_VERIFY_SSL)")
    if out["request_timeout"] is not None:
        try:
            out["request_timeout"] = float(out["request_timeout"])
        except (TypeError, ValueError):
            raise AuthConfigError(f"request_timeout: {out['request_timeout']!r} is not a number of seconds") from None
        if out["request_timeout"] <= 0:
            raise AuthConfigError("request_timeout must be more than 0 seconds")
    return out


def resolve(params=None, environ=None):
    """The ``Connection`` for module params (``module.params``) or a plain dict of the same keys.
    Raises ``AuthConfigError`` naming what is missing or wrong."""
    environ = os.environ if environ is None else environ
    opts = gather(params, environ)
    host, token = opts["host"], opts["api_key"]
    client_cert, client_key = opts["client_cert"], opts["client_key"]
    timeout = opts["request_timeout"] or DEFAULT_REQUEST_TIMEOUT
    for name in ("ca_cert", "client_cert", "client_key"):
        if opts[name] is not None:
            opts[name] = _expand(opts[name])
            if not os.path.exists(opts[name]):
                raise AuthConfigError(f"{name} {opts[name]} does not exist")
    if client_key and not client_cert:
        raise AuthConfigError("client_key is set but client_cert is not (K8S_AUTH_CLIENT_CERT / K8S_AUTH_CERT_FILE)")

    complete = bool(host and (token or client_cert))
    if complete and opts["kubeconfig"] is None and opts["context"] is None:
        return _finish(opts, host, timeout)

    sources, _explicit = _kubeconfig_sources(opts["kubeconfig"], environ)
    if not sources:
        if complete:
            return _finish(opts, host, timeout)
        missing = []
        if not host:
            missing.append("host (K8S_AUTH_HOST)")
        if not (token or client_cert):
            missing.append("api_key (K8S_AUTH_API_KEY) or client_cert (K8S_AUTH_CLIENT_CERT)")
        where = environ.get("KUBECONFIG") or "~/.kube/config"
        raise AuthConfigError(f"no Harvester API connection configured: set {' and '.join(missing)}, or point kubeconfig "
                              f"(K8S_AUTH_KUBECONFIG) at a kubeconfig file; {where} does not exist")
    kc = Kubeconfig(sources)
    ctx_name, cluster, cluster_dir, user, user_dir, user_name = kc.select(opts["context"])
    label = f"kubeconfig {kc.label}, context {ctx_name!r}"

    server = host or cluster.get("server")
    if not server:
        raise AuthConfigError(f"{label}: the cluster has no server; set host (K8S_AUTH_HOST)")
    ca_file, ca_data = opts["ca_cert"], None
    if ca_file is None:
        if cluster.get("certificate-authority-data"):
            ca_data = _b64(cluster["certificate-authority-data"], f"{label}: certificate-authority-data")
        elif cluster.get("certificate-authority"):
            ca_file = _rel(cluster["certificate-authority"], cluster_dir)
    verify = opts["validate_certs"]
    if verify is None:
        verify = not parse_bool(cluster.get("insecure-skip-tls-verify", False), f"{label}: insecure-skip-tls-verify")
    proxy = opts["proxy"] or cluster.get("proxy-url")

    if token or client_cert:  # option or K8S_AUTH_* credentials beat the kubeconfig user
        creds = {"token": token, "client_cert": client_cert, "client_key": client_key}
    else:
        creds = _user_credentials(user, user_dir, user_name, label, cluster, timeout)
    return Connection(server, ca_file=ca_file, ca_data=ca_data, verify=verify, proxy=proxy, timeout=timeout,
                      source=kc.label, context=ctx_name, **creds)


def _user_credentials(user, user_dir, user_name, label, cluster, timeout):
    who = f"{label}, user {user_name!r}" if user_name else label
    if user.get("auth-provider"):
        provider = (user["auth-provider"] or {}).get("name") or "?"
        raise AuthConfigError(f"{who} uses auth-provider {provider!r}, which this collection does not support; "
                              "use a token (api_key / K8S_AUTH_API_KEY) or an exec credential plugin (e.g. kubelogin)")
    if user.get("token"):
        return {"token": str(user["token"]).strip()}
    if user.get("tokenFile"):
        return {"token_file": _rel(user["tokenFile"], user_dir)}
    cert_data, key_data = user.get("client-certificate-data"), user.get("client-key-data")
    cert_file, key_file = _rel(user.get("client-certificate"), user_dir), _rel(user.get("client-key"), user_dir)
    if cert_data or cert_file:
        if not (key_data or key_file):
            raise AuthConfigError(f"{who} has a client certificate but no client-key(-data)")
        return {"client_cert": cert_file, "client_key": key_file,
                "client_cert_data": _b64(cert_data, f"{who}: client-certificate-data") if cert_data else None,
                "client_key_data": _b64(key_data, f"{who}: client-key-data") if key_data else None}
    if user.get("exec"):
        return {"exec_config": ExecPlugin(user["exec"], user_dir, cluster, timeout=max(60.0, timeout))}
    if user.get("username") or user.get("password"):
        raise AuthConfigError(f"{who} uses basic auth (username/password), which Kubernetes no longer accepts; "
                              "use a token (api_key / K8S_AUTH_API_KEY)")
    raise AuthConfigError(f"{who} has no credentials (no token, tokenFile, client certificate or exec plugin); "
                          "set api_key (K8S_AUTH_API_KEY)")


def _finish(opts, host, timeout):
    verify = opts["validate_certs"]
    return Connection(host, token=opts["api_key"], client_cert=opts["client_cert"], client_key=opts["client_key"],
                      ca_file=opts["ca_cert"], verify=True if verify is None else verify, proxy=opts["proxy"],
                      timeout=timeout, source="options")


def kubeconfig_secrets(kubeconfig):
    """Secret strings of an inline kubeconfig dict (tokens, key data, passwords, exec env values),
    for ``module.no_log_values``: an inline kubeconfig cannot be ``no_log`` as a whole without
    masking every cluster name in the output too (kubernetes.core masks it the same way)."""
    found = set()
    if not isinstance(kubeconfig, dict):
        return found
    for entry in kubeconfig.get("users") or []:
        user = (entry or {}).get("user") if isinstance(entry, dict) else None
        if not isinstance(user, dict):
            continue
        for key in ("token", "client-key-data", "password"):
            if user.get(key):
                found.add(str(user[key]))
        for env in ((user.get("exec") or {}).get("env") or []) if isinstance(user.get("exec"), dict) else []:
            if isinstance(env, dict) and env.get("value"):
                found.add(str(env["value"]))
        provider = user.get("auth-provider")
        if isinstance(provider, dict):
            found.update(str(v) for k, v in (provider.get("config") or {}).items() if "token" in k or "secret" in k)
    return found
