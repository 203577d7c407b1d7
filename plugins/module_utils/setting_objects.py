# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Settings as API objects, shared by ``harvester_setting`` and ``longhorn_setting``: what both
kinds have in common once the per-kind knowledge (``harvester_settings``, ``longhorn_settings``)
has said what a value means, and each module's flow (``harvester_task``, ``longhorn_task``).

- The settings requested in one task: ``name`` + ``value`` or ``settings`` (name -> value),
  checked before any request (``requested``).
- Settings exist already (Harvester and Longhorn create every one at start): they are never
  created or deleted; only ``value`` is changed, with one merge patch carrying the live
  ``resourceVersion`` (a 409 re-reads and re-applies). Check mode is the client's ``dryRun=All``.
- Waiting per setting until the controller has taken the new value (``Harvester``: the
  ``configured`` condition and the hash annotation; ``Longhorn``: ``status.applied``).

    wires = harvester_wires(module.params)          # name -> string to store; checked before any request
    outcomes = apply_all(client, kinds.HARVESTER_SETTING, None, wires, harvester_settings.same)
"""

from __future__ import annotations

import hashlib
import json

from . import harvester_settings, kinds, longhorn_settings
from .errors import ApiError, Conflict, HarvesterError
from .objects import condition
from .retry import is_webhook_denial, on_conflict
from .validate import ValidationError, positive


def requested(params, value_required=True):
    """The name -> value mapping a task asks for: ``name`` + ``value`` or ``settings``. Raises
    ``ValidationError`` naming the option."""
    name, settings = params.get("name"), params.get("settings")
    if name is not None:
        if not name:
            raise ValidationError("name", "must not be empty")
        if value_required and params.get("value") is None:
            raise ValidationError("value", f"is required with name ({name})")
        wanted = {name: params.get("value")}
    else:
        if not settings:
            raise ValidationError("settings", "must name at least one setting")
        wanted = dict(settings)
        empty = [key for key in wanted if not key]
        if empty:
            raise ValidationError("settings", "has an empty setting name")
        if value_required:
            missing = sorted(key for key, value in wanted.items() if value is None)
            if missing:
                raise ValidationError(f"settings.{missing[0]}", "needs a value (null is not a value here)")
    positive(params.get("wait_timeout"), "wait_timeout")
    return wanted


class Outcome:
    """One setting of the task: ``before`` (live object), ``after`` (the server's answer, or the
    live object when unchanged), ``changed`` and ``wire`` (the value written)."""

    __slots__ = ("name", "before", "after", "changed", "wire")

    def __init__(self, name, before, after, changed, wire):
        self.name, self.before, self.after, self.changed, self.wire = name, before, after, changed, wire


def _read(client, kind, namespace, name):
    live = client.get(kind.path(namespace, name), missing_ok=True)
    if live is None:
        where = f"{namespace}/{name}" if namespace else name
        raise HarvesterError(f"{kind.kind} {where} does not exist on this cluster (settings are created by "
                             f"{'Longhorn' if kind.group == 'longhorn.io' else 'Harvester'} itself, never by this module)")
    return live


def apply_value(client, kind, namespace, name, wire, same, live=None):
    """Make setting ``name`` hold ``wire`` (a string) unless ``same(stored_value)`` already says so.
    ``live``: the object as just read (saves the first read); a 409 re-reads and re-applies."""
    path = kind.path(namespace, name)
    state = {"written": False, "live": live}

    def attempt():
        live = state.pop("live", None) or _read(client, kind, namespace, name)
        state.setdefault("before", live)
        if same(live.get("value")):
            state["after"] = live
            return state["written"]  # our earlier patch was stored, only its answer was lost
        patch = {"metadata": {"resourceVersion": live["metadata"]["resourceVersion"]}, "value": wire}
        try:
            state["after"] = client.merge_patch(path, patch)
        except Conflict as e:
            state["written"] = state["written"] or e.maybe_stored
            raise
        return True

    changed = on_conflict(attempt)
    return Outcome(name, state["before"], state["after"], changed, wire)


class PartlyApplied(HarvesterError):
    """A later setting of the task failed after earlier ones were changed: the failure says which
    changes were stored (``changed`` true), so a rerun is understood."""

    def __init__(self, error, done):
        super().__init__(f"{error} (already changed by this task: {', '.join(done)})")
        self.error, self.done = error, done

    def as_dict(self):
        return dict(self.error.as_dict(), changed=True, changed_settings=list(self.done))


def is_refusal(error):
    """The API judged the value and refused it (an admission webhook, or the schema's 422), as
    opposed to failing to answer: deterministic, so it is reported, never retried."""
    return isinstance(error, ApiError) and (error.status == 422 or is_webhook_denial(error.message))


def refusal_text(error):
    """``(field, text)`` of a refusal: the field the API names (``None`` for the value as a whole)
    and its own words, without the apiserver's ``admission webhook "..." denied the request:``."""
    for cause in getattr(error, "causes", None) or []:
        field = cause.get("field") or ""
        return (None if field in WHOLE_VALUE else field), cause.get("message") or error.message
    text = error.message or error.reason or str(error)
    marker = "denied the request: "
    return None, text.split(marker, 1)[1] if marker in text else text


# Fields that mean "the value as a whole": Harvester's webhook names ``value``/``default``,
# Longhorn's ``value`` or ``metadata.name``.
WHOLE_VALUE = ("", "value", "default", "metadata.name")


class Refused(HarvesterError):
    """The API refused settings of the task when they were sent with ``dryRun=All``, before any
    was written: every refusal, each naming its setting (and field) in the API's own words."""

    def __init__(self, refusals):
        self.refusals = []
        lines = []
        for name, error in refusals:
            field, text = refusal_text(error)
            where = f"settings.{name}" + (f".{field}" if field else "")
            lines.append(f"{where}: {text}")
            self.refusals.append({"setting": name, "field": where, "message": text, "status": error.status,
                                  "reason": error.reason, "api_path": error.path})
        self.problems = lines
        super().__init__("; ".join(lines) + " (nothing was changed)")

    def as_dict(self):
        return {"changed": False, "problems": list(self.problems), "refusals": list(self.refusals)}


def apply_all(client, kind, namespace, wires, same):
    """``apply_value`` for every name -> wire string of ``wires``, in order;
    ``same(name, stored, wire)`` says whether the stored value already is ``wire``.

    Harvester's and Longhorn's webhooks judge the values, not this module: every change is first
    sent with ``dryRun=All`` (in check mode that is all that is sent). When the API refuses any,
    ``Refused`` reports all of them and nothing is written; otherwise the real writes follow in
    order. Returns the ``Outcome``s; an error after some changes becomes ``PartlyApplied``."""
    lives, answers, refusals = {}, {}, []
    for name, wire in wires.items():
        live = lives[name] = _read(client, kind, namespace, name)
        if same(name, live.get("value"), wire):
            continue
        try:
            # No resourceVersion: the dry run asks only whether the value is acceptable now.
            answers[name] = client.merge_patch(kind.path(namespace, name), {"value": wire}, dry_run=True)
        except ApiError as e:
            if not is_refusal(e):
                raise
            refusals.append((name, e))
    if refusals:
        raise Refused(refusals)
    outcomes = []
    for name, wire in wires.items():
        if name not in answers:
            outcomes.append(Outcome(name, lives[name], lives[name], False, wire))
        elif client.dry_run:
            outcomes.append(Outcome(name, lives[name], answers[name], True, wire))
        else:
            try:
                outcomes.append(apply_value(client, kind, namespace, name, wire,
                                            lambda stored, n=name, w=wire: same(n, stored, w), live=lives[name]))
            except HarvesterError as e:
                done = [o.name for o in outcomes if o.changed]
                if done:
                    raise PartlyApplied(e, done) from None
                raise
    return outcomes


class InvalidSettings(HarvesterError):
    """Values refused before any request; ``problems`` lists every message."""

    def __init__(self, problems):
        super().__init__("; ".join(problems))
        self.problems = list(problems)

    def as_dict(self):
        return {"problems": self.problems}


def json_view(value):
    """A stored value for diff and output: JSON objects and lists parsed, anything else as it is."""
    if isinstance(value, str) and value.strip()[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def resource_version(obj):
    return ((obj or {}).get("metadata") or {}).get("resourceVersion")


def sha224(text):
    return hashlib.sha224(text.encode("utf-8")).hexdigest()


def sha1(text):
    return hashlib.sha1(text.encode("utf-8")).hexdigest()  # noqa: S324 - Harvester's own choice, not security


# ------------------------------------------------------------------------------------- Harvester
# REF harvester-api.md section 1.1 and 3 (H:pkg/controller/master/setting/{register,handler}.go):
# the settings with a syncer store annotation HASH = sha224(value + UPGRADE_PATCHED annotation) and
# set `configured` True (False for an empty value, False with the error as message on failure).
HASH = "harvesterhci.io/hash"
UPGRADE_PATCHED = "harvesterhci.io/upgrade-patched"
SYNCED = frozenset((
    "additional-ca", "cluster-registration-url", "http-proxy", "log-level", "overcommit-config", "vip-pools",
    "auto-disk-provision-paths", "ssl-certificates", "ssl-parameters", "containerd-registry", "ntp-servers",
    "longhorn-v2-data-engine-enabled", "auto-rotate-rke2-certs", "additional-guest-memory-overhead-ratio",
    "support-bundle-image", "kubevirt-migration", "instance-manager-resources",
    "cluster-pod-security-standard", "max-hotplug-ratio", "upgrade-config"))
# The storage-network controller records sha1(value) here and walks `configured` False
# "In Progress" -> True "Completed".
SN_HASH = "storage-network.settings.harvesterhci.io/hash"
IN_PROGRESS = "In Progress"
S3_KEYS = ("accessKeyId", "secretAccessKey")
WAITED = SYNCED | {"backup-target", "storage-network"}


def _collect(node, path, out):
    if not path:
        if isinstance(node, str) and node:
            out.append(node)
        return
    if not isinstance(node, dict):
        return
    head, rest = path[0], path[1:]
    for key in (list(node) if head == "*" else [head]):
        if key in node:
            _collect(node[key], rest, out)


def harvester_secrets(name, value):
    """The secret strings inside a desired value (S3 keys, registry passwords, a private key, a
    proxy URL's password), for ``no_log_values``: masked wherever they would appear in output."""
    from urllib.parse import urlsplit

    paths = harvester_settings.SECRET_FIELDS.get(name, ())
    url_paths = harvester_settings.SECRET_URL_FIELDS.get(name, ())
    if not paths and not url_paths:
        return []
    parsed = value if isinstance(value, dict) else json_view(value)
    if not isinstance(parsed, dict):
        return []
    found = []
    for path in paths:
        _collect(parsed, path, found)
    urls = []
    for path in url_paths:
        _collect(parsed, path, urls)
    for url in urls:
        try:
            password = urlsplit(url).password
        except ValueError:
            password = None
        if password:
            found.append(password)
    return found


def harvester_wires(params):
    """name -> the string to store, for a harvester_setting task; ``InvalidSettings`` / ``ValidationError``
    before any request."""
    absent = params.get("state") == "absent"
    if absent and params.get("value") is not None:
        raise ValidationError("value", "is not used with state=absent (the value is reset to the setting's default)")
    wanted = requested(params, value_required=not absent)
    if absent:
        wanted = {name: None for name in wanted}
    problems = harvester_settings.validate_all(wanted)
    if problems:
        raise InvalidSettings(problems)
    return {name: harvester_settings.serialise(value) for name, value in wanted.items()}


def harvester_view(name, value):
    """A value as the diff and the return values show it: JSON parsed, secrets masked."""
    setting = harvester_settings.SETTINGS.get(name)
    shown = json_view(value) if setting is not None and setting.json else value
    return harvester_settings.mask(name, shown)


def harvester_waits_for(name):
    """Whether a controller reports on ``name`` (others are only read by Harvester: nothing to wait for)."""
    return name in WAITED


def _annotations(obj):
    return (obj.get("metadata") or {}).get("annotations") or {}


def _s3_keys_stored(value):
    try:
        parsed = json.loads(value) if value else {}
    except ValueError:
        return False
    return isinstance(parsed, dict) and any(parsed.get(key) for key in S3_KEYS)


def harvester_state(name, obj, written_rv):
    """``(done, failure message or None)`` of Harvester's controller for the setting object ``obj``
    after our write answered ``written_rv`` (an error is only believed once the controller has
    written the object since: a condition left from an earlier value is not about ours)."""
    value = obj.get("value") or ""
    ann = _annotations(obj)
    cond = condition(obj, "configured")
    status, message = cond.get("status"), cond.get("message") or ""
    touched = resource_version(obj) != written_rv
    if name == "backup-target":
        if value == "":
            return status != "True", None
        if _s3_keys_stored(value):
            return False, None  # the controller has not moved the keys to its Secret yet
        if status == "True":
            return True, None
        return False, (message if status == "False" and message and touched else None)
    if name == "storage-network":
        if value == "" and not ann:
            return True, None
        if ann.get(SN_HASH) == sha1(value) and status == "True":
            return True, None
        failed = status == "False" and message and cond.get("reason") != IN_PROGRESS and touched
        return False, (message if failed else None)
    if value == "" and not ann.get(HASH):
        return True, None  # never configured and reset: the controller has nothing to do
    if ann.get(HASH) == sha224(value + ann.get(UPGRADE_PATCHED, "")):
        return True, None
    return False, (message if status == "False" and message and touched else None)


def harvester_summary(obj):
    if obj is None:
        return "gone"
    cond = condition(obj, "configured")
    text = f"configured={cond.get('status', 'unknown')}"
    if cond.get("reason"):
        text += f" ({cond['reason']})"
    if cond.get("message"):
        text += f": {cond['message']}"
    return text


def harvester_wait(client, kind, outcome, timeout, sleep=None):
    """Poll the setting until Harvester has configured the value just written; returns the object.
    Raises ``WaitFailed`` with the controller's message, or ``WaitTimeout``."""
    from .wait import until
    written_rv = resource_version(outcome.after)
    path = kind.path(None, outcome.name)
    verdict = {}

    def done(obj):
        verdict["ok"], verdict["failure"] = harvester_state(outcome.name, obj, written_rv)
        return verdict["ok"]

    return until(lambda: client.get(path), done, first=outcome.after, timeout=timeout,
                 what=f"Harvester to configure setting {outcome.name}", failed=lambda obj: verdict.get("failure"),
                 describe=harvester_summary, sleep=sleep)


# -------------------------------------------------------------------------------------- Longhorn
LONGHORN_NAMESPACE = "longhorn-system"


def attached_volumes(client, volume_kind, rwx_only=False):
    """Names of the Longhorn volumes not detached (of access mode rwx only, with ``rwx_only``)."""
    names = []
    for volume in client.list(volume_kind.path(LONGHORN_NAMESPACE)):
        if rwx_only and (volume.get("spec") or {}).get("accessMode") != "rwx":
            continue
        if ((volume.get("status") or {}).get("state") or "detached") != "detached":
            names.append(volume["metadata"]["name"])
    return sorted(names)


def applied(obj):
    return bool(((obj or {}).get("status") or {}).get("applied"))


def longhorn_summary(obj):
    return "gone" if obj is None else f"applied={str(applied(obj)).lower()}"


def longhorn_wires(params):
    """name -> the string Longhorn's mutator would store, for a longhorn_setting task;
    ``InvalidSettings`` / ``ValidationError`` before any request."""
    wanted = requested(params)
    problems = longhorn_settings.validate_all(wanted)
    if problems:
        raise InvalidSettings(problems)
    return {name: longhorn_settings.normalise(name, value) for name, value in wanted.items()}


def longhorn_view(value):
    """A stored value for the diff: a per-engine JSON object parsed, anything else as it is."""
    shown = json_view(value)
    return shown if isinstance(shown, dict) else value


def longhorn_wait(client, setting_kind, volume_kind, outcomes, timeout, sleep=None):
    """Wait until Longhorn has applied each changed setting. Returns name -> reason for the settings
    whose change is accepted but pending (danger zone with volumes attached; data-engine switches
    waiting for idle instance managers), which is not a failure. Other settings not applied within
    ``timeout`` raise ``WaitTimeout``."""
    from .errors import WaitTimeout
    from .wait import until
    pending, attached = {}, {}
    for outcome in outcomes:
        name = outcome.name
        rwx = name in longhorn_settings.DANGER_ZONE_RWX
        if name in longhorn_settings.DANGER_ZONE or rwx:
            if rwx not in attached:
                attached[rwx] = attached_volumes(client, volume_kind, rwx_only=rwx)
            if attached[rwx]:
                shown = ", ".join(attached[rwx][:5]) + (", ..." if len(attached[rwx]) > 5 else "")
                pending[name] = f"{longhorn_settings.pending_reason(name, False)}; attached now: {shown}"
                continue
        path = setting_kind.path(LONGHORN_NAMESPACE, name)
        try:
            outcome.after = until(lambda p=path: client.get(p), applied, first=outcome.after, timeout=timeout,
                                  what=f"Longhorn to apply setting {name}", describe=longhorn_summary, sleep=sleep)
        except WaitTimeout:
            if not longhorn_settings.is_pending_not_failed(name, False):
                raise
            pending[name] = longhorn_settings.pending_reason(name, False)
    return pending


# ------------------------------------------------------------------- the flows of the two modules
def harvester_task(module):
    """harvester_setting's ``run(module)``: the secrets hidden, every value checked and dry-run
    before any is written (``apply_all``), then a wait for each changed setting Harvester
    configures (not in check mode: a dry run stores nothing to configure)."""
    p = module.params
    for name, value in (p["settings"] or {p["name"]: p["value"]}).items():
        module.hide(harvester_secrets(name, value))
    wires = harvester_wires(p)  # every input check, before the client exists
    client = module.client
    outcomes = apply_all(client, kinds.HARVESTER_SETTING, None, wires, harvester_settings.same)
    for outcome in outcomes:
        if outcome.changed and p["wait"] and not client.dry_run and harvester_waits_for(outcome.name):
            outcome.after = harvester_wait(client, kinds.HARVESTER_SETTING, outcome, p["wait_timeout"])
    changed = [o for o in outcomes if o.changed]
    return {
        "changed": bool(changed),
        "changed_settings": [o.name for o in changed],
        "settings": {o.name: {"value": harvester_settings.mask(o.name, o.after.get("value", "")),
                              "default": o.after.get("default", ""),
                              "configured": condition(o.after, "configured").get("status"),
                              "changed": o.changed} for o in outcomes},
        "diff": {"before": {o.name: harvester_view(o.name, o.before.get("value") or "") for o in changed},
                 "after": {o.name: harvester_view(o.name, o.wire) for o in changed}},
    }


def longhorn_task(module):
    """longhorn_setting's ``run(module)``: every value checked and dry-run before any is written,
    a warning for each changed setting that has one, then (``wait_applied``, not in check mode) a
    wait until Longhorn has applied them; what is still pending is warned and returned."""
    p = module.params
    wires = longhorn_wires(p)  # every input check, before the client exists
    client = module.client
    outcomes = apply_all(client, kinds.LONGHORN_SETTING, LONGHORN_NAMESPACE, wires, longhorn_settings.same)
    changed = [o for o in outcomes if o.changed]
    for outcome in changed:
        for warning in longhorn_settings.warnings(outcome.name):
            module.warn(warning)
    pending = {}
    if changed and p["wait_applied"] and not client.dry_run:
        pending = longhorn_wait(client, kinds.LONGHORN_SETTING, kinds.LONGHORN_VOLUME, changed, p["wait_timeout"])
        for name, reason in pending.items():
            module.warn(f"settings.{name}: changed, {reason}")
    return {
        "changed": bool(changed),
        "changed_settings": [o.name for o in changed],
        "pending": pending,
        "settings": {o.name: {"value": o.after.get("value", ""), "applied": applied(o.after), "changed": o.changed}
                     for o in outcomes},
        "diff": {"before": {o.name: longhorn_view(o.before.get("value") or "") for o in changed},
                 "after": {o.name: longhorn_view(o.wire) for o in changed}},
    }
