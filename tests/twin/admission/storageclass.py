"""StorageClass (storage.k8s.io/v1): the apiserver's own validation and Harvester's validator.

1. kube-apiserver (not a webhook; k8s pkg/apis/storage/validation ValidateStorageClass and
   ValidateStorageClassUpdate, run on create and, both of them, on update) answers 422 Invalid
   `StorageClass.storage.k8s.io "<name>" is invalid: <field>: <message>` (several causes in
   `[..., ...]`):
   - `provisioner`: required, and (lower-cased) a qualified name;
   - `parameters`: no empty key ("field can not be empty.");
   - on update `parameters`, `provisioner` and `reclaimPolicy` are Forbidden ("updates to
     parameters are forbidden.", ...) and `volumeBindingMode` is immutable (`Invalid value:
     "WaitForFirstConsumer": field is immutable`). Everything else (annotations, labels,
     allowVolumeExpansion, mountOptions) may change. An absent `parameters` and `{}` count as
     the same here.
2. Harvester's `validator.harvesterhci.io` (harvester pkg/webhook/resources/storageclass
   validator.go); every refusal is a werror.NewInvalidError, relayed as 422 Invalid with one
   FieldValueInvalid cause (`admission.image.invalid`):
   - create and update: at most one class annotated `storageclass.kubernetes.io/is-default-class:
     "true"` ("default storage class %s already exists, please reset it first before set %s as
     default"; any value but "false" counts as asking to be the default);
   - create: `dataLocality` strict-local is refused (not migratable, and it blocks node drains),
     any value but disabled/best-effort too; `encrypted` must parse as a Go bool and, when true,
     the three CSI secret name/namespace pairs must be there and name one Secret holding a valid
     LUKS configuration;
   - delete: a class annotated `harvesterhci.io/is-reserved-storageclass: "true"`, or the legacy
     `harvester-longhorn` installed by the Harvester chart (Helm release `harvester` in
     `harvester-system`) without that annotation, is reserved ("storage class %s is reserved by
     Harvester and can't be deleted"; the annotation "false" lifts it); a class that images name
     in their `harvesterhci.io/storageClassName` annotation (the ImageByStorageClass index, every
     namespace) is "used by virtual machine images: [a b]".
   Not reproduced: the CDI annotation checks (a provisioner CDI does not know needs the
   volume-mode/access-modes annotation) and the mutator's CDI annotations for Longhorn v2 and LVM.
"""
from __future__ import annotations

import base64
import binascii

from .. import errors
from ..meta import qualified_name_errors
from . import Chain, Request
from .image import invalid

GROUP = "storage.k8s.io"
KIND = "StorageClass"

ANNOTATION_DEFAULT = "storageclass.kubernetes.io/is-default-class"
ANNOTATION_RESERVED = "harvesterhci.io/is-reserved-storageclass"
ANNOTATION_IMAGE_SC = "harvesterhci.io/storageClassName"
HELM_RELEASE_NAME = "meta.helm.sh/release-name"
HELM_RELEASE_NAMESPACE = "meta.helm.sh/release-namespace"
LEGACY_RESERVED = "harvester-longhorn"
HARVESTER_RELEASE = ("harvester", "harvester-system")  # (release name, namespace) of the Harvester chart

DATA_LOCALITY = "dataLocality"
ENCRYPTED = "encrypted"
SECRET_PAIRS = (
    ("csi.storage.k8s.io/provisioner-secret-name", "csi.storage.k8s.io/provisioner-secret-namespace"),
    ("csi.storage.k8s.io/node-stage-secret-name", "csi.storage.k8s.io/node-stage-secret-namespace"),
    ("csi.storage.k8s.io/node-publish-secret-name", "csi.storage.k8s.io/node-publish-secret-namespace"),
)
# longhorn-manager types: the LUKS keys of an encryption Secret and the values Harvester accepts
# (None: any non-empty value). Go walks a map in random order; the twin checks in this one.
CRYPTO_FIELDS = (
    ("CRYPTO_KEY_CIPHER", ("aes-xts-plain", "aes-xts-plain64", "aes-cbc-plain", "aes-cbc-plain64", "aes-cbc-essiv:sha256")),
    ("CRYPTO_KEY_HASH", ("sha256", "sha384", "sha512")),
    ("CRYPTO_KEY_SIZE", ("256", "384", "512")),
    ("CRYPTO_PBKDF", ("argon2i", "argon2id", "pbkdf2")),
    ("CRYPTO_KEY_PROVIDER", ("secret",)),
    ("CRYPTO_KEY_VALUE", None),
)
GO_BOOLS = {"1": True, "t": True, "T": True, "TRUE": True, "true": True, "True": True,
            "0": False, "f": False, "F": False, "FALSE": False, "false": False, "False": False}


def _annotations(obj: dict | None) -> dict:
    return ((obj or {}).get("metadata") or {}).get("annotations") or {}


def _parameters(obj: dict | None) -> dict:
    return (obj or {}).get("parameters") or {}


def _go_quote(value) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


# ---------------------------------------------------------------------------------- kube-apiserver
def _class_errors(sc: dict) -> list[tuple[str, str, str]]:
    out = []
    provisioner = sc.get("provisioner") or ""
    if not provisioner:
        out.append(("FieldValueRequired", "provisioner", "Required value"))
    else:
        out += qualified_name_errors(provisioner.lower(), "provisioner")
    for key in _parameters(sc):
        if not key:
            out.append(("FieldValueInvalid", "parameters", 'Invalid value: "": field can not be empty.'))
    return out


def _update_errors(new: dict, old: dict) -> list[tuple[str, str, str]]:
    out = []
    if _parameters(new) != _parameters(old):
        out.append(("FieldValueForbidden", "parameters", "Forbidden: updates to parameters are forbidden."))
    if new.get("provisioner") != old.get("provisioner"):
        out.append(("FieldValueForbidden", "provisioner", "Forbidden: updates to provisioner are forbidden."))
    if new.get("reclaimPolicy") != old.get("reclaimPolicy"):
        out.append(("FieldValueForbidden", "reclaimPolicy", "Forbidden: updates to reclaimPolicy are forbidden."))
    mode = new.get("volumeBindingMode")
    if mode != old.get("volumeBindingMode"):
        out.append(("FieldValueInvalid", "volumeBindingMode", f"Invalid value: {_go_quote(mode)}: field is immutable"))
    return out


def validate_builtin(req: Request) -> None:
    if req.operation not in ("CREATE", "UPDATE") or req.subresource:
        return
    causes = _class_errors(req.obj)
    if req.operation == "UPDATE":
        causes += _update_errors(req.obj, req.old)
    if causes:
        raise errors.invalid(KIND, GROUP, req.name, causes)


# ---------------------------------------------------------------------------------- Harvester
def _kind(req: Request, group: str, plural: str):
    return req.store.registry.by_plural(group, plural)


def _check_unique_default(req: Request) -> None:
    sc = req.obj
    value = _annotations(sc).get(ANNOTATION_DEFAULT)
    if value is None or value == "false":
        return
    name = sc["metadata"]["name"]
    for other in req.store.list(_kind(req, GROUP, "storageclasses")):
        other_name = other["metadata"]["name"]
        if other_name != name and _annotations(other).get(ANNOTATION_DEFAULT) == "true":
            raise invalid(f"default storage class {other_name} already exists, please reset it first before set "
                          f"{name} as default")


def _check_data_locality(sc: dict) -> None:
    params = _parameters(sc)
    if DATA_LOCALITY not in params:
        return
    value = params[DATA_LOCALITY]
    if value == "strict-local":
        raise invalid("storage class with strict-local data locality is not allowed")
    if value not in ("disabled", "best-effort"):
        raise invalid(f'storage class with invalid data locality {value}, valid values: "disabled", "best-effort"')


def _secret_value(secret: dict, key: str) -> str | None:
    """A Secret's value (stored Secrets hold ``data`` only: the store folds ``stringData`` in)."""
    data = secret.get("data") or {}
    try:
        return base64.b64decode(data[key]).decode("utf-8", "replace") if key in data else None
    except (binascii.Error, ValueError):
        return None


def _check_encryption(req: Request, sc: dict) -> None:
    params = _parameters(sc)
    if ENCRYPTED not in params:
        return
    enabled = GO_BOOLS.get(params[ENCRYPTED])
    if enabled is None:
        raise invalid("invalid value for `encrypted`", "spec.parameters")
    if not enabled:
        return
    missing, first = [], None
    for name_key, namespace_key in SECRET_PAIRS:
        missing += [k for k in (name_key, namespace_key) if k not in params]
        if name_key not in params or namespace_key not in params:
            continue
        pair = (params[name_key], params[namespace_key])
        if first is None:
            first = pair
        elif pair != first:
            raise invalid(f"secret names and namespaces in {name_key} and {namespace_key} are different from others")
    if missing:
        raise invalid(f"storage class must contain {', '.join(missing)}", "spec.parameters")
    name, namespace = first
    if not name or not namespace:
        raise invalid("storage class must contain secret name and namespace", "spec.parameters")
    secrets = _kind(req, "", "secrets")
    secret = req.store.peek(secrets, namespace, name) if secrets is not None else None
    if secret is None:
        raise invalid(f"secret {namespace}/{name} not found")
    for key, allowed in CRYPTO_FIELDS:
        value = _secret_value(secret, key)
        if value is None:
            raise invalid(f"secret {namespace}/{name} is not a valid encryption secret, missing field: {key}")
        if (allowed is None and value == "") or (allowed is not None and value not in allowed):
            raise invalid(f"secret {namespace}/{name} is not a valid encryption secret, invalid field: {key}")


def _check_reserved(sc: dict) -> None:
    annotations, name = _annotations(sc), sc["metadata"]["name"]
    reserved = annotations.get(ANNOTATION_RESERVED)
    if reserved == "false":
        return
    helm = (annotations.get(HELM_RELEASE_NAME), annotations.get(HELM_RELEASE_NAMESPACE))
    if reserved == "true" or (name == LEGACY_RESERVED and helm == HARVESTER_RELEASE):
        raise invalid(f"storage class {name} is reserved by Harvester and can't be deleted")


def _check_image_usage(req: Request, sc: dict) -> None:
    name = sc["metadata"]["name"]
    images = _kind(req, "harvesterhci.io", "virtualmachineimages")
    users = sorted(image["metadata"]["name"] for image in (req.store.list(images) if images is not None else [])
                   if _annotations(image).get(ANNOTATION_IMAGE_SC) == name)
    if users:
        raise invalid(f"storage class {name} is used by virtual machine images: [{' '.join(users)}]")


def validate_harvester(req: Request) -> None:
    if req.subresource:
        return
    if req.operation == "CREATE":
        _check_unique_default(req)
        _check_data_locality(req.obj)
        _check_encryption(req, req.obj)
    elif req.operation == "UPDATE":
        _check_unique_default(req)
    elif req.operation == "DELETE":
        _check_reserved(req.old)
        _check_image_usage(req, req.old)


def register(chain: Chain) -> None:
    """The apiserver's own validation first, then Harvester's validating webhook."""
    chain.validate_with(GROUP, KIND, validate_builtin)
    chain.validate_with(GROUP, KIND, validate_harvester)
