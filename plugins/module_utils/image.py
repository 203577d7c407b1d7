# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a Harvester VM image is: a VirtualMachineImage whose ``spec`` names where its bytes come
from (``download`` from ``url``, checked against a sha512 ``checksum``, or ``upload``), with a
display name, a description, labels and the StorageClass its backing image is built on.
Per-kind knowledge only -- the flow (read, compare, patch, wait) is in ``reconcile`` and ``wait``.

Facts (shared/reference/harvester-api.md §1.2, §11.9; harvester pkg/image, pkg/webhook):

- the mutator fills ``spec.backend``, the ``harvesterhci.io/imageDisplayName`` label (from
  ``displayName``, on every write), the ``harvesterhci.io/storageClassName`` annotation and
  ``spec.targetStorageClassName`` (the default StorageClass when none is named) and
  ``spec.storageClassParameters`` (from that StorageClass): all the server's, never drift;
- immutable (the validator answers 422): ``displayName``, ``url``, ``sourceType``, the
  storageClassName annotation / ``targetStorageClassName`` and ``storageClassParameters`` (which
  the mutator derives from the StorageClass, so they change only with it);
- the controller downloads, then ``Imported=True`` is "ready"; ``RetryLimitExceeded=True`` (after
  ``failed > spec.retry``) is terminal, and the failing condition (``Initialized`` or
  ``Imported``) carries Harvester's message; an upload that failed is ``Imported=False`` with
  reason ``UploadFailed``; ``status.progress`` is capped at 99 until imported.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from . import kinds, listing, progress, reconcile, validate
from .kind_spec import KindSpec
from .objects import condition
from .reconcile import Field, empty_is_none, fields_given, set_labels
from .validate import ValidationError, label_value, subdomain

KIND = kinds.VM_IMAGE
SOURCE_TYPES = ("download", "upload")
LABEL_DISPLAY_NAME = "harvesterhci.io/imageDisplayName"
ANNOTATION_STORAGE_CLASS = "harvesterhci.io/storageClassName"
URL_SCHEMES = ("http", "https")

SHA512 = re.compile(r"^[0-9a-f]{128}$")


# --- input ------------------------------------------------------------------------------
def url(value, option="url"):
    """An http(s) URL with a host and no control characters or spaces (what Harvester's HEAD
    check and Longhorn's downloader can fetch)."""
    text = str(value)
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in text):
        raise ValidationError(option, f"{text!r} contains spaces or control characters")
    scheme, sep, rest = text.partition("://")
    if not sep or scheme.lower() not in URL_SCHEMES:
        raise ValidationError(option, f"{text!r} is not an http:// or https:// URL")
    host = rest.split("/", 1)[0].rsplit("@", 1)[-1]
    if not host or host.startswith(":"):
        raise ValidationError(option, f"{text!r} has no host")
    try:
        port = urlsplit(text).port  # out of 0..65535, or not a number: ValueError
    except ValueError:
        port = 0
    if port == 0:
        raise ValidationError(option, f"{text!r} has an invalid port (a number from 1 to 65535)")
    return text


def checksum(value, option="checksum"):
    text = str(value)
    if not SHA512.match(text):
        raise ValidationError(option, f"{text!r} is not a sha512 checksum (128 lower-case hexadecimal digits, "
                                      "as sha512sum prints)")
    return text


def check(params):
    """Every input check of the module, before any request (raises ``ValidationError``)."""
    reconcile.check_object_args(params)
    if params.get("state", "present") == "absent":
        return
    display = params.get("display_name")
    if display is not None:
        if display == "":
            raise ValidationError("display_name", "must not be empty (Harvester requires a display name)")
        label_value(display, "display_name")
    else:
        label_value(params["name"], "display_name")  # the default; a subdomain can be too long for a label
    source = params.get("source_type") or "download"
    if source == "download":
        if not params.get("url"):
            raise ValidationError("url", "is required when source_type is download")
        url(params["url"])
    else:
        if params.get("url"):
            raise ValidationError("url", f"only with source_type download (an {source} image has no URL)")
        if params.get("checksum"):
            raise ValidationError("checksum", f"only with source_type download (an {source} image is not downloaded)")
    if params.get("checksum"):
        checksum(params["checksum"])
    if params.get("storage_class") is not None:
        subdomain(params["storage_class"], "storage_class")
    validate.labels(params.get("labels") or {}, reserved={LABEL_DISPLAY_NAME: "is set by Harvester from display_name"})


# --- building -----------------------------------------------------------------------------
def display_name(params):
    return params.get("display_name") or params["name"]


def desired(params):
    """The VirtualMachineImage the module's params describe (only the parts we manage)."""
    source = params.get("source_type") or "download"
    spec = {"displayName": display_name(params), "sourceType": source}
    if source == "download":
        spec["url"] = params["url"]
        if params.get("checksum"):
            spec["checksum"] = params["checksum"]
    if params.get("description"):
        spec["description"] = params["description"]
    metadata = {"name": params["name"], "namespace": params["namespace"]}
    set_labels(metadata, params.get("labels"))
    if params.get("storage_class"):
        metadata["annotations"] = {ANNOTATION_STORAGE_CLASS: params["storage_class"]}
    return {"apiVersion": KIND.api_version, "kind": KIND.kind, "metadata": metadata, "spec": spec}


# --- comparison ---------------------------------------------------------------------------
def _lower(value):
    return value.lower() if isinstance(value, str) and value else None


DISPLAY_NAME = Field(("spec", "displayName"))
SOURCE_TYPE = Field(("spec", "sourceType"))
URL = Field(("spec", "url"), normalise=empty_is_none)
CHECKSUM = Field(("spec", "checksum"), normalise=_lower)
DESCRIPTION = Field(("spec", "description"), normalise=empty_is_none)
STORAGE_CLASS = Field(("metadata", "annotations", ANNOTATION_STORAGE_CLASS), normalise=empty_is_none)
BASE_FIELDS = (DISPLAY_NAME, SOURCE_TYPE, URL)


def fields(params):
    """The fields this call manages. Always the source (display name, type, URL); checksum,
    description and storage class only when given (omitted: the live value stays, ``''``
    removes a description or checksum); of the labels only the keys given (``null`` removes
    one). The mutator's defaults (backend, the display name label, the storage class parameters,
    a default storage class) are never compared."""
    return fields_given(params, BASE_FIELDS, {"checksum": CHECKSUM, "description": DESCRIPTION, "storage_class": STORAGE_CLASS})


# The fields shown in the diff of a deletion.
ALL_FIELDS = (*BASE_FIELDS, CHECKSUM, DESCRIPTION, STORAGE_CLASS)


def storage_class_of(obj):
    """The StorageClass an image is built on: the annotation, else ``targetStorageClassName``."""
    meta, spec = obj.get("metadata") or {}, obj.get("spec") or {}
    return (meta.get("annotations") or {}).get(ANNOTATION_STORAGE_CLASS) or spec.get("targetStorageClassName") or None


def _spec_value(key):
    def getter(obj):
        return ((obj.get("spec") or {}).get(key)) or None
    return getter


def immutable(params):
    """Parts that cannot change in place (the validator refuses them), by option name. The
    storage class is compared only when given (otherwise the mutator picked the default)."""
    out = {"source_type": _spec_value("sourceType"), "url": _spec_value("url"),
           "display_name": _spec_value("displayName")}
    if params.get("storage_class"):
        out["storage_class"] = storage_class_of
    return out


# --- readiness ----------------------------------------------------------------------------
def _is(obj, type_, status="True"):
    return (condition(obj, type_) or {}).get("status") == status


def is_imported(obj):
    """Harvester's "ready": condition ``Imported`` is True."""
    return _is(obj, "Imported")


def is_initialized(obj):
    """An upload image is ready to receive its bytes once ``Initialized`` is True."""
    return _is(obj, "Initialized")


def ready(obj):
    """A download image is ready once imported; an upload image once initialized (ready to
    receive its bytes)."""
    source = ((obj.get("spec") or {}).get("sourceType")) or "download"
    return is_imported(obj) if source == "download" else is_initialized(obj)


def goal(params):
    return "imported" if (params.get("source_type") or "download") == "download" else "initialized"


def failed(obj):
    """Harvester's message when the import can no longer succeed, else ``None``: the retry limit
    is exceeded (the message of the failed condition, else of ``RetryLimitExceeded``), or an
    upload failed."""
    if _is(obj, "RetryLimitExceeded"):
        for type_ in ("Imported", "Initialized"):
            c = condition(obj, type_)
            if c and c.get("status") == "False" and c.get("message"):
                return c["message"]
        return (condition(obj, "RetryLimitExceeded") or {}).get("message") or "retry limit exceeded"
    imported = condition(obj, "Imported") or {}
    if imported.get("status") == "False" and imported.get("reason") == "UploadFailed":
        return imported.get("message") or "upload failed"
    return None


def stage(obj):
    """What a wait on an image reports (``progress.Progress``): the import percent, then imported."""
    return progress.percent("image", obj, is_imported, "imported", "Imported")


def summary(obj):
    """One line for wait messages: progress, failures and the conditions seen so far."""
    status = obj.get("status") or {}
    parts = [f"progress {status.get('progress', 0)}%"]
    if status.get("failed"):
        parts.append(f"failed {status['failed']} time(s)")
    conds = [f"{c.get('type')}={c.get('status')}" + (f" ({c['reason']})" if c.get("reason") else "")
             for c in status.get("conditions") or []]
    parts.append("conditions " + (", ".join(conds) if conds else "<none yet>"))
    last = (condition(obj, "RetryLimitExceeded") or {}).get("message")
    if last:
        parts.append(f"last error: {last}")
    return "; ".join(parts)


def result(obj, params):
    """The module's return values: the image and what Harvester reports of its import."""
    status = (obj or {}).get("status") or {}
    return {"image": obj, "percent": status.get("progress", 0), "size": status.get("size"),
            "storage_class_name": status.get("storageClassName")}


SPEC = KindSpec(kind=KIND, noun="image", check=check, desired=desired, fields=fields, all_fields=ALL_FIELDS,
                immutable=immutable, ready=ready, goal=goal, failed=failed, summary=summary, stage=stage, result=result)


# --- listing (harvester_image_info) -------------------------------------------------------
def check_info(params):
    """The input checks of ``harvester_image_info``, before any request."""
    listing.check_selection(params, subdomain, "image")


def describe(obj):
    """One image in the terms of ``harvester_image``, with what Harvester reports on it."""
    meta, spec, status = obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status") or {}
    return {"name": meta.get("name"), "namespace": meta.get("namespace"), "ref": f"{meta.get('namespace')}/{meta.get('name')}",
            "display_name": spec.get("displayName"),
            "source_type": spec.get("sourceType"), "url": spec.get("url") or None,
            "storage_class": storage_class_of(obj), "labels": dict(meta.get("labels") or {}),
            "imported": is_imported(obj), "progress": status.get("progress", 0), "failure": failed(obj),
            "deleting": bool(meta.get("deletionTimestamp"))}


def list_images(client, params):
    """The images ``params`` select (``namespace``, ``name``, ``label_selector``), described, in one
    list request (a name is a field selector)."""
    return sorted((describe(obj) for obj in listing.select(client, KIND, params)), key=lambda i: (i["namespace"] or "", i["name"] or ""))
