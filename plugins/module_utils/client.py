# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one HTTP client every module uses: JSON in and out over one kept-alive HTTPS connection
per process, per-call timeouts, the retry policy of ``retry.py``, Kubernetes ``Status`` errors
turned into the exception tree of ``errors.py``, ``fieldValidation=Strict`` on every create,
update and patch (a field the API does not know is refused with 400, never silently dropped),
the API's ``Warning`` headers handed to the task as warnings, and ``dryRun=All`` on every write
when the client is in check mode (the single choke point for check mode).

    from ansible_collections.homelab.harvester.plugins.module_utils import connection, kinds
    from ansible_collections.homelab.harvester.plugins.module_utils.client import Client
    client = Client(connection.resolve(module.params), dry_run=module.check_mode)
    live = client.get(kinds.NAD.path("default", "platform"), missing_ok=True)

Transport: the standard library's ``http.client`` directly, not ``ansible.module_utils.urls``.
``urls`` opens a new connection (TCP + TLS handshake) for every request and costs ~75-100 ms of
imports per task (it pulls in ``cryptography.x509`` and ``email.mime``), measured here; import
time is what a task costs (reference §7). ``http.client`` keeps one connection alive for the
whole module run, takes an ``ssl.SSLContext`` built once (the kubeconfig's CA as in-memory
data, no temp file), and an explicit ``proxy`` through a CONNECT tunnel.

Debug switch: ``HOMELAB_HARVESTER_DEBUG_LOG=/path/file`` appends one line per HTTP attempt
(time, pid, method, path and query, status or failure, milliseconds, attempt) and per exec
plugin run. Never headers, never bodies, so never a token or a secret value.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import ssl
import time
from urllib.parse import urlencode, urlsplit

from .errors import (
    ApiError,
    AuthConfigError,
    Conflict,
    ConnectionFailure,
    NotFound,
    api_error,
    connection_failure,
    failure_cause,
    one_line,
)
from .kept_connection import KeptConnection
from .progress import Progress
from .retry import DEFAULT_POLICY, JSON_PATCH, NO_RETRY, is_fixed_name_create, is_idempotent, parse_retry_after

USER_AGENT = "homelab.harvester (ansible)"
FIELD_MANAGER = "homelab.harvester"
DEBUG_ENV = "HOMELAB_HARVESTER_DEBUG_LOG"
MERGE_PATCH = "application/merge-patch+json"
JSON = "application/json"
PROPAGATION_POLICIES = ("Foreground", "Background", "Orphan")
WRITE_METHODS = frozenset(("POST", "PUT", "PATCH", "DELETE"))
# Unknown or duplicate fields in a create/update/patch: refused (400) instead of pruned with a
# warning, so that a field this collection sends and the API does not know cannot go unnoticed.
FIELD_VALIDATION = "Strict"


def user_agent(way):
    """The User-Agent of a task that runs as ``way`` (``module`` or ``in-process``), so that a
    server's log tells the two ways apart."""
    return f"homelab.harvester (ansible; {way})"


# --- private temp files (client certificate and key given as data) -----------------------------
_TEMP_FILES = []


def _remove_temp_files():
    while _TEMP_FILES:
        path = _TEMP_FILES.pop()
        try:
            os.unlink(path)
        except OSError:
            pass


def _private_file(text, suffix):
    """A 0600 temp file holding ``text``, removed when the process exits. ssl can only load a
    client certificate and key from files; CA data needs no file (``cadata``)."""
    import atexit
    import tempfile
    if not _TEMP_FILES:
        atexit.register(_remove_temp_files)
    fd, path = tempfile.mkstemp(prefix="homelab-harvester-", suffix=suffix)
    _TEMP_FILES.append(path)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def ssl_context(connection, credentials=None):
    """The TLS context: only the connection's CA when it has one (kubeconfig data or file),
    else the system store; no verification when ``verify`` is false; the client certificate."""
    try:
        if not connection.verify:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        elif connection.ca_data:
            ctx = ssl.create_default_context(cadata=connection.ca_data)
        elif connection.ca_file:
            ctx = ssl.create_default_context(cafile=connection.ca_file)
        else:
            ctx = ssl.create_default_context()
    except (ssl.SSLError, OSError, ValueError) as e:
        source = "ca_cert " + connection.ca_file if connection.ca_file else "the kubeconfig's certificate-authority-data"
        raise AuthConfigError(f"cannot load the cluster CA from {source}: {getattr(e, 'reason', None) or e}") from None
    if credentials is not None and credentials.has_client_cert:
        cert = credentials.cert_file or _private_file(credentials.cert_data, ".crt")
        key = credentials.key_file or (_private_file(credentials.key_data, ".key") if credentials.key_data else None)
        try:
            ctx.load_cert_chain(cert, key)
        except (ssl.SSLError, OSError) as e:
            raise AuthConfigError(f"cannot load the client certificate and key: {getattr(e, 'reason', None) or e}") from None
    return ctx


# --- the transport: one kept-alive connection --------------------------------------------
class Session(KeptConnection):
    """One HTTP(S) connection to the API server, reused for every request of the process.
    ``send`` raises ``ConnectionFailure`` (with ``sent`` False when nothing left this host)."""

    def __init__(self, connection):
        self.connection = connection
        url = urlsplit(connection.server)
        if url.scheme not in ("https", "http") or not url.hostname:
            raise AuthConfigError(f"host {connection.server!r} is not an http(s) URL")
        self.scheme = url.scheme
        self.host = url.hostname
        self.port = url.port or (443 if url.scheme == "https" else 80)
        self.prefix = url.path.rstrip("/")  # e.g. Rancher's /k8s/clusters/<id>
        self.proxy = urlsplit(connection.proxy) if connection.proxy else None
        if self.proxy is not None and (self.proxy.scheme != "http" or not self.proxy.hostname):
            raise AuthConfigError(f"proxy {connection.proxy!r}: only http:// proxies are supported")
        self._ctx = None
        self._conn = None
        self._timeout = connection.timeout

    def _new_connection(self, timeout):
        if self.scheme == "https" and self._ctx is None:
            self._ctx = ssl_context(self.connection, self.connection.credentials())
        if self.proxy is None:
            if self.scheme == "https":
                return http.client.HTTPSConnection(self.host, self.port, timeout=timeout, context=self._ctx)
            return http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        proxy_port = self.proxy.port or 3128
        headers = {}
        if self.proxy.username:
            import base64
            from urllib.parse import unquote
            pair = f"{unquote(self.proxy.username)}:{unquote(self.proxy.password or '')}"
            headers["Proxy-Authorization"] = "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")
        if self.scheme == "https":
            conn = http.client.HTTPSConnection(self.proxy.hostname, proxy_port, timeout=timeout, context=self._ctx)
        else:
            conn = http.client.HTTPConnection(self.proxy.hostname, proxy_port, timeout=timeout)
        conn.set_tunnel(self.host, self.port, headers=headers)
        return conn

    def _where(self):
        return f"{self.scheme}://{self.host}:{self.port}"

    def _connect(self, timeout):
        """The kept-alive connection, (re)opened when the server dropped it."""
        if self._conn is not None and self._conn.sock is not None and not _dropped(self._conn.sock):
            self._conn.timeout = timeout
            self._conn.sock.settimeout(timeout)
            return self._conn
        self.close()
        self._conn = self._open(timeout)
        return self._conn

    def _open(self, timeout):
        """A new, connected HTTP(S) connection."""
        conn = self._new_connection(timeout)
        try:
            conn.connect()
        except BaseException as e:
            conn.close()
            raise self._failure(e, sent=False) from None
        return conn

    def _exchange(self, conn, method, target, headers, body, on_failure):
        """Sends one request on ``conn`` and returns its response (body not read)."""
        try:
            conn.request(method, self.prefix + target, body=body, headers=headers)
            return conn.getresponse()
        except BaseException as e:
            on_failure()
            if isinstance(e, (KeyboardInterrupt, SystemExit)):
                raise
            raise self._failure(e, sent=True) from None

    def send(self, method, target, headers, body, timeout):
        self._timeout = timeout
        resp = self._exchange(self._connect(timeout), method, target, headers, body, self.close)
        try:
            data = resp.read()
        except BaseException as e:
            self.close()
            if isinstance(e, (KeyboardInterrupt, SystemExit)):
                raise
            raise self._failure(e, sent=True) from None
        if resp.will_close:
            self.close()
        return resp.status, resp.headers, data

    def stream(self, method, target, headers, timeout):
        """Sends the request on a connection of its own and returns ``(status, headers, body)``
        without reading the body: the caller iterates its lines as they arrive, then calls
        ``end(body)``. Its own connection, so that requests made while a stream is open (on the
        kept-alive one) never interleave with it."""
        self._timeout = timeout
        conn = self._open(timeout)
        resp = self._exchange(conn, method, target, headers, None, conn.close)
        return resp.status, resp.headers, _Stream(conn, resp)

    def end(self, body, complete):
        """After a stream, read to its end (``complete``) or left early: its connection goes."""
        body.close()

    def _failure(self, e, sent):
        where = self._where()
        if failure_cause(e) == "unreachable" and "Tunnel connection failed" in str(e):
            return ConnectionFailure(f"proxy {_proxy_label(self.proxy)} refused the tunnel to {where}: {one_line(e, 120)}",
                                     server=where, sent=False, cause="proxy")
        return connection_failure(e, where, self.host, sent, self._timeout, hints={
            "certificate": "; give the cluster CA (ca_cert / K8S_AUTH_CA_CERT or the kubeconfig's "
                           "certificate-authority-data), or set validate_certs false",
            "timeout": " (request_timeout)"})

    def reset_tls(self):
        """Forget the TLS context (new client certificate after an exec refresh)."""
        self.close()
        self._ctx = None


class _Stream:
    """A streamed response body with the connection it came on."""

    def __init__(self, conn, resp):
        self.conn, self.resp = conn, resp

    def __iter__(self):
        return iter(self.resp)

    def read(self):
        return self.resp.read()

    def close(self):
        self.conn.close()


def _proxy_label(proxy):
    return f"http://{proxy.hostname}:{proxy.port or 3128}" if proxy else ""


def _dropped(sock):
    """True when the server closed an idle kept-alive connection (readable with nothing to
    read); checked before reuse so a stale socket never eats a non-idempotent request."""
    import select
    try:
        readable = select.select([sock], [], [], 0)[0]
    except (OSError, ValueError):
        return True
    return bool(readable)


_SESSIONS = {}


def session_for(connection):
    """The process-wide session for this connection (one per distinct connection settings)."""
    key = connection.digest()
    session = _SESSIONS.get(key)
    if session is None:
        session = _SESSIONS[key] = Session(connection)
    return session


# --- accounting and debug log ------------------------------------------------------------
class Stats:
    """What this client sent: every HTTP attempt counts (retries included)."""

    __slots__ = ("requests", "reads", "writes", "dry_run_writes", "retries", "failures", "by_method", "seconds")

    def __init__(self):
        self.requests = self.reads = self.writes = self.dry_run_writes = self.retries = self.failures = 0
        self.by_method = {}
        self.seconds = 0.0

    def count(self, method, dry_run, seconds):
        self.requests += 1
        self.by_method[method] = self.by_method.get(method, 0) + 1
        self.seconds += seconds
        if method in WRITE_METHODS:
            self.writes += 1
            if dry_run:
                self.dry_run_writes += 1
        else:
            self.reads += 1

    def as_dict(self):
        return {"requests": self.requests, "reads": self.reads, "writes": self.writes,
                "dry_run_writes": self.dry_run_writes, "retries": self.retries, "failures": self.failures,
                "by_method": dict(self.by_method), "seconds": round(self.seconds, 4)}

    def __repr__(self):
        return f"Stats({self.as_dict()})"


class DebugLog:
    """Appends one line per event to a side file; silent when the file cannot be written."""

    def __init__(self, path):
        self.path = path

    @classmethod
    def from_env(cls, environ=None):
        path = (os.environ if environ is None else environ).get(DEBUG_ENV)
        return cls(path) if path else None

    def write(self, text):
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{int(time.time() * 1000) % 1000:03d}Z"
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as f:
                f.write(f"{stamp} pid={os.getpid()} {text}\n")
        except OSError:
            pass


# --- the client ------------------------------------------------------------------------
class Client:
    """JSON over the Kubernetes API of one Harvester cluster.

    ``dry_run``: default for every write (module: ``dry_run=module.check_mode``); each write
    method can override it. ``retry_policy``: ``retry.DEFAULT_POLICY``. ``sleep``: what waits
    between retries (tests inject a recorder). ``transport``: anything with
    ``send(method, target, headers, body, timeout) -> (status, headers, bytes)``; default the
    process-wide ``Session`` of the connection. ``progress``: where the waits of this task report
    (``progress.Progress``); it travels with the client because every flow already has it.
    ``warn``: called with the text of each ``Warning`` header the API sends (RFC 7234 code 299,
    as client-go shows them), once per text per task; ``warnings`` lists them in order."""

    progress = None  # set by __init__; named here so that the interface (and a spec'd mock) has it

    def __init__(self, connection, dry_run=False, retry_policy=None, sleep=None, transport=None, debug_log=None,
                 field_manager=FIELD_MANAGER, progress=None, user_agent=USER_AGENT, warn=None):
        self.connection = connection
        self.dry_run = bool(dry_run)
        self.retry_policy = retry_policy or DEFAULT_POLICY
        self.sleep = sleep or time.sleep
        self.transport = transport if transport is not None else session_for(connection)
        self.debug_log = DebugLog.from_env() if debug_log is None else (debug_log or None)  # False: off
        self.field_manager = field_manager
        self.user_agent = user_agent
        self.progress = progress if progress is not None else Progress()
        self.stats = Stats()
        self._warnings = ApiWarnings(warn)

    @property
    def warnings(self):
        """The API's warnings so far (this client and its siblings), each once, in order."""
        return list(self._warnings.seen)

    def __repr__(self):
        return f"Client({self.connection!r}, dry_run={self.dry_run})"

    def sibling(self, connection, dry_run=None):
        """A client of the same task for another cluster (CAPI's Harvester side): the same check
        mode (unless ``dry_run`` says otherwise), retry policy, progress, User-Agent and warnings."""
        sibling = Client(connection, dry_run=self.dry_run if dry_run is None else dry_run, retry_policy=self.retry_policy,
                         sleep=self.sleep, debug_log=self.debug_log or False, field_manager=self.field_manager,
                         progress=self.progress, user_agent=self.user_agent)
        sibling._warnings = self._warnings
        return sibling

    # --- reads ---------------------------------------------------------------------------
    def get(self, path, query=None, timeout=None, missing_ok=False):
        """The object (or any JSON) at ``path``; ``None`` for a 404 when ``missing_ok``."""
        try:
            return self.request("GET", path, query=query, timeout=timeout)
        except NotFound:
            if missing_ok:
                return None
            raise

    def list(self, path, query=None, label_selector=None, field_selector=None, limit=500, timeout=None):
        """All items of a collection path, following ``continue`` pages of ``limit``."""
        query = dict(query or {})
        if label_selector:
            query["labelSelector"] = label_selector
        if field_selector:
            query["fieldSelector"] = field_selector
        if limit:
            query["limit"] = int(limit)
        items = []
        while True:
            page = self.request("GET", path, query=query, timeout=timeout) or {}
            items.extend(page.get("items") or [])
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return items
            query["continue"] = token

    def version(self, timeout=None):
        """``/version`` of the API server."""
        return self.request("GET", "/version", timeout=timeout)

    def watch(self, path, query=None, timeout=None):
        """The events of a watch (``watch=true`` is added) as they arrive, each a dict (``type``,
        ``object``), until the server ends the stream (``timeoutSeconds``) or the caller stops.
        An error answer raises as ``request`` does; a lost stream raises ``ConnectionFailure``.
        Not retried: the caller watches again from the last resourceVersion it saw."""
        query = dict(query or {}, watch="true")
        target = path + "?" + urlencode(_query_pairs(query))
        timeout = float(timeout or self.connection.timeout)
        started = time.monotonic()
        try:
            status, headers, resp = self.transport.stream("GET", target, self._headers(None), timeout)
        except ConnectionFailure as failure:
            failure.method, failure.path = "GET", path
            self._account("GET", target, False, started, 1, failure.cause or "failure")
            raise
        self._account("GET", target, False, started, 1, status)
        self._warnings.note(headers, self.connection.secret_values)
        if status >= 400:
            raw = resp.read()
            self.transport.end(resp, True)
            retry_after = parse_retry_after(headers.get("Retry-After")) if headers is not None else None
            raise self._error(status, raw, "GET", path, retry_after)
        complete = False
        try:
            for line in resp:
                if line.strip():
                    yield json.loads(line.decode("utf-8"))
            complete = True
        except (OSError, http.client.HTTPException, ValueError) as e:
            raise ConnectionFailure(f"watch of {path} lost ({type(e).__name__}: {one_line(e, 120) or 'closed'})",
                                    method="GET", path=path, sent=True, cause="reset") from None
        finally:
            self.transport.end(resp, complete)

    # --- writes (each honours dry_run) ------------------------------------------------------
    def create(self, path, body, dry_run=None, timeout=None, query=None):
        """POST ``body`` to a collection ``path``; the stored (or, in dry run, predicted) object.

        A create of a fixed name is repeated after a 5xx, a lost connection or a timeout (see
        ``retry``). When a repeat meets AlreadyExists, an earlier attempt was stored and only its
        answer was lost: the object is read back and returned as ``Found`` (a dict), so a caller
        that must compare (``reconcile.ensure_present``) can tell it from a create's answer. Any
        409 counts: admission runs before storage, so a webhook that sees the earlier attempt's
        object (Harvester's image validator: "A resource with the same name exists") answers first."""
        try:
            return self.request("POST", path, query=self._write_query(query), body=body, dry_run=dry_run,
                                timeout=timeout)
        except Conflict as e:
            if not e.maybe_stored or not is_fixed_name_create("POST", body):
                raise
            stored = self.get(path.rstrip("/") + "/" + body["metadata"]["name"], missing_ok=True)
            if stored is None:
                raise
            return Found(stored)

    def replace(self, path, body, dry_run=None, timeout=None, query=None):
        """PUT the whole object (carry ``metadata.resourceVersion`` to be safe against races)."""
        return self.request("PUT", path, query=self._write_query(query), body=body, dry_run=dry_run, timeout=timeout)

    def merge_patch(self, path, patch, dry_run=None, timeout=None, query=None, subresource_status=False, retry=None):
        """RFC 7386 merge patch (``null`` deletes a key; lists are replaced whole). ``retry`` as for
        ``request``: True for a patch the caller knows is safe to repeat without a resourceVersion."""
        if subresource_status:
            path = path.rstrip("/") + "/status"
        return self.request("PATCH", path, query=self._write_query(query), body=patch, content_type=MERGE_PATCH,
                            dry_run=dry_run, timeout=timeout, retry=retry)

    def json_patch(self, path, operations, dry_run=None, timeout=None, query=None):
        """RFC 6902 JSON patch (a list of operations). Put a ``test`` of
        ``/metadata/resourceVersion`` first to make it safe to retry."""
        if not isinstance(operations, list):
            raise TypeError("a JSON patch is a list of operations")
        return self.request("PATCH", path, query=self._write_query(query), body=operations, content_type=JSON_PATCH,
                            dry_run=dry_run, timeout=timeout)

    def delete(self, path, propagation_policy=None, dry_run=None, timeout=None, missing_ok=False, preconditions=None,
               grace_period_seconds=None):
        """DELETE with DeleteOptions; the server's answer (the object, or a Status). ``None``
        for a 404 when ``missing_ok``."""
        options = {"kind": "DeleteOptions", "apiVersion": "v1"}
        if propagation_policy:
            if propagation_policy not in PROPAGATION_POLICIES:
                raise ValueError(f"propagation_policy must be one of {', '.join(PROPAGATION_POLICIES)}")
            options["propagationPolicy"] = propagation_policy
        if preconditions:
            options["preconditions"] = dict(preconditions)
        if grace_period_seconds is not None:
            options["gracePeriodSeconds"] = int(grace_period_seconds)
        try:
            return self.request("DELETE", path, body=options if len(options) > 2 else None, dry_run=dry_run, timeout=timeout)
        except NotFound as e:
            if missing_ok or e.maybe_stored:  # a repeat after a lost answer: an earlier attempt deleted it
                return None
            raise

    def _write_query(self, query):
        """The query of a create, update or patch: our field manager and strict field validation
        (a caller's own ``fieldValidation`` wins)."""
        query = dict(query or {})
        if self.field_manager:
            query.setdefault("fieldManager", self.field_manager)
        query.setdefault("fieldValidation", FIELD_VALIDATION)
        return query

    # --- the one choke point ---------------------------------------------------------------
    def request(self, method, path, query=None, body=None, content_type=JSON, dry_run=None, timeout=None, retry=None):
        """One API call with retries. ``dry_run`` (default: the client's) adds ``dryRun=All`` to
        writes. ``retry``: None = by the policy (``retry.is_idempotent``), False = never,
        True = treat as idempotent. Returns the decoded JSON (``None`` for an empty body)."""
        method = method.upper()
        if not path.startswith("/"):
            raise ValueError(f"API paths are absolute: {path!r}")
        dry = self.dry_run if dry_run is None else bool(dry_run)
        dry = dry and method in WRITE_METHODS
        pairs = _query_pairs(query)
        if dry:
            pairs.append(("dryRun", "All"))
        target = path + ("?" + urlencode(pairs) if pairs else "")
        data = json.dumps(body, separators=(",", ":")).encode("utf-8") if body is not None else None
        timeout = float(timeout or self.connection.timeout)
        policy = NO_RETRY if retry is False else self.retry_policy
        # a dry run stores nothing: repeating it cannot do more than sending it once
        idempotent = True if retry is True or dry else is_idempotent(method, body, content_type)
        timeouts = True if is_fixed_name_create(method, body) else None  # a repeat answers AlreadyExists
        attempt, refreshed, maybe_stored = 0, False, False
        while True:
            attempt += 1
            headers = self._headers(data is not None and content_type)
            started = time.monotonic()
            try:
                status, resp_headers, raw = self._send(method, target, headers, data, timeout)
            except ConnectionFailure as failure:
                failure.method, failure.path = method, path
                self._account(method, target, dry, started, attempt, failure.cause or "failure")
                self.stats.failures += 1
                wait = policy.decide(attempt, idempotent, failure=failure, timeouts=timeouts)
                if wait is None:
                    failure.attempts, failure.maybe_stored = attempt, maybe_stored
                    raise
                maybe_stored = maybe_stored or failure.sent
                self._retrying(wait, method, target, attempt)
                continue
            self._account(method, target, dry, started, attempt, status)
            self._warnings.note(resp_headers, self.connection.secret_values)
            if status < 400:
                return _decode(raw)
            self.stats.failures += 1
            retry_after = parse_retry_after(resp_headers.get("Retry-After")) if resp_headers is not None else None
            err = self._error(status, raw, method, path, retry_after)
            if status == 401 and not refreshed and self.connection.refresh():
                refreshed = True  # exec credentials expired: run the plugin again, once
                if hasattr(self.transport, "reset_tls"):
                    self.transport.reset_tls()
                continue
            wait = policy.decide(attempt, idempotent, status=status, retry_after=err.retry_after, message=err.message)
            if wait is None:
                err.attempts, err.maybe_stored = attempt, maybe_stored
                raise err
            maybe_stored = maybe_stored or status >= 500
            self._retrying(wait, method, target, attempt)

    def _send(self, method, target, headers, data, timeout):
        return self.transport.send(method, target, headers, data, timeout)

    def _headers(self, content_type):
        headers = {"Accept": JSON, "User-Agent": self.user_agent}
        token = self.connection.credentials().token
        if token:
            headers["Authorization"] = "Bearer " + token
        if content_type:
            headers["Content-Type"] = content_type
        return headers

    def _error(self, status, raw, method, path, retry_after):
        try:
            body = json.loads(raw.decode("utf-8")) if raw else None
        except (ValueError, UnicodeDecodeError):
            body = raw.decode("utf-8", "replace") if raw else None
        err = api_error(status, body, path=path, method=method, retry_after=retry_after)
        return _scrub(err, self.connection.secret_values())

    def _account(self, method, target, dry, started, attempt, outcome):
        seconds = time.monotonic() - started
        self.stats.count(method, dry, seconds)
        if self.debug_log is not None:
            self.debug_log.write(f"{method} {target} -> {outcome} {seconds * 1000:.1f}ms attempt={attempt}")

    def _retrying(self, wait, method, target, attempt):
        self.stats.retries += 1
        if self.debug_log is not None:
            self.debug_log.write(f"{method} {target} retry in {wait:.2f}s after attempt={attempt}")
        self.sleep(wait)


# RFC 7234 warning-value: warn-code SP warn-agent SP "warn-text" [SP "warn-date"], several
# separated by commas (client-go's ParseWarningHeader reads the same shape)
_WARNING = re.compile(r'\s*(\d{3}) (\S+) "((?:[^"\\]|\\.)*)"(?: "[^"]*")?\s*(?:,|$)')


def warning_texts(headers):
    """The texts of the code-299 ``Warning`` headers of a response, in order. ``headers``: an
    ``http.client.HTTPMessage`` or a dict (a header given as a string or a list of strings)."""
    if headers is None:
        return []
    if hasattr(headers, "get_all"):
        values = headers.get_all("Warning") or []
    else:
        value = next((v for k, v in headers.items() if k.lower() == "warning"), None)
        values = [] if value is None else [value] if isinstance(value, str) else list(value)
    texts = []
    for value in values:
        found = [(m.group(1), re.sub(r"\\(.)", r"\1", m.group(3))) for m in _WARNING.finditer(value)]
        if not found:  # Rancher's Steve writes the text unquoted: `299 - <text>`
            code, dummy, text = value.strip().partition(" - ")
            found = [(code, text.strip())]
        texts.extend(text for code, text in found if code == "299" and text)  # client-go shows only 299
    return texts


class ApiWarnings:
    """The API's warnings of one task: each text handed to ``warn`` once, in the order they came."""

    def __init__(self, warn=None):
        self.warn = warn
        self.seen = []

    def note(self, headers, secrets=()):
        for text in warning_texts(headers):
            for secret in secrets() if callable(secrets) else secrets:
                if secret and len(secret) >= 8:  # as _scrub: a server that echoes a credential
                    text = text.replace(secret, "***")
            if text not in self.seen:
                self.seen.append(text)
                if self.warn is not None:
                    self.warn(text)


class Found(dict):
    """An object ``Client.create`` read back because its create had been stored although the
    answer was lost (a repeat met AlreadyExists, or a webhook's 409 over that object)."""


def _query_pairs(query):
    pairs = []
    for key, value in (query or {}).items():
        if value is None:
            continue
        for item in value if isinstance(value, (list, tuple)) else [value]:
            pairs.append((key, "true" if item is True else "false" if item is False else str(item)))
    return pairs


def _decode(raw):
    if not raw:
        return None
    try:
        return json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return raw.decode("utf-8", "replace")


def _scrub(err, secrets):
    """Belt and braces: a server that echoes a credential back must not get it into a message."""
    for secret in secrets:
        if secret and len(secret) >= 8:
            err.message = err.message.replace(secret, "***")
            for cause in err.causes:
                cause["message"] = str(cause.get("message", "")).replace(secret, "***")
    return err


__all__ = ["Client", "Found", "Session", "Stats", "DebugLog", "ApiError", "ssl_context", "session_for"]
