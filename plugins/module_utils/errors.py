# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's exception tree. Every failure a module can meet is one of these, and each
renders as ONE readable line that never contains a credential::

    HarvesterError
    ├── ApiError(status, reason, message, causes, path, method)   the API answered with a Status
    │   ├── BadRequest (400)      ├── NotFound (404)     ├── Invalid (422, causes with field paths)
    │   ├── Unauthorized (401)    ├── Conflict (409)     ├── TooManyRequests (429)
    │   ├── Forbidden (403)       │   └── AlreadyExists (409, reason AlreadyExists)
    │   ├── Gone (410)            └── ServerError (5xx)
    ├── ConnectionFailure        no usable answer: refused, reset, DNS, proxy
    │   ├── TLSFailure           the server's certificate was not trusted, or the handshake failed
    │   └── RequestTimeout       no answer within the per-call timeout
    ├── AuthConfigError          bad kubeconfig, missing credentials (names what is missing)
    └── WaitTimeout              a condition did not hold in time (with what was last seen)

A module does ``except HarvesterError as e: module.fail_json(msg=str(e), **e.as_dict())``.
Pure Python, no third-party imports.
"""

from __future__ import annotations

import http.client
import socket
import ssl

MAX_MESSAGE = 1000  # one line in an AWX job log, not a wall of text


def one_line(text, limit=MAX_MESSAGE):
    """Collapse whitespace (newlines included) and cut overly long texts."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def short_path(path):
    """``/apis/k8s.cni.cncf.io/v1/namespaces/default/network-attachment-definitions/platform``
    → ``network-attachment-definitions/default/platform``: what a human calls the object. Paths
    that are not resource paths (``/version``) come back unchanged, without their query."""
    path = (path or "").split("?", 1)[0]
    parts = [p for p in path.split("/") if p]
    if parts[:1] == ["api"] and len(parts) >= 3:
        rest = parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= 4:
        rest = parts[3:]
    else:
        return path or "/"
    if rest[0] == "namespaces" and len(rest) >= 3:
        # namespaces/NS/PLURAL[/NAME[/SUB]] -> PLURAL/NS[/NAME[/SUB]]
        return "/".join([rest[2], rest[1]] + rest[3:])
    return "/".join(rest)


class HarvesterError(Exception):
    """Base of every error this collection raises on purpose. ``attempts``: how many times the
    client sent the request that failed; ``maybe_stored``: an earlier attempt failed after it
    reached the server (a 5xx, a connection lost after sending), so its write may have been
    stored although no answer said so."""

    attempts = 1
    maybe_stored = False

    def __init__(self, message=""):
        super().__init__(message)
        self.message = message

    def __str__(self):
        return one_line(self.message)

    def as_dict(self):
        """Extra keys for ``fail_json`` (besides ``msg``); JSON-safe, never a credential."""
        return {}


class ApiError(HarvesterError):
    """The API refused a request and said why in a Kubernetes ``Status``."""

    def __init__(self, status, reason="", message="", causes=None, path="", method="", details=None, retry_after=None):
        super().__init__(message)
        self.status = int(status)
        self.reason = reason or ""
        self.causes = list(causes or [])  # [{"field": "spec.config", "reason": "FieldValueInvalid", "message": "..."}]
        self.path = path or ""
        self.method = (method or "").upper()
        self.details = dict(details or {})
        self.retry_after = retry_after

    def _what(self):
        return self.message or self.reason or "no message"

    def __str__(self):
        where = " ".join(x for x in (self.method, short_path(self.path)) if x)
        head = f"{self.status} {self.reason}".strip()
        return one_line(f"{where}: {head}: {self._what()}" if where else f"{head}: {self._what()}")

    def __repr__(self):
        return f"{type(self).__name__}(status={self.status!r}, reason={self.reason!r}, path={self.path!r}, message={self.message!r})"

    def as_dict(self):
        result = {"status": self.status, "reason": self.reason, "api_path": self.path}
        if self.causes:
            result["causes"] = self.causes
        return result


class BadRequest(ApiError):
    """400: malformed request, or (Harvester, Longhorn) an admission webhook denied it."""


class Unauthorized(ApiError):
    """401: the token or client certificate was not accepted."""

    def _what(self):
        return "the API did not accept the credentials (token or client certificate); check api_key / the kubeconfig user"


class Forbidden(ApiError):
    """403: authenticated, but RBAC (or a webhook) forbids it."""


class NotFound(ApiError):
    """404."""


class Conflict(ApiError):
    """409 with reason ``Conflict``: the resourceVersion moved; re-read and re-apply
    (see ``retry.on_conflict``). ``AlreadyExists`` is its subclass, so ``except Conflict``
    catches both and ``isinstance(e, AlreadyExists)`` tells them apart."""

    @property
    def already_exists(self):
        return self.reason == "AlreadyExists"

    @property
    def denied_by_webhook(self):
        """A 409 an admission webhook answered (e.g. Harvester's "A resource with the same name
        exists"): not a resourceVersion race, so re-applying would only be refused again."""
        return "admission webhook" in (self.message or "") and "denied the request" in (self.message or "")


class AlreadyExists(Conflict):
    """409 with reason ``AlreadyExists``: a create met an object of that name."""


class Gone(ApiError):
    """410 (reason ``Expired``/``Gone``): a list continue token or watch resourceVersion is too old."""


class Invalid(ApiError):
    """422: the object failed validation. ``causes`` carries the field paths."""

    def _what(self):
        texts = []
        for cause in self.causes:
            field, msg = cause.get("field") or "", cause.get("message") or cause.get("reason") or ""
            texts.append(f"{field}: {msg}" if field else msg)
        return "; ".join(texts) if texts else super()._what()

    @property
    def fields(self):
        return [c.get("field") for c in self.causes if c.get("field")]


class TooManyRequests(ApiError):
    """429: throttled; ``retry_after`` holds the server's Retry-After in seconds, if any."""


class ServerError(ApiError):
    """5xx."""


_BY_STATUS = {400: BadRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound, 409: Conflict, 410: Gone,
              422: Invalid, 429: TooManyRequests}
_REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
            409: "Conflict", 410: "Expired", 415: "UnsupportedMediaType", 422: "Invalid", 429: "TooManyRequests",
            500: "InternalError", 502: "BadGateway", 503: "ServiceUnavailable", 504: "Timeout"}


def api_error(status, body=None, path="", method="", retry_after=None):
    """The exception for an error response. ``body`` is the decoded JSON (a ``Status``, normally)
    or the raw text when the answer was not JSON (a proxy's HTML page, say)."""
    status = int(status)
    if isinstance(body, dict) and body.get("kind") == "Status":
        reason = body.get("reason") or _REASONS.get(status, "")
        message = body.get("message") or ""
        details = body.get("details") or {}
        causes = [{"field": c.get("field", ""), "reason": c.get("reason", ""), "message": c.get("message", "")}
                  for c in details.get("causes") or [] if isinstance(c, dict)]
        details = {k: v for k, v in details.items() if k in ("name", "group", "kind", "uid", "retryAfterSeconds")}
        if retry_after is None and details.get("retryAfterSeconds"):
            retry_after = float(details["retryAfterSeconds"])
    else:
        reason, causes, details = _REASONS.get(status, ""), [], {}
        message = one_line(body, 200) if isinstance(body, str) else ""
    if status == 409 and reason == "AlreadyExists":
        cls = AlreadyExists
    elif status >= 500:
        cls = ServerError
    else:
        cls = _BY_STATUS.get(status, ApiError)
    return cls(status, reason, message, causes=causes, path=path, method=method, details=details, retry_after=retry_after)


class ConnectionFailure(HarvesterError):
    """No usable HTTP answer. ``sent`` tells whether the request may have reached the server
    (False only when it surely did not, e.g. connection refused): the retry policy needs that."""

    def __init__(self, message, server="", method="", path="", sent=True, cause=""):
        super().__init__(message)
        self.server = server
        self.method = (method or "").upper()
        self.path = path or ""
        self.sent = sent
        self.cause = cause  # short machine-readable tag: refused, reset, dns, proxy, tls, timeout, ...

    def __str__(self):
        where = " ".join(x for x in (self.method, short_path(self.path)) if x)
        return one_line(f"{where}: {self.message}" if where else self.message)

    def as_dict(self):
        return {"server": self.server, "cause": self.cause}

    @property
    def nothing_listens(self):
        """True when nothing at the address took the request: the connection was refused, not made
        in time, or the host is unreachable. A reset, a TLS failure or no answer to a request that
        was sent all need something that accepted the connection."""
        return not self.sent and self.cause in ("refused", "timeout", "unreachable")


class TLSFailure(ConnectionFailure):
    """The server's certificate could not be verified, or the TLS handshake failed."""


class RequestTimeout(ConnectionFailure):
    """No answer within the per-call timeout."""


# How a request's socket, TLS or HTTP-layer exception reads: (exception classes, cause, message),
# tested in order (a certificate failure is an SSLError, which is an OSError).
_READINGS = (
    (ssl.SSLCertVerificationError, "certificate", "TLS verification of {where} failed: {verify}"),
    (ssl.SSLError, "tls", "TLS handshake with {where} failed: {reason}"),
    ((TimeoutError, socket.timeout), "timeout", "{none} from {where} within {timeout:g} s"),
    (ConnectionRefusedError, "refused", "cannot connect to {where}: connection refused"),
    (socket.gaierror, "dns", "cannot resolve {host}: {strerror}"),
    ((ConnectionError, http.client.HTTPException), "reset", "connection to {where} lost ({name}: {short})"),
    (OSError, "unreachable", "cannot reach {where}: {strerror}"),
    (BaseException, "other", "request to {where} failed: {name}: {long}"),
)


def _reading(e):
    return next(r for r in _READINGS if isinstance(e, r[0]))


def failure_cause(e):
    """The cause tag of an exception that left a request without a usable answer: ``certificate``,
    ``tls``, ``timeout``, ``refused``, ``dns``, ``reset``, ``unreachable`` or ``other``."""
    return _reading(e)[1]


def connection_failure(e, where, host, sent, timeout, hints=None, classes=None):
    """The typed failure of a request to ``where`` that ``e`` ended, for every client of the
    collection (the API's, AMT's): its cause (``certificate`` is reported as ``tls``), whether the
    request may have reached the server, and the plain message followed by the client's own
    ``hints`` ({cause: text}). ``classes`` ({"tls"|"timeout"|"other": exception class}) stands in
    for TLSFailure, RequestTimeout and ConnectionFailure."""
    dummy, cause, text = _reading(e)
    sent = sent and cause not in ("certificate", "refused", "dns")  # those never reached the server
    reason = getattr(e, "reason", None) or e
    message = text.format(where=where, host=host, timeout=timeout, none="no answer" if sent else "no connection",
                          verify=getattr(e, "verify_message", None) or reason, reason=reason,
                          strerror=getattr(e, "strerror", None) or e, name=type(e).__name__,
                          short=one_line(e, 120) or "closed", long=one_line(e, 200))
    tag = "tls" if cause == "certificate" else cause
    kinds = {"tls": TLSFailure, "timeout": RequestTimeout, "other": ConnectionFailure, **(classes or {})}
    return kinds.get(tag, kinds["other"])(message + (hints or {}).get(cause, ""), server=where, sent=sent, cause=tag)


class AuthConfigError(HarvesterError):
    """Where to connect or how to authenticate could not be worked out. The message names what
    is missing and which option or environment variable supplies it."""


class WaitTimeout(HarvesterError):
    """A wait ran out of time; ``last_seen`` holds a short description of the last state."""

    def __init__(self, message, last_seen=None, elapsed=None):
        super().__init__(message)
        self.last_seen = last_seen
        self.elapsed = elapsed

    def as_dict(self):
        result = {}
        if self.last_seen is not None:
            result["last_seen"] = self.last_seen
        if self.elapsed is not None:
            result["elapsed"] = round(self.elapsed, 1)
        return result
