"""Webhooks of the image area: Harvester's VirtualMachineImage mutator and validator (v1.8).

Modelled on harvester/harvester pkg/webhook/resources/virtualmachineimage, pkg/image/common
(mutator.go, validator.go) and pkg/image/backingimage (mutate.go, validate.go):

- the mutator (`mutator.harvesterhci.io`) defaults `spec.backend`, copies `spec.displayName` into
  the `harvesterhci.io/imageDisplayName` label (on every write, as v1.8's backport does: an
  invalid label value is then refused by the apiserver's own metadata validation, #11464), fills
  the `harvesterhci.io/storageClassName` annotation and `spec.targetStorageClassName`, and
  computes `spec.storageClassParameters` from the template StorageClass;
- the validator (`validator.harvesterhci.io`) answers like Harvester's werror package: invalid
  input is a 422 Invalid with one cause naming the field, a displayName clash a 409 Conflict,
  anything else (a mutator's plain error) a 500 InternalError.
"""
from __future__ import annotations

import re

from ..errors import ApiError
from . import Chain, Request, denied

GROUP = "harvesterhci.io"
KIND = "VirtualMachineImage"
VALIDATOR = "validator.harvesterhci.io"
MUTATOR = "mutator.harvesterhci.io"

LABEL_DISPLAY_NAME = "harvesterhci.io/imageDisplayName"
ANNOTATION_SC = "harvesterhci.io/storageClassName"
ANNOTATION_DEFAULT_SC = "storageclass.kubernetes.io/is-default-class"
ANNOTATION_IMAGE_ID = "harvesterhci.io/imageId"
LONGHORN_DRIVER = "driver.longhorn.io"
BACKING_IMAGE_PARAM = "backingImage"

DEFAULT_SC_PARAMETERS = {"numberOfReplicas": "3", "staleReplicaTimeout": "30", "migratable": "true"}
# the keys PatchImageSCParams copies from the template StorageClass (longhorn-manager types + util)
ALLOWED_SC_PARAMETERS = (
    "nodeSelector", "diskSelector", "numberOfReplicas", "staleReplicaTimeout", "dataLocality", "encrypted",
    "csi.storage.k8s.io/provisioner-secret-name", "csi.storage.k8s.io/provisioner-secret-namespace",
    "csi.storage.k8s.io/node-stage-secret-name", "csi.storage.k8s.io/node-stage-secret-namespace",
    "csi.storage.k8s.io/node-publish-secret-name", "csi.storage.k8s.io/node-publish-secret-namespace",
)

LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
LABEL_VALUE_MSG = ("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
                   "and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "
                   "'12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")


# ---------------------------------------------------------------------------------- answers
def invalid(message: str, field: str = "") -> ApiError:
    """werror.NewInvalidError: 422 Invalid, one FieldValueInvalid cause (field omitted when empty)."""
    err = denied(VALIDATOR, message, code=422, reason="Invalid", field=field)
    if not field:
        err.details = {"causes": [{"reason": "FieldValueInvalid", "message": message}]}
    return err


def conflict(message: str) -> ApiError:
    return denied(VALIDATOR, message, code=409, reason="Conflict")


def internal(message: str, webhook: str = VALIDATOR) -> ApiError:
    return denied(webhook, message, code=500, reason="InternalError")


# ---------------------------------------------------------------------------------- reads
def _kind(req: Request, group: str, plural: str):
    return req.store.registry.by_plural(group, plural)


def _storage_classes(req: Request) -> list[dict]:
    kind = _kind(req, "storage.k8s.io", "storageclasses")
    return req.store.list(kind) if kind is not None else []


def _storage_class(req: Request, name: str) -> dict | None:
    kind = _kind(req, "storage.k8s.io", "storageclasses")
    return req.store.peek(kind, "", name) if kind is not None else None


def default_storage_class(req: Request) -> dict | None:
    for sc in _storage_classes(req):
        if (sc["metadata"].get("annotations") or {}).get(ANNOTATION_DEFAULT_SC) == "true":
            return sc
    return None


def _spec(obj: dict | None) -> dict:
    return (obj or {}).get("spec") or {}


def _annotations(obj: dict | None) -> dict:
    return ((obj or {}).get("metadata") or {}).get("annotations") or {}


def _imported(obj: dict) -> bool:
    return any(c.get("type") == "Imported" and c.get("status") == "True"
               for c in (obj.get("status") or {}).get("conditions") or [])


# ---------------------------------------------------------------------------------- mutator
def _template_storage_class(req: Request, name: str) -> dict | None:
    """getSC: the named StorageClass (must exist; a non-Longhorn one means "use the defaults"; one
    tied to a backing image is refused), else the default one when it is Longhorn's."""
    if name:
        sc = _storage_class(req, name)
        if sc is None:
            raise internal(f'storageclass.storage.k8s.io "{name}" not found', MUTATOR)
        if sc.get("provisioner") != LONGHORN_DRIVER:
            return None
        if (sc.get("parameters") or {}).get(BACKING_IMAGE_PARAM):
            raise internal("can not use a backing image storageClass as the base storageClass template", MUTATOR)
        return sc
    sc = default_storage_class(req)
    if sc is None:
        raise internal("no default storageClass found for backingImage", MUTATOR)
    return sc if sc.get("provisioner") == LONGHORN_DRIVER else None


def _merge_parameters(image: dict, sc: dict | None) -> dict:
    params = dict(DEFAULT_SC_PARAMETERS)
    source = (sc.get("parameters") or {}) if sc is not None else (_spec(image).get("storageClassParameters") or {})
    for key, value in source.items():
        if key in ALLOWED_SC_PARAMETERS:
            params[key] = value
    return params


def mutate(req: Request) -> None:
    image = req.obj
    if image is None or req.operation not in ("CREATE", "UPDATE"):
        return
    spec = image.setdefault("spec", {})
    meta = image.setdefault("metadata", {})
    if not isinstance(spec, dict) or not isinstance(meta, dict):
        return  # the schema validation that follows refuses it
    # every write: the display name label (v1.8: the mutator owns it, #10113)
    if isinstance(spec.get("displayName"), str):
        meta.setdefault("labels", {})
        if isinstance(meta["labels"], dict):
            meta["labels"][LABEL_DISPLAY_NAME] = spec["displayName"]
    if req.operation != "CREATE":
        return
    if not spec.get("backend"):
        spec["backend"] = "backingimage"
    annotations = meta.get("annotations") if isinstance(meta.get("annotations"), dict) else {}
    # EnsureTargetSC: the annotation, else targetStorageClassName, else the default StorageClass
    target = annotations.get(ANNOTATION_SC) or spec.get("targetStorageClassName") or ""
    if not target:
        default = default_storage_class(req)
        if default is None:
            raise internal("missing default storage class", MUTATOR)
        target = default["metadata"]["name"]
    if spec["backend"] == "backingimage":
        # PatchImageSCParams (computed on the object as sent, then the target is filled in)
        spec["storageClassParameters"] = _merge_parameters(image, _template_storage_class(req, target))
    if not (annotations.get(ANNOTATION_SC) and spec.get("targetStorageClassName")):
        if not annotations.get(ANNOTATION_SC):
            annotations[ANNOTATION_SC] = target
            meta["annotations"] = annotations
        if not spec.get("targetStorageClassName"):
            spec["targetStorageClassName"] = target


# ---------------------------------------------------------------------------------- validator
def _label_value_errors(value: str) -> list[str]:
    errs = []
    if len(value) > 63:
        errs.append("must be no more than 63 characters")
    if not LABEL_VALUE.match(value):
        errs.append(LABEL_VALUE_MSG)
    return errs


def _check_display_name_unique(req: Request, image: dict) -> None:
    display = _spec(image).get("displayName") or ""
    if not display:
        raise invalid("displayName is required", "spec.displayName")
    kind = _kind(req, GROUP, "virtualmachineimages")
    uid = image["metadata"].get("uid")
    for other in req.store.list(kind, req.namespace):
        if (other["metadata"].get("labels") or {}).get(LABEL_DISPLAY_NAME) != display:
            continue
        if uid and other["metadata"].get("uid") == uid:
            continue
        raise conflict("A resource with the same name exists")


def _check_url(image: dict) -> None:
    spec = _spec(image)
    source, url = spec.get("sourceType"), spec.get("url") or ""
    if source in ("download", "restore"):
        if not url:
            raise invalid("url is required", "spec.url")
        bad = next((ch for ch in url if ord(ch) < 0x20 or ord(ch) == 0x7F), None)
        if bad is not None:
            raise invalid(f'url is invalid: parse "{url}": net/url: invalid control character in URL', "spec.url")
        return
    if url:
        raise invalid(f'url should be empty when image source type is "{source}"', "spec.url")


def _check_sc_on_create(image: dict) -> None:
    annotation = _annotations(image).get(ANNOTATION_SC, "")
    target = _spec(image).get("targetStorageClassName") or ""
    if annotation and target and annotation != target:
        raise invalid("storageClassName should keep the consistency", "spec.targetStorageClassName")


def _check_sc_on_update(old: dict, new: dict) -> None:
    old_annotation = _annotations(old).get(ANNOTATION_SC, "")
    old_target = _spec(old).get("targetStorageClassName") or ""
    if not old_annotation and not old_target:
        return
    field = f"metadata.annotations[{ANNOTATION_SC}]"
    if old_annotation and _annotations(new).get(ANNOTATION_SC) != old_annotation:
        raise invalid("storageClassName cannot be modified", field)
    new_target = _spec(new).get("targetStorageClassName") or ""
    if old_target and old_target != new_target:
        raise invalid("storageClassName cannot be modified", "spec.targetStorageClassName")
    if old_annotation and new_target and old_annotation != new_target:
        raise invalid("storageClassName cannot be modified", "spec.targetStorageClassName")


def _check_security_parameters(req: Request, image: dict) -> None:
    spec = _spec(image)
    if spec.get("sourceType") != "clone":
        return
    sp = spec.get("securityParameters")
    if not sp:
        raise invalid('sourceParameters is required when image source type is "clone"', "spec.sourceParameters")
    if not sp.get("cryptoOperation"):
        raise invalid('encryption is required when image source type is "clone"', "spec.cryptoOperation")
    if not sp.get("sourceImageName"):
        raise invalid('SourceImageName is required when image source type is "clone"',
                      "spec.security.sourceImageName")
    if not sp.get("sourceImageNamespace"):
        raise invalid('SourceImageNamespace is required when image source type is "clone"',
                      "spec.security.sourceImageName")
    ns, name = sp["sourceImageNamespace"], sp["sourceImageName"]
    source = req.store.peek(_kind(req, GROUP, "virtualmachineimages"), ns, name)
    if source is None:
        raise invalid(f"source image {ns}/{name} not found", "spec.securityParameters.sourceImageName")
    source_op = (_spec(source).get("securityParameters") or {}).get("cryptoOperation")
    display = _spec(source).get("displayName", "")
    if source_op == "encrypt" and sp["cryptoOperation"] == "encrypt":
        raise invalid(f"can not re-encrypt, source image {ns}/{name} ({display}) is already encrypted")
    if source_op in (None, "decrypt") and sp["cryptoOperation"] == "decrypt":
        raise invalid(f"can not re-decrypt, source image {ns}/{name} ({display}) is not encrypted")
    if not _imported(source):
        raise invalid(f"source image {ns}/{name} ({display}) is not ready")
    if sp["cryptoOperation"] == "decrypt":
        return
    field = f"metadata.annotations[{ANNOTATION_SC}]"
    sc_name = _annotations(image).get(ANNOTATION_SC)
    if sc_name is None:
        raise invalid("storageClassName is required when using security params", field)
    sc = _storage_class(req, sc_name)
    if sc is None:
        raise invalid(f"storage class {sc_name} not found", field)
    params = sc.get("parameters") or {}
    if params.get("encrypted") != "true":
        raise invalid(f"storage class {sc_name} is not for encryption or decryption",
                      "spec.parameters[encrypted] must be true")
    if params.get(BACKING_IMAGE_PARAM):
        raise invalid(f"storage class {sc_name} is tied to a specific backing image and cannot be used as "
                      "target for clone/encrypt", field)


def _check_image_pvc(req: Request, image: dict) -> None:
    spec = _spec(image)
    if spec.get("sourceType") != "export-from-volume":
        return
    if not spec.get("pvcNamespace"):
        raise invalid('pvcNamespace is required when image source type is "export-from-volume"', "spec.pvcNamespace")
    if not spec.get("pvcName"):
        raise invalid('pvcName is required when image source type is "export-from-volume"', "spec.pvcName")
    kind = _kind(req, "", "persistentvolumeclaims")
    if kind is None or req.store.peek(kind, spec["pvcNamespace"], spec["pvcName"]) is None:
        raise invalid(f"failed to get pvc {spec['pvcNamespace']}/{spec['pvcName']}, error: "
                      f'persistentvolumeclaim "{spec["pvcName"]}" not found')


def _validate_create(req: Request) -> None:
    image = req.obj
    display = _spec(image).get("displayName") or ""
    errs = _label_value_errors(display)
    if errs:
        raise invalid(f"displayName is not a valid Kubernetes label value: {'; '.join(errs)}", "spec.displayName")
    _check_display_name_unique(req, image)
    if _spec(image).get("backend", "backingimage") == "backingimage":
        _check_sc_on_create(image)
    _check_url(image)
    _check_security_parameters(req, image)
    _check_image_pvc(req, image)


def _validate_update(req: Request) -> None:
    old, new = req.old, req.obj
    old_spec, new_spec = _spec(old), _spec(new)
    backing = old_spec.get("backend", "backingimage") == "backingimage"
    if backing and old_spec.get("storageClassParameters") != new_spec.get("storageClassParameters"):
        raise invalid("storageClassParameters of the VM Image cannot be modified", "spec.storageClassParameters")
    if backing:
        _check_sc_on_update(old, new)
    if old_spec.get("sourceType") != new_spec.get("sourceType"):
        raise invalid("sourceType cannot be modified", "spec.sourceType")
    if new_spec.get("sourceType") == "export-from-volume":
        if old_spec.get("pvcNamespace") != new_spec.get("pvcNamespace"):
            raise invalid("pvcNamespace cannot be modified", "spec.pvcNamespace")
        if old_spec.get("pvcName") != new_spec.get("pvcName"):
            raise invalid("pvcName cannot be modified", "spec.pvcName")
    if (old_spec.get("url") or "") != (new_spec.get("url") or ""):
        raise invalid("url cannot be modified", "spec.url")
    if old_spec.get("securityParameters") != new_spec.get("securityParameters"):
        raise invalid("securityParameters cannot be modified", "spec.securityParameters")
    if old_spec.get("displayName") != new_spec.get("displayName"):
        raise invalid("displayName cannot be modified", "spec.displayName")
    _check_display_name_unique(req, new)
    _check_url(new)


def _backup_storage_classes(backup: dict) -> set[str]:
    out = set()
    for vb in (backup.get("status") or {}).get("volumeBackups") or []:
        sc = (((vb or {}).get("persistentVolumeClaim") or {}).get("spec") or {}).get("storageClassName")
        if sc:
            out.add(sc)
    return out


def _validate_delete(req: Request) -> None:
    image = req.old
    sc_name = (image.get("status") or {}).get("storageClassName") or ""
    if not sc_name:
        return
    ns, display = image["metadata"].get("namespace", ""), _spec(image).get("displayName", "")
    templates = _kind(req, GROUP, "virtualmachinetemplateversions")
    for ref in image["metadata"].get("ownerReferences") or []:
        if ref.get("kind") == "VirtualMachineTemplateVersion" and templates is not None \
                and req.store.peek(templates, ns, ref.get("name", "")) is not None:
            raise invalid(f"Cannot delete image {ns}/{display}: being used by VMTemplateVersion {ref['name']}")
    pvcs = _kind(req, "", "persistentvolumeclaims")
    for pvc in req.store.list(pvcs) if pvcs is not None else []:
        if _spec(pvc).get("storageClassName") == sc_name:
            raise invalid(f"Cannot delete image {ns}/{display}: being used by volume "
                          f"{pvc['metadata'].get('namespace', '')}/{pvc['metadata']['name']}")
    backups = _kind(req, GROUP, "virtualmachinebackups")
    users = [f"{b['metadata'].get('namespace', '')}/{b['metadata']['name']}"
             for b in (req.store.list(backups) if backups is not None else []) if sc_name in _backup_storage_classes(b)]
    if users:
        raise invalid(f"Cannot delete image {ns}/{display}: being used by VMBackups {','.join(users)}")


def validate(req: Request) -> None:
    if req.operation == "CREATE":
        _validate_create(req)
    elif req.operation == "UPDATE":
        _validate_update(req)
    elif req.operation == "DELETE":
        _validate_delete(req)


def register(chain: Chain) -> None:
    """Add this area's mutating and validating hooks to the chain."""
    chain.mutate_with(GROUP, KIND, mutate)
    chain.validate_with(GROUP, KIND, validate)
