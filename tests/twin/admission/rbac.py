"""The apiserver's own handling of the RBAC kinds (rbac.authorization.k8s.io/v1), run as hooks.

Not a webhook: kube-apiserver defaults and validates these built-in types itself
(k8s.io/kubernetes pkg/apis/rbac/v1 defaults.go, pkg/apis/rbac/validation), and answers 422
Invalid `<Kind>.rbac.authorization.k8s.io "<name>" is invalid: <field>: <message>`:

- defaults: `roleRef.apiGroup` "" -> rbac.authorization.k8s.io; a User or Group subject's
  `apiGroup` "" -> rbac.authorization.k8s.io;
- every rule needs verbs ("verbs must contain at least one value"); a rule with
  nonResourceURLs may not name resources (and not at all in a Role); a resource rule needs
  apiGroups and resources;
- roleRef: apiGroup rbac.authorization.k8s.io, kind Role|ClusterRole (ClusterRole only in a
  ClusterRoleBinding), a name; and it cannot change: "cannot change roleRef";
- subjects: kind ServiceAccount|User|Group with a name; a ServiceAccount subject has no apiGroup
  and, in a ClusterRoleBinding, a namespace.

Authorization itself (who may do what) is not enforced by the twin.
"""
from __future__ import annotations

from .. import errors
from . import Chain, Request

GROUP = "rbac.authorization.k8s.io"
ROLE_KINDS = ("Role", "ClusterRole")
BINDING_KINDS = ("RoleBinding", "ClusterRoleBinding")
SUBJECT_KINDS = ("ServiceAccount", "User", "Group")


def _go_string(value) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _not_supported(field: str, value, supported: tuple[str, ...]) -> tuple[str, str, str]:
    allowed = ", ".join(_go_string(s) for s in supported)
    return ("FieldValueNotSupported", field, f"Unsupported value: {_go_string(value)}: supported values: {allowed}")


def _required(field: str, detail: str = "") -> tuple[str, str, str]:
    return ("FieldValueRequired", field, "Required value" + (f": {detail}" if detail else ""))


def _string_list(values) -> str:
    """A []string as Go's %#v prints it."""
    return "[]string{" + ", ".join(_go_string(v) for v in values) + "}"


# ---------------------------------------------------------------------------------- defaults
def default(req: Request) -> None:
    obj = req.obj
    if obj is None or req.operation not in ("CREATE", "UPDATE") or req.kind not in BINDING_KINDS:
        return
    ref = obj.get("roleRef")
    if not isinstance(ref, dict):
        ref = obj["roleRef"] = {}
    if not ref.get("apiGroup"):
        ref["apiGroup"] = GROUP
    for subject in obj.get("subjects") or []:
        if isinstance(subject, dict) and subject.get("kind") in ("User", "Group") and not subject.get("apiGroup"):
            subject["apiGroup"] = GROUP


# ---------------------------------------------------------------------------------- checks
def _rule_errors(rule: dict, path: str, namespaced: bool) -> list[tuple[str, str, str]]:
    out = []
    if not rule.get("verbs"):
        out.append(_required(f"{path}.verbs", "verbs must contain at least one value"))
    urls = rule.get("nonResourceURLs") or []
    if urls:
        shown = f"Invalid value: {_string_list(urls)}: "
        if namespaced:
            out.append(("FieldValueInvalid", f"{path}.nonResourceURLs", shown + "namespaced rules cannot apply to non-resource URLs"))
        if rule.get("apiGroups") or rule.get("resources") or rule.get("resourceNames"):
            out.append(("FieldValueInvalid", f"{path}.nonResourceURLs",
                        shown + "rules cannot apply to both regular resources and non-resource URLs"))
        return out
    if not rule.get("apiGroups"):
        out.append(_required(f"{path}.apiGroups", "resource rules must supply at least one api group"))
    if not rule.get("resources"):
        out.append(_required(f"{path}.resources", "resource rules must supply at least one resource"))
    return out


def _subject_errors(subject: dict, path: str, namespaced: bool) -> list[tuple[str, str, str]]:
    out = []
    if not subject.get("name"):
        out.append(_required(f"{path}.name"))
    kind, group = subject.get("kind", ""), subject.get("apiGroup", "")
    if kind == "ServiceAccount":
        if group:
            out.append(_not_supported(f"{path}.apiGroup", group, ("",)))
        if not namespaced and not subject.get("namespace"):
            out.append(_required(f"{path}.namespace"))
    elif kind in ("User", "Group"):
        if group != GROUP:
            out.append(_not_supported(f"{path}.apiGroup", group, (GROUP,)))
    else:
        out.append(_not_supported(f"{path}.kind", kind, SUBJECT_KINDS))
    return out


def _role_ref(obj: dict) -> dict:
    ref = obj.get("roleRef")
    return ref if isinstance(ref, dict) else {}


def _ref_text(ref: dict) -> str:
    """The internal rbac.RoleRef as %#v prints it in "cannot change roleRef"."""
    return (f"rbac.RoleRef{{APIGroup:{_go_string(ref.get('apiGroup', ''))}, Kind:{_go_string(ref.get('kind', ''))}, "
            f"Name:{_go_string(ref.get('name', ''))}}}")


def _binding_errors(req: Request) -> list[tuple[str, str, str]]:
    obj, namespaced = req.obj, req.kind == "RoleBinding"
    ref = _role_ref(obj)
    out = []
    if ref.get("apiGroup") != GROUP:
        out.append(_not_supported("roleRef.apiGroup", ref.get("apiGroup", ""), (GROUP,)))
    kinds = ROLE_KINDS if namespaced else ("ClusterRole",)
    if ref.get("kind") not in kinds:
        out.append(_not_supported("roleRef.kind", ref.get("kind", ""), kinds))
    if not ref.get("name"):
        out.append(_required("roleRef.name"))
    for i, subject in enumerate(obj.get("subjects") or []):
        out += _subject_errors(subject if isinstance(subject, dict) else {}, f"subjects[{i}]", namespaced)
    if req.operation == "UPDATE" and req.old is not None:
        old = _role_ref(req.old)
        if any(ref.get(k, "") != old.get(k, "") for k in ("apiGroup", "kind", "name")):
            out.append(("FieldValueInvalid", "roleRef", f"Invalid value: {_ref_text(ref)}: cannot change roleRef"))
    return out


def validate(req: Request) -> None:
    if req.obj is None or req.operation not in ("CREATE", "UPDATE"):
        return
    if req.kind in ROLE_KINDS:
        causes = []
        for i, rule in enumerate(req.obj.get("rules") or []):
            causes += _rule_errors(rule if isinstance(rule, dict) else {}, f"rules[{i}]", req.kind == "Role")
    else:
        causes = _binding_errors(req)
    if causes:
        raise errors.invalid(req.kind, GROUP, req.name, causes)


def register(chain: Chain) -> None:
    for kind in (*ROLE_KINDS, *BINDING_KINDS):
        chain.mutate_with(GROUP, kind, default)
        chain.validate_with(GROUP, kind, validate)
