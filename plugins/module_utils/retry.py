# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The retry policy as data, its decisions as pure functions, and a full-jitter backoff.

What is retried (``RetryPolicy.decide``):

- **429 TooManyRequests** for every verb: the apiserver refused the request before processing
  it (priority and fairness, max-in-flight), so even a POST is safe to send again.
- **500, 502, 503, 504** and **connection resets / timeouts after sending** only for requests
  that are safe to repeat (``is_idempotent``): GET, HEAD, DELETE; PUT and merge PATCH that carry
  ``metadata.resourceVersion`` (a repeat after a lost success answers 409 instead of
  overwriting someone else's change); JSON patch with a ``test`` of ``/metadata/resourceVersion``;
  a POST that creates an object of a fixed name (``metadata.name``, no ``generateName``): a repeat
  after a lost answer cannot make a second object, the apiserver answers 409 AlreadyExists, which
  ``Client.create`` turns into the object as stored. Such a create is also repeated after a
  timeout (``is_fixed_name_create``). Any other POST is never repeated blindly: the first one may
  have been stored, and a repeat would store a second object (``generateName``) or act twice.
- **connection refused** (nothing was sent) for every verb.
- never: TLS failures, DNS failures, other 4xx, and a 5xx that is an admission webhook's
  denial (Harvester's mutators answer some refusals as 500 "admission webhook ... denied the
  request"): the same request would be denied again. Read timeouts are not retried by default
  (``retry_timeouts``): the per-call timeout is the caller's budget, not a per-attempt one.

Delays: attempt n (1-based) waits ``uniform(0, min(max_delay, base_delay * 2 ** (n - 1)))``
("full jitter"); a ``Retry-After`` from the server raises that to at least its value, capped at
``max_retry_after``. ``max_attempts`` counts the first try; the default, 10, is client-go's
(``rest.Request``'s ten retries): at 40 % of calls failing at random, 10 attempts leave one call in
10,000 failing (0.4 ** 10), where 5 left one in a hundred.

409 Conflict is NOT retried here: the same body would fail again. Resolving it means re-reading
the object and re-applying the desired change, which only the caller knows how to do;
``on_conflict(fn)`` is the hook for that (the reconcile layer uses it).
"""

from __future__ import annotations

import random as _random

from .errors import Conflict, ConnectionFailure, RequestTimeout

RETRY_STATUSES = frozenset((429, 500, 502, 503, 504))
SAFE_METHODS = frozenset(("GET", "HEAD", "OPTIONS", "DELETE"))
JSON_PATCH = "application/json-patch+json"


def is_idempotent(method, body=None, content_type=None):
    """Whether sending this request twice cannot do more than sending it once (see module doc)."""
    method = (method or "").upper()
    if method in SAFE_METHODS:
        return True
    if method == "PUT" or (method == "PATCH" and content_type != JSON_PATCH):
        metadata = body.get("metadata") if isinstance(body, dict) else None
        return bool(isinstance(metadata, dict) and metadata.get("resourceVersion"))
    if method == "PATCH":
        return isinstance(body, list) and any(
            isinstance(op, dict) and op.get("op") == "test" and op.get("path") == "/metadata/resourceVersion" for op in body)
    return is_fixed_name_create(method, body)


def is_fixed_name_create(method, body=None):
    """A POST of an object with ``metadata.name`` and no ``generateName``: repeating it cannot
    create a second object (the apiserver answers 409 AlreadyExists to the repeat)."""
    if (method or "").upper() != "POST" or not isinstance(body, dict):
        return False
    metadata = body.get("metadata")
    return isinstance(metadata, dict) and bool(metadata.get("name")) and not metadata.get("generateName")


def is_webhook_denial(message):
    """An admission webhook's refusal: deterministic, whatever HTTP status it came with."""
    return bool(message) and "admission webhook" in message and "denied the request" in message


def parse_retry_after(value):
    """Seconds from a ``Retry-After`` header: delta-seconds, or an HTTP date (seconds from now).
    ``None`` when absent or unreadable."""
    if value is None or value == "":
        return None
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        pass
    try:
        import email.utils
        import time
        when = email.utils.parsedate_to_datetime(str(value))
        return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


class RetryPolicy:
    """Which failures to retry and how long to wait. Immutable by convention; build a new one
    to change a setting (``DEFAULT_POLICY.replace(max_attempts=2)``)."""

    __slots__ = ("max_attempts", "base_delay", "max_delay", "max_retry_after", "statuses", "retry_timeouts",
                 "retry_refused", "random")

    def __init__(self, max_attempts=10, base_delay=0.25, max_delay=8.0, max_retry_after=30.0, statuses=RETRY_STATUSES,
                 retry_timeouts=False, retry_refused=True, random=None):
        if max_attempts < 1:
            raise ValueError("max_attempts counts the first try: at least 1")
        self.max_attempts = int(max_attempts)
        self.base_delay = float(base_delay)
        self.max_delay = float(max_delay)
        self.max_retry_after = float(max_retry_after)
        self.statuses = frozenset(statuses)
        self.retry_timeouts = bool(retry_timeouts)
        # False for a caller to whom a refused connection is an answer (nothing installed yet)
        self.retry_refused = bool(retry_refused)
        self.random = random or _random.random  # [0, 1); injectable for tests

    def replace(self, **changes):
        values = {name: getattr(self, name) for name in self.__slots__}
        values.update(changes)
        return RetryPolicy(**values)

    def __repr__(self):
        return (f"RetryPolicy(max_attempts={self.max_attempts}, base_delay={self.base_delay}, max_delay={self.max_delay}, "
                f"max_retry_after={self.max_retry_after}, statuses={sorted(self.statuses)}, retry_timeouts={self.retry_timeouts}, "
                f"retry_refused={self.retry_refused})")

    # --- decisions ---------------------------------------------------------------------------
    def retryable_status(self, status, idempotent):
        if status not in self.statuses:
            return False
        return status == 429 or idempotent

    def retryable_failure(self, failure, idempotent, timeouts=None):
        """``timeouts`` overrides ``retry_timeouts`` for one request (a fixed-name create)."""
        if not isinstance(failure, ConnectionFailure):
            return False
        if isinstance(failure, RequestTimeout):
            retry_timeouts = self.retry_timeouts if timeouts is None else timeouts
            return retry_timeouts and (idempotent or not failure.sent)
        if failure.cause == "refused":
            return self.retry_refused  # nothing reached the server: safe to repeat
        return failure.cause == "reset" and idempotent

    def backoff(self, attempt):
        """Full-jitter delay before attempt ``attempt + 1`` (``attempt`` is 1-based)."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return self.random() * ceiling

    def delay(self, attempt, retry_after=None):
        jitter = self.backoff(attempt)
        if retry_after is None:
            return jitter
        return min(self.max_retry_after, max(float(retry_after), jitter))

    def decide(self, attempt, idempotent, status=None, failure=None, retry_after=None, message=None, timeouts=None):
        """Seconds to sleep before the next attempt, or ``None`` to give up now. ``attempt`` is
        the 1-based number of the attempt that just failed, with an HTTP ``status`` (and the
        Status ``message``) or a ``ConnectionFailure``; ``timeouts`` overrides ``retry_timeouts``."""
        if attempt >= self.max_attempts or is_webhook_denial(message):
            return None
        if failure is not None:
            ok = self.retryable_failure(failure, idempotent, timeouts)
        else:
            ok = status is not None and self.retryable_status(int(status), idempotent)
        return self.delay(attempt, retry_after) if ok else None

    def delays(self):
        """The plain backoff sequence (no Retry-After): one delay per retry, ``max_attempts - 1``
        of them. For callers that poll with their own loop."""
        return BackoffIterator(self)


class BackoffIterator:
    """Iterates the full-jitter delays of a policy: ``for delay in policy.delays(): ...``."""

    __slots__ = ("_policy", "_attempt")

    def __init__(self, policy):
        self._policy = policy
        self._attempt = 0

    def __iter__(self):
        return self

    def __next__(self):
        self._attempt += 1
        if self._attempt >= self._policy.max_attempts:
            raise StopIteration
        return self._policy.backoff(self._attempt)


DEFAULT_POLICY = RetryPolicy()
NO_RETRY = RetryPolicy(max_attempts=1)


def on_conflict(attempt_fn, max_attempts=5, sleep=None, policy=DEFAULT_POLICY):
    """Call ``attempt_fn()`` until it does not raise a 409 ``Conflict`` (``AlreadyExists`` and a
    webhook's 409 denial are re-raised at once: re-applying would not help). ``attempt_fn`` must re-read the live object
    and re-apply the desired change each time -- that is what resolves the conflict::

        def attempt():
            live = client.get(path)
            return client.replace(path, apply_desired(live))   # carries live resourceVersion
        result = on_conflict(attempt)

    ``sleep`` (default ``time.sleep``) gets a short full-jitter pause between attempts."""
    if sleep is None:
        import time
        sleep = time.sleep
    attempt = 0
    while True:
        attempt += 1
        try:
            return attempt_fn()
        except Conflict as e:
            if e.already_exists or e.denied_by_webhook or attempt >= max_attempts:
                raise
            sleep(policy.backoff(attempt))
