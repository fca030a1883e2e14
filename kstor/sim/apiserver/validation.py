"""What a real API server rejects, as Status causes (`{reason, message, field}`).

Messages are field.Error bodies from k8s.io/apimachinery/pkg/util/validation/field: `Required value`,
`Invalid value: "X": <why>`, `Unsupported value: "X": supported values: "a", "b"`, `Forbidden: <why>`...
The checks follow pkg/apis/core/validation (PV, PVC, Pod, Node, Namespace, Event),
pkg/apis/storage/validation, pkg/apis/apps/validation, pkg/apis/policy/validation and
pkg/apis/coordination/validation, reduced to what kstor's clients and users can get wrong.
Objects arrive defaulted (defaults.apply_defaults runs first, as on a real server).
"""

from __future__ import annotations

import functools
import json
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from kstor.sim.apiserver.tables import parse_quantity
from kstor.sim.apiserver.watch import dumps as _spec_key

Obj = dict[str, Any]
Cause = dict[str, str]

# --- field.Error -----------------------------------------------------------------------------------------


class Path:
    """field.Path: `spec.containers[0].name`, `spec.resources[storage]`."""

    def __init__(self, text: str = "") -> None:
        self.text = text

    def child(self, *names: str) -> Path:
        text = self.text
        for name in names:
            text = f"{text}.{name}" if text else name
        return Path(text)

    def index(self, i: int) -> Path:
        return Path(f"{self.text}[{i}]")

    def key(self, k: str) -> Path:
        return Path(f"{self.text}[{k}]")

    def __str__(self) -> str:
        return self.text


def go_quote(text: str) -> str:
    """strconv.Quote (close enough: JSON escaping of a UTF-8 string)."""
    return json.dumps(text, ensure_ascii=False)


def go_value(value: Any) -> str:
    """How field.Error prints a bad value: %q for strings, %v for numbers, %#v for the rest."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return go_quote(value)
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        return (
            "map[string]string{"
            + ", ".join(f"{go_quote(k)}:{go_quote(v)}" for k, v in sorted(value.items()))
            + "}"
        )
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "[]string{" + ", ".join(go_quote(v) for v in value) + "}"
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _cause(reason: str, path: Path, body: str) -> Cause:
    return {"reason": reason, "message": body, "field": str(path)}


def required(path: Path, detail: str = "") -> Cause:
    return _cause("FieldValueRequired", path, "Required value" + (f": {detail}" if detail else ""))


def invalid(path: Path, value: Any, detail: str) -> Cause:
    body = f"Invalid value: {value if isinstance(value, _Raw) else go_value(value)}"
    return _cause("FieldValueInvalid", path, body + (f": {detail}" if detail else ""))


def not_supported(path: Path, value: Any, supported: Iterable[str]) -> Cause:
    values = ", ".join(go_quote(v) for v in supported)
    shown = value if isinstance(value, _Raw) else go_value(value)
    return _cause("FieldValueNotSupported", path, f"Unsupported value: {shown}: supported values: {values}")


def forbidden(path: Path, detail: str) -> Cause:
    return _cause("FieldValueForbidden", path, "Forbidden" + (f": {detail}" if detail else ""))


def duplicate(path: Path, value: Any) -> Cause:
    return _cause("FieldValueDuplicate", path, f"Duplicate value: {go_value(value)}")


def not_found(path: Path, value: Any) -> Cause:
    return _cause("FieldValueNotFound", path, f"Not found: {go_value(value)}")


def too_long(path: Path, max_bytes: int) -> Cause:
    return _cause("FieldValueTooLong", path, f"Too long: must have at most {max_bytes} bytes")


class _Raw(str):
    """A bad value already rendered the Go way (e.g. `core.ResourceList(nil)`)."""


# --- name and label rules (k8s.io/apimachinery/pkg/util/validation) --------------------------------------
_DNS1123_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN = _DNS1123_LABEL + r"(\." + _DNS1123_LABEL + ")*"
_QUALIFIED_NAME = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_VALUE = "(" + _QUALIFIED_NAME + ")?"

_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    f"'{_DNS1123_SUBDOMAIN}')"
)
_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and "
    f"end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    f"'{_DNS1123_LABEL}')"
)
_QUALIFIED_NAME_MSG = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    f"alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    f"'{_QUALIFIED_NAME}')"
)
_LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used "
    f"for validation is '{_LABEL_VALUE}')"
)


_COMPILED: dict[str, re.Pattern[str]] = {}


def _full(pattern: str, text: str) -> bool:
    compiled = _COMPILED.get(pattern)
    if compiled is None:
        compiled = _COMPILED[pattern] = re.compile(pattern)
    return compiled.fullmatch(text) is not None


@functools.lru_cache(maxsize=4096)
def dns1123_subdomain(text: str) -> tuple[str, ...]:
    errors = []
    if len(text) > 253:
        errors.append("must be no more than 253 characters")
    if not _full(_DNS1123_SUBDOMAIN, text):
        errors.append(_SUBDOMAIN_MSG)
    return tuple(errors)


@functools.lru_cache(maxsize=4096)
def dns1123_label(text: str) -> tuple[str, ...]:
    errors = []
    if len(text) > 63:
        errors.append("must be no more than 63 characters")
    if not _full(_DNS1123_LABEL, text):
        errors.append(_LABEL_MSG)
    return tuple(errors)


@functools.lru_cache(maxsize=4096)
def qualified_name(text: str) -> tuple[str, ...]:
    parts = text.split("/")
    if len(parts) > 2:
        return (
            "a qualified name must consist of alphanumeric characters, '-', '_' or '.', "
            "and must start and end "
            "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
            f"validation is '{_QUALIFIED_NAME}') with an optional DNS subdomain prefix and '/' (e.g. "
            "'example.com/MyName')",
        )
    errors = []
    name = parts[-1]
    if len(parts) == 2:
        if not parts[0]:
            errors.append("prefix part must be non-empty")
        else:
            errors.extend("prefix part " + msg for msg in dns1123_subdomain(parts[0]))
    if not name:
        errors.append("name part must be non-empty")
    elif len(name) > 63:
        errors.append("name part must be no more than 63 characters")
    if name and not _full(_QUALIFIED_NAME, name):
        errors.append(_QUALIFIED_NAME_MSG)
    return tuple(errors)


@functools.lru_cache(maxsize=4096)
def label_value(text: str) -> tuple[str, ...]:
    errors = []
    if len(text) > 63:
        errors.append("must be no more than 63 characters")
    if not _full(_LABEL_VALUE, text):
        errors.append(_LABEL_VALUE_MSG)
    return tuple(errors)


def _mask_trailing_dash(name: str) -> str:
    # generateName may end in '-': the random suffix is appended after it.
    return name[:-1] + "a" if len(name) > 1 and name.endswith("-") else name


NameRule = Callable[[str], Sequence[str]]


# --- metadata (ValidateObjectMeta / ValidateObjectMetaUpdate) --------------------------------------------
_STANDARD_FINALIZERS = {"kubernetes", "orphan", "foregroundDeletion"}
_META = Path("metadata")


def _labels(labels: Any, path: Path) -> list[Cause]:
    causes: list[Cause] = []
    if not isinstance(labels, dict):
        return causes
    for key, value in labels.items():
        causes += [invalid(path, key, msg) for msg in qualified_name(str(key))]
        causes += [invalid(path, value, msg) for msg in label_value(str(value if value is not None else ""))]
    return causes


def _annotations(annotations: Any, path: Path) -> list[Cause]:
    causes: list[Cause] = []
    if not isinstance(annotations, dict):
        return causes
    size = 0
    for key, value in annotations.items():
        causes += [invalid(path, key, msg) for msg in qualified_name(str(key).lower())]
        size += len(str(key)) + len(str(value or ""))
    if size > 256 * 1024:
        causes.append(too_long(path, 256 * 1024))
    return causes


def _finalizers(finalizers: Any, path: Path) -> list[Cause]:
    causes: list[Cause] = []
    for name in finalizers if isinstance(finalizers, list) else []:
        text = str(name)
        messages = qualified_name(text)
        causes += [invalid(path, text, msg) for msg in messages]
        if not messages and "/" not in text and text not in _STANDARD_FINALIZERS:
            causes.append(
                invalid(path, text, "name is neither a standard finalizer name nor is it fully qualified")
            )
    return causes


def _owner_references(refs: Any, path: Path) -> list[Cause]:
    causes: list[Cause] = []
    for ref in refs if isinstance(refs, list) else []:
        ref = ref if isinstance(ref, dict) else {}
        version = str(ref.get("apiVersion", "")).rsplit("/", 1)[-1]
        if not version:
            causes.append(
                invalid(path.child("apiVersion"), ref.get("apiVersion", ""), "version must not be empty")
            )
        if not ref.get("kind"):
            causes.append(invalid(path.child("kind"), ref.get("kind", ""), "kind must not be empty"))
        if not ref.get("name"):
            causes.append(invalid(path.child("name"), ref.get("name", ""), "name must not be empty"))
        if not ref.get("uid"):
            causes.append(invalid(path.child("uid"), ref.get("uid", ""), "uid must not be empty"))
    return causes


def validate_meta(obj: Obj, rule: NameRule) -> list[Cause]:
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    causes: list[Cause] = []
    generate = meta.get("generateName")
    if isinstance(generate, str) and generate:
        causes += [
            invalid(_META.child("generateName"), generate, m) for m in rule(_mask_trailing_dash(generate))
        ]
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        causes.append(required(_META.child("name"), "name or generateName is required"))
    else:
        causes += [invalid(_META.child("name"), name, msg) for msg in rule(name)]
    namespace = meta.get("namespace")
    if isinstance(namespace, str) and namespace:
        causes += [invalid(_META.child("namespace"), namespace, msg) for msg in dns1123_label(namespace)]
    causes += _labels(meta.get("labels"), _META.child("labels"))
    causes += _annotations(meta.get("annotations"), _META.child("annotations"))
    causes += _owner_references(meta.get("ownerReferences"), _META.child("ownerReferences"))
    causes += _finalizers(meta.get("finalizers"), _META.child("finalizers"))
    return causes


def validate_meta_update(old: Obj, new: Obj) -> list[Cause]:
    old_meta, new_meta = old.get("metadata") or {}, new.get("metadata") or {}
    causes: list[Cause] = []
    for key in ("name", "namespace", "uid", "creationTimestamp"):
        if old_meta.get(key) and new_meta.get(key) and old_meta.get(key) != new_meta.get(key):
            causes.append(invalid(_META.child(key), new_meta.get(key), "field is immutable"))
    if old_meta.get("deletionTimestamp"):
        added = [f for f in new_meta.get("finalizers") or [] if f not in (old_meta.get("finalizers") or [])]
        if added:
            causes.append(
                forbidden(
                    _META.child("finalizers"),
                    "no new finalizers can be added if the object is being deleted, found new finalizers "
                    + go_value(added),
                )
            )
    return causes


# --- small shared rules ----------------------------------------------------------------------------------
def _part(obj: Any, key: str) -> Obj:
    value = obj.get(key) if isinstance(obj, dict) else None
    return value if isinstance(value, dict) else {}


def _list(obj: Any, key: str) -> list[Any]:
    value = obj.get(key) if isinstance(obj, dict) else None
    return value if isinstance(value, list) else []


def _enum(value: Any, path: Path, supported: list[str]) -> list[Cause]:
    if value is None or value in supported:
        return []
    return [not_supported(path, value, sorted(supported))]


def _class_name(value: Any, path: Path) -> list[Cause]:
    if not isinstance(value, str) or not value:
        return []
    return [invalid(path, value, msg) for msg in dns1123_subdomain(value)]


def _positive_quantity(value: Any, path: Path) -> list[Cause]:
    quantity = parse_quantity(value)
    if quantity is None:
        return [
            invalid(
                path,
                str(value),
                "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
            )
        ]
    causes = []
    if quantity.value < 0:
        causes.append(invalid(path, int(quantity.value), "must be a valid resource quantity"))
    if quantity.value <= 0:
        causes.append(invalid(path, str(value), "must be greater than zero"))
    return causes


def _non_negative(value: Any, path: Path) -> list[Cause]:
    if isinstance(value, int) and not isinstance(value, bool) and value < 0:
        return [invalid(path, value, "must be greater than or equal to 0")]
    return []


def _absolute(path_text: Any, path: Path) -> list[Cause]:
    if isinstance(path_text, str) and path_text and not path_text.startswith("/"):
        return [invalid(path, path_text, "must be an absolute path")]
    return []


_ACCESS_MODES = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"]
_VOLUME_MODES = ["Block", "Filesystem"]


def _access_modes(modes: list[Any], path: Path, *, required_detail: str) -> list[Cause]:
    causes: list[Cause] = []
    if not modes:
        causes.append(required(path, required_detail))
    rwop = other = False
    for mode in modes:
        if mode not in _ACCESS_MODES:
            causes.append(not_supported(path, mode, _ACCESS_MODES))
        elif mode == "ReadWriteOncePod":
            rwop = True
        else:
            other = True
    if rwop and other:
        causes.append(forbidden(path, "may not use ReadWriteOncePod with other access modes"))
    return causes


def _selector(selector: Any, path: Path) -> list[Cause]:
    """unversioned.ValidateLabelSelector, the parts a manifest gets wrong."""
    if not isinstance(selector, dict):
        return []
    causes = _labels(selector.get("matchLabels"), path.child("matchLabels"))
    for i, expression in enumerate(_list(selector, "matchExpressions")):
        expression = expression if isinstance(expression, dict) else {}
        at = path.child("matchExpressions").index(i)
        operator, values = expression.get("operator"), expression.get("values") or []
        if operator in ("In", "NotIn") and not values:
            causes.append(
                required(at.child("values"), "must be specified when `operator` is 'In' or 'NotIn'")
            )
        elif operator in ("Exists", "DoesNotExist") and values:
            causes.append(
                forbidden(
                    at.child("values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"
                )
            )
        elif operator not in ("In", "NotIn", "Exists", "DoesNotExist"):
            causes.append(invalid(at.child("operator"), operator, "not a valid selector operator"))
        causes += [
            invalid(at.child("key"), expression.get("key", ""), m)
            for m in qualified_name(str(expression.get("key", "")))
        ]
    return causes


def _selector_matches(selector: Obj, labels: Obj) -> bool:
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in _list(selector, "matchExpressions"):
        key, operator = expression.get("key"), expression.get("operator")
        values = expression.get("values") or []
        present = key in labels
        if (
            (operator == "In" and (not present or labels[key] not in values))
            or (operator == "NotIn" and present and labels[key] in values)
            or (operator == "Exists" and not present)
            or (operator == "DoesNotExist" and present)
        ):
            return False
    return True


def _diff(old: Any, new: Any, prefix: str = "") -> list[str]:
    """A compact stand-in for the cmp.Diff the real server appends to immutability errors."""
    if isinstance(old, dict) and isinstance(new, dict):
        lines: list[str] = []
        for key in sorted(set(old) | set(new)):
            lines += _diff(old.get(key), new.get(key), f"{prefix}.{key}" if prefix else key)
        return lines
    if old == new:
        return []
    return [
        f"-  {prefix}: {json.dumps(old, sort_keys=True)}",
        f"+  {prefix}: {json.dumps(new, sort_keys=True)}",
    ]


def _with_diff(message: str, old: Any, new: Any) -> str:
    return message + "\n" + "\n".join(_diff(old, new))


# --- PersistentVolume ------------------------------------------------------------------------------------
# The order in which ValidatePersistentVolumeSpec counts sources: the second one found is the one named.
_PV_SOURCES = [
    "hostPath", "gcePersistentDisk", "awsElasticBlockStore", "glusterfs", "flocker", "nfs", "rbd", "quobyte",
    "cephfs", "iscsi", "cinder", "fc", "flexVolume", "azureFile", "vsphereVolume", "photonPersistentDisk",
    "portworxVolume", "azureDisk", "scaleIO", "local", "storageos", "csi",
]  # fmt: skip
_HOST_PATH_TYPES = [
    "",
    "BlockDevice",
    "CharDevice",
    "Directory",
    "DirectoryOrCreate",
    "File",
    "FileOrCreate",
    "Socket",
]
_SPEC = Path("spec")


def _source_fields(name: str, source: Obj, path: Path) -> list[Cause]:
    causes: list[Cause] = []
    if name == "hostPath":
        if not source.get("path"):
            causes.append(required(path.child("path")))
        causes += _enum(source.get("type"), path.child("type"), _HOST_PATH_TYPES)
    elif name == "nfs":
        if not source.get("server"):
            causes.append(required(path.child("server")))
        if not source.get("path"):
            causes.append(required(path.child("path")))
        causes += _absolute(source.get("path"), path.child("path"))
    elif name == "local":
        if not source.get("path"):
            causes.append(required(path.child("path")))
    elif name == "csi":
        driver = source.get("driver")
        if not driver:
            causes.append(required(path.child("driver")))
        elif len(str(driver)) > 63:
            causes.append(too_long(path.child("driver"), 63))
        else:
            causes += [
                invalid(path.child("driver"), driver, m) for m in dns1123_subdomain(str(driver).lower())
            ]
        if not source.get("volumeHandle"):
            causes.append(required(path.child("volumeHandle")))
    elif name == "persistentVolumeClaim" and not source.get("claimName"):
        causes.append(required(path.child("claimName")))
    return causes


def _node_affinity(affinity: Any, path: Path) -> list[Cause]:
    if not isinstance(affinity, dict):
        return []
    req = affinity.get("required")
    if not isinstance(req, dict):
        return [required(path.child("required"), "must specify required node constraints")]
    if not _list(req, "nodeSelectorTerms"):
        return [
            required(path.child("required", "nodeSelectorTerms"), "must have at least one node selector term")
        ]
    return []


def _resource_list(value: Any) -> _Raw:
    if value is None:
        return _Raw("core.ResourceList(nil)")
    if not value:
        return _Raw("core.ResourceList{}")
    return _Raw(
        "core.ResourceList{" + ", ".join(f"{go_quote(k)}:{go_quote(str(v))}" for k, v in value.items()) + "}"
    )


def _pv_spec(spec: Obj) -> list[Cause]:
    causes = _access_modes(_list(spec, "accessModes"), _SPEC.child("accessModes"), required_detail="")
    capacity = spec.get("capacity") if isinstance(spec.get("capacity"), dict) else None
    if not capacity:
        causes.append(required(_SPEC.child("capacity")))
    if not capacity or "storage" not in capacity or len(capacity) > 1:
        causes.append(not_supported(_SPEC.child("capacity"), _resource_list(capacity), ["storage"]))
    for name, quantity in (capacity or {}).items():
        causes += _positive_quantity(quantity, _SPEC.child("capacity").key(str(name)))
    causes += _enum(
        spec.get("persistentVolumeReclaimPolicy"), _SPEC.child("persistentVolumeReclaimPolicy"),
        ["Delete", "Recycle", "Retain"],
    )  # fmt: skip
    causes += _node_affinity(spec.get("nodeAffinity"), _SPEC.child("nodeAffinity"))
    found = [name for name in _PV_SOURCES if spec.get(name) is not None]
    if not found:
        causes.append(required(_SPEC, "must specify a volume type"))
    for i, name in enumerate(found):
        if i > 0 and name != "flexVolume":
            causes.append(forbidden(_SPEC.child(name), "may not specify more than 1 volume type"))
            continue
        causes += _source_fields(name, _part(spec, name), _SPEC.child(name))
    if "local" in found[:1] and not isinstance(spec.get("nodeAffinity"), dict):
        causes.append(required(_SPEC.child("nodeAffinity"), "Local volume requires node affinity"))
    causes += _class_name(spec.get("storageClassName"), _SPEC.child("storageClassName"))
    causes += _enum(spec.get("volumeMode"), _SPEC.child("volumeMode"), _VOLUME_MODES)
    return causes


def _validate_pv(pv: Obj) -> list[Cause]:
    return validate_meta(pv, dns1123_subdomain) + _pv_spec(_part(pv, "spec"))


def _validate_pv_update(old: Obj, new: Obj) -> list[Cause]:
    causes = validate_meta_update(old, new) + _validate_pv(new)
    old_spec, new_spec = _part(old, "spec"), _part(new, "spec")
    old_source = {k: old_spec.get(k) for k in _PV_SOURCES if old_spec.get(k) is not None}
    new_source = {k: new_spec.get(k) for k in _PV_SOURCES if new_spec.get(k) is not None}
    if isinstance(old_source.get("csi"), dict) and isinstance(new_source.get("csi"), dict):
        # Setting controllerExpandSecretRef for the first time is the one allowed change.
        if "controllerExpandSecretRef" not in old_source["csi"]:
            new_source["csi"] = {
                k: v for k, v in new_source["csi"].items() if k != "controllerExpandSecretRef"
            }
    if old_source != new_source:
        path = Path("spec").child("persistentvolumesource")
        message = _with_diff(
            "spec.persistentvolumesource is immutable after creation", old_source, new_source
        )
        causes.append(forbidden(path, message))
    if old_spec.get("volumeMode") != new_spec.get("volumeMode"):
        causes.append(invalid(Path("volumeMode"), new_spec.get("volumeMode"), "field is immutable"))
    if old_spec.get("nodeAffinity") is not None and old_spec.get("nodeAffinity") != new_spec.get(
        "nodeAffinity"
    ):
        causes.append(
            invalid(
                Path("nodeAffinity"), new_spec.get("nodeAffinity"),
                "field is immutable, except for updating from beta label to GA",
            )
        )  # fmt: skip
    return causes


# --- PersistentVolumeClaim -------------------------------------------------------------------------------
def _pvc_spec(spec: Obj, path: Path) -> list[Cause]:
    causes = _access_modes(
        _list(spec, "accessModes"),
        path.child("accessModes"),
        required_detail="at least 1 access mode is required",
    )
    causes += _selector(spec.get("selector"), path.child("selector"))
    requests = _part(_part(spec, "resources"), "requests")
    storage_path = path.child("resources").key("storage")
    if "storage" not in requests:
        causes.append(required(storage_path))
    else:
        causes += _positive_quantity(requests["storage"], storage_path)
    causes += _class_name(spec.get("storageClassName"), path.child("storageClassName"))
    causes += _enum(spec.get("volumeMode"), path.child("volumeMode"), _VOLUME_MODES)
    for key in ("dataSource", "dataSourceRef"):
        source = spec.get(key)
        if isinstance(source, dict):
            if not source.get("name"):
                causes.append(required(path.child(key, "name")))
            if not source.get("kind"):
                causes.append(required(path.child(key, "kind")))
            elif not source.get("apiGroup") and source.get("kind") != "PersistentVolumeClaim":
                causes.append(
                    invalid(
                        path.child(key), source.get("kind"),
                        "must be 'PersistentVolumeClaim' when referencing the default apiGroup",
                    )
                )  # fmt: skip
    causes += _class_name(spec.get("volumeAttributesClassName"), path.child("volumeAttributesClassName"))
    return causes


def _validate_pvc(pvc: Obj) -> list[Cause]:
    return validate_meta(pvc, dns1123_subdomain) + _pvc_spec(_part(pvc, "spec"), _SPEC)


_BETA_CLASS = "volume.beta.kubernetes.io/storage-class"


def _copy_key(source: Obj, target: Obj, key: str) -> None:
    """Make target[key] what source has (present or absent), so a comparison ignores that key."""
    if key in source:
        target[key] = source[key]
    else:
        target.pop(key, None)


def _pvc_spec_change(old: Obj, new: Obj, old_annotations: Obj, new_annotations: Obj) -> list[Cause]:
    causes: list[Cause] = []
    old_spec, new_spec = (
        json.loads(json.dumps(_part(old, "spec"))),
        json.loads(json.dumps(_part(new, "spec"))),
    )
    if not old_spec.get("volumeName"):
        _copy_key(new_spec, old_spec, "volumeName")  # binding sets volumeName once
    if old_spec.get("storageClassName") is None and new_spec.get("storageClassName") is not None:
        # Upgrade paths: from the beta annotation, or from no class at all, to spec.storageClassName.
        if _BETA_CLASS not in old_annotations or new_spec["storageClassName"] == old_annotations[_BETA_CLASS]:
            old_spec["storageClassName"] = new_spec["storageClassName"]
    elif old_annotations.get(_BETA_CLASS) != new_annotations.get(_BETA_CLASS):
        causes.append(
            invalid(
                _META.child("annotations", _BETA_CLASS),
                new_annotations.get(_BETA_CLASS, ""),
                "field is immutable",
            )
        )
    bound = _part(new, "status").get("phase") == "Bound"
    new_requests = _part(_part(new_spec, "resources"), "requests")
    old_requests = _part(_part(old_spec, "resources"), "requests")
    if bound and "storage" in new_requests:
        _copy_key(old_requests, new_requests, "storage")
    _copy_key(old_spec, new_spec, "volumeAttributesClassName")
    if new_spec != old_spec:
        message = (
            "spec is immutable after creation except resources.requests and volumeAttributesClassName for "
            "bound claims"
        )
        causes.append(forbidden(_SPEC, _with_diff(message, old_spec, new_spec)))
    return causes


def _validate_pvc_update(old: Obj, new: Obj) -> list[Cause]:
    causes = validate_meta_update(old, new) + _validate_pvc(new)
    old_annotations = _part(old, "metadata").get("annotations") or {}
    new_annotations = _part(new, "metadata").get("annotations") or {}
    if _part(new, "spec") == _part(old, "spec"):
        # Status, annotation and finalizer writes: the munged comparison below cannot find a change,
        # only the beta class annotation can still be at fault (as in _pvc_spec_change).
        if old_annotations.get(_BETA_CLASS) != new_annotations.get(_BETA_CLASS):
            causes.append(
                invalid(
                    _META.child("annotations", _BETA_CLASS),
                    new_annotations.get(_BETA_CLASS, ""),
                    "field is immutable",
                )
            )
    else:
        causes += _pvc_spec_change(old, new, old_annotations, new_annotations)
    old_size = parse_quantity(_part(_part(_part(old, "spec"), "resources"), "requests").get("storage"))
    new_size = parse_quantity(_part(_part(_part(new, "spec"), "resources"), "requests").get("storage"))
    status_size = parse_quantity(_part(_part(old, "status"), "capacity").get("storage"))
    if old_size and new_size and new_size.value < old_size.value:
        if status_size is None or new_size.value <= status_size.value:
            causes.append(
                forbidden(
                    _SPEC.child("resources", "requests", "storage"),
                    "field can not be less than status.capacity",
                )
            )
    if _part(old, "spec").get("volumeMode") != _part(new, "spec").get("volumeMode"):
        causes.append(invalid(Path("volumeMode"), _part(new, "spec").get("volumeMode"), "field is immutable"))
    return causes


# --- Pod -------------------------------------------------------------------------------------------------
_POD_SOURCES = [
    "hostPath", "emptyDir", "gitRepo", "gcePersistentDisk", "awsElasticBlockStore", "secret", "nfs", "iscsi",
    "glusterfs", "flocker", "persistentVolumeClaim", "rbd", "quobyte", "flexVolume", "cinder", "cephfs",
    "downwardAPI", "fc", "azureFile", "configMap", "vsphereVolume", "azureDisk", "photonPersistentDisk",
    "projected", "portworxVolume", "scaleIO", "storageos", "csi", "ephemeral", "image",
]  # fmt: skip
_PULL_POLICIES = ["Always", "IfNotPresent", "Never"]


def _volumes(spec: Obj, path: Path) -> tuple[list[Cause], set[str]]:
    causes: list[Cause] = []
    names: set[str] = set()
    for i, volume in enumerate(_list(spec, "volumes")):
        volume = volume if isinstance(volume, dict) else {}
        at = path.child("volumes").index(i)
        name = volume.get("name")
        if not name:
            causes.append(required(at.child("name")))
        else:
            causes += [invalid(at.child("name"), name, msg) for msg in dns1123_label(str(name))]
            if name in names:
                causes.append(duplicate(at.child("name"), name))
            names.add(str(name))
        found = [source for source in _POD_SOURCES if volume.get(source) is not None]
        if not found:
            causes.append(required(at, "must specify a volume type"))
        for n, source in enumerate(found):
            if n > 0:
                causes.append(forbidden(at.child(source), "may not specify more than 1 volume type"))
            else:
                causes += _source_fields(source, _part(volume, source), at.child(source))
    return causes, names


def _container(container: Obj, at: Path, volumes: set[str]) -> list[Cause]:
    causes: list[Cause] = []
    name = container.get("name")
    if not name:
        causes.append(required(at.child("name")))
    else:
        causes += [invalid(at.child("name"), name, msg) for msg in dns1123_label(str(name))]
    if not container.get("image"):
        causes.append(required(at.child("image")))
    causes += _enum(container.get("imagePullPolicy"), at.child("imagePullPolicy"), _PULL_POLICIES)
    causes += _enum(
        container.get("terminationMessagePolicy"),
        at.child("terminationMessagePolicy"),
        ["FallbackToLogsOnError", "File"],
    )
    for p, port in enumerate(_list(container, "ports")):
        port = port if isinstance(port, dict) else {}
        number = port.get("containerPort")
        if not number:
            causes.append(required(at.child("ports").index(p).child("containerPort")))
        elif not isinstance(number, int) or not 1 <= number <= 65535:
            causes.append(
                invalid(
                    at.child("ports").index(p).child("containerPort"),
                    number,
                    "must be between 1 and 65535, inclusive",
                )
            )
        causes += _enum(
            port.get("protocol"), at.child("ports").index(p).child("protocol"), ["SCTP", "TCP", "UDP"]
        )
    for m, mount in enumerate(_list(container, "volumeMounts")):
        mount = mount if isinstance(mount, dict) else {}
        mount_path = at.child("volumeMounts").index(m)
        if not mount.get("name"):
            causes.append(required(mount_path.child("name")))
        elif mount["name"] not in volumes:
            causes.append(not_found(mount_path.child("name"), mount["name"]))
        if not mount.get("mountPath"):
            causes.append(required(mount_path.child("mountPath")))
    return causes


def _tolerations(spec: Obj, path: Path) -> list[Cause]:
    causes: list[Cause] = []
    for i, toleration in enumerate(_list(spec, "tolerations")):
        toleration = toleration if isinstance(toleration, dict) else {}
        at = path.child("tolerations").index(i)
        operator = toleration.get("operator") or "Equal"
        if toleration.get("key"):
            causes += [
                invalid(at.child("key"), toleration["key"], m) for m in qualified_name(str(toleration["key"]))
            ]
        elif operator != "Exists":
            causes.append(
                invalid(
                    at.child("operator"),
                    operator,
                    "operator must be Exists when `key` is empty, "
                    'which means "match all values and all keys"',
                )
            )
        if operator == "Exists" and toleration.get("value"):
            causes.append(
                invalid(
                    at.child("operator"),
                    toleration.get("value"),
                    "value must be empty when `operator` is 'Exists'",
                )
            )
        elif operator not in ("Equal", "Exists"):
            causes.append(not_supported(at.child("operator"), operator, ["Equal", "Exists"]))
        effect = toleration.get("effect")
        if toleration.get("tolerationSeconds") is not None and effect != "NoExecute":
            causes.append(
                invalid(
                    at.child("effect"),
                    effect or "",
                    "effect must be 'NoExecute' when `tolerationSeconds` is set",
                )
            )
        if effect:
            causes += _enum(effect, at.child("effect"), ["NoExecute", "NoSchedule", "PreferNoSchedule"])
    return causes


def _pod_spec(spec: Obj, path: Path, *, template: bool = False) -> list[Cause]:
    causes, volumes = _volumes(spec, path)
    containers = _list(spec, "containers")
    if not containers:
        causes.append(required(path.child("containers")))
    seen: set[str] = set()
    for key in ("initContainers", "containers"):
        for i, container in enumerate(_list(spec, key)):
            container = container if isinstance(container, dict) else {}
            at = path.child(key).index(i)
            causes += _container(container, at, volumes)
            name = container.get("name")
            if name and name in seen:
                causes.append(duplicate(at.child("name"), name))
            if name:
                seen.add(str(name))
    causes += _enum(spec.get("restartPolicy"), path.child("restartPolicy"), ["Always", "Never", "OnFailure"])
    causes += _enum(
        spec.get("dnsPolicy"),
        path.child("dnsPolicy"),
        ["ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"],
    )
    if spec.get("nodeName"):
        causes += [
            invalid(path.child("nodeName"), spec["nodeName"], m)
            for m in dns1123_subdomain(str(spec["nodeName"]))
        ]
    causes += _tolerations(spec, path)
    if isinstance(spec.get("activeDeadlineSeconds"), int) and spec["activeDeadlineSeconds"] <= 0:
        causes.append(
            invalid(
                path.child("activeDeadlineSeconds"),
                spec["activeDeadlineSeconds"],
                "must be between 1 and 2147483647, inclusive",
            )
        )
    return causes


# _pod_spec is a pure function of the spec: a pod's spec rarely changes after it is bound (annotation,
# finalizer and deletion writes re-validate it unchanged), so results are kept by the spec's exact
# JSON text (exact, so `true` and `1` are not confused as == would).
_POD_SPEC_CACHE: OrderedDict[bytes, list[Cause]] = OrderedDict()
_POD_SPEC_CACHE_SIZE = 4096


def _pod_spec_cached(spec: Obj) -> list[Cause]:
    try:
        key = _spec_key(spec)
    except (TypeError, ValueError):  # not plain JSON: validate without the cache
        return _pod_spec(spec, _SPEC)
    found = _POD_SPEC_CACHE.get(key)
    if found is None:
        found = _pod_spec(spec, _SPEC)
        _POD_SPEC_CACHE[key] = found
        if len(_POD_SPEC_CACHE) > _POD_SPEC_CACHE_SIZE:
            _POD_SPEC_CACHE.popitem(last=False)
    else:
        _POD_SPEC_CACHE.move_to_end(key)
    return [dict(cause) for cause in found]


def _validate_pod(pod: Obj) -> list[Cause]:
    return validate_meta(pod, dns1123_subdomain) + _pod_spec_cached(_part(pod, "spec"))


_POD_UPDATABLE = ",".join(
    [
        "`spec.containers[*].image`",
        "`spec.initContainers[*].image`",
        "`spec.activeDeadlineSeconds`",
        "`spec.tolerations` (only additions to existing tolerations)",
        "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
    ]
)


def _validate_pod_update(old: Obj, new: Obj) -> list[Cause]:
    causes = validate_meta_update(old, new) + _validate_pod(new)
    old_spec, new_spec = _part(old, "spec"), _part(new, "spec")
    if new_spec == old_spec:
        # Most pod updates (annotations, finalizers, deletion) leave the spec alone; the munged copy
        # below would then equal old_spec too, so the immutability check has nothing to report.
        return causes
    munged = json.loads(json.dumps(new_spec))
    for key in ("containers", "initContainers"):
        old_containers = _list(old_spec, key)
        for i, container in enumerate(_list(munged, key)):
            if (
                isinstance(container, dict)
                and i < len(old_containers)
                and isinstance(old_containers[i], dict)
            ):
                container["image"] = old_containers[i].get("image")
    munged["activeDeadlineSeconds"] = old_spec.get("activeDeadlineSeconds")
    if munged.get("activeDeadlineSeconds") is None:
        munged.pop("activeDeadlineSeconds", None)
    old_tolerations = _list(old_spec, "tolerations")
    if all(t in _list(new_spec, "tolerations") for t in old_tolerations):
        munged["tolerations"] = old_spec.get("tolerations")
        if munged.get("tolerations") is None:
            munged.pop("tolerations", None)
    old_grace = old_spec.get("terminationGracePeriodSeconds")
    if isinstance(old_grace, int) and old_grace < 0 and new_spec.get("terminationGracePeriodSeconds") == 1:
        munged["terminationGracePeriodSeconds"] = old_grace
    if munged != old_spec:
        message = f"pod updates may not change fields other than {_POD_UPDATABLE}"
        causes.append(forbidden(_SPEC, _with_diff(message, old_spec, munged)))
    return causes


# --- Node, Namespace, Event ------------------------------------------------------------------------------
def _validate_node(node: Obj) -> list[Cause]:
    causes = validate_meta(node, dns1123_subdomain)
    for i, taint in enumerate(_list(_part(node, "spec"), "taints")):
        taint = taint if isinstance(taint, dict) else {}
        at = _SPEC.child("taints").index(i)
        causes += [
            invalid(at.child("key"), taint.get("key", ""), m)
            for m in qualified_name(str(taint.get("key", "")))
        ]
        if taint.get("value"):
            causes += [
                invalid(at.child("value"), taint["value"], m) for m in label_value(str(taint["value"]))
            ]
        if not taint.get("effect"):
            causes.append(required(at.child("effect")))
        else:
            causes += _enum(
                taint["effect"], at.child("effect"), ["NoExecute", "NoSchedule", "PreferNoSchedule"]
            )
    return causes


def _validate_node_update(old: Obj, new: Obj) -> list[Cause]:
    causes = validate_meta_update(old, new) + _validate_node(new)
    for key in ("podCIDR", "providerID"):
        before, after = _part(old, "spec").get(key), _part(new, "spec").get(key)
        if before and before != after:
            causes.append(
                forbidden(
                    _SPEC.child(key),
                    f"{key} is immutable once set"
                    if key == "providerID"
                    else 'node updates may not change podCIDR except from "" to valid',
                )
            )
    return causes


def _validate_namespace(namespace: Obj) -> list[Cause]:
    return validate_meta(namespace, dns1123_label)


def _validate_event(event: Obj) -> list[Cause]:
    causes = validate_meta(event, dns1123_subdomain)
    namespace = _part(event, "metadata").get("namespace") or ""
    involved = _part(event, "involvedObject").get("namespace") or ""
    if (not involved and namespace not in ("", "default")) or (involved and involved != namespace):
        causes.append(
            invalid(
                Path(
                    "involvedObject",
                ).child("namespace"),
                involved,
                "does not match event.namespace",
            )
        )
    return causes


# --- apps/v1 ---------------------------------------------------------------------------------------------
def _template(spec: Obj, kind: str) -> list[Cause]:
    causes: list[Cause] = []
    selector = spec.get("selector")
    template = _part(spec, "template")
    labels = _part(template, "metadata").get("labels") or {}
    if not isinstance(selector, dict):
        causes.append(required(_SPEC.child("selector")))
    else:
        causes += _selector(selector, _SPEC.child("selector"))
        if not selector.get("matchLabels") and not selector.get("matchExpressions"):
            causes.append(
                invalid(
                    _SPEC.child("selector"),
                    _Raw(_selector_text(selector)),
                    f"empty selector is invalid for {kind}",
                )
            )
        elif not _selector_matches(selector, labels):
            causes.append(
                invalid(
                    _SPEC.child("template", "metadata", "labels"),
                    labels,
                    "`selector` does not match template `labels`",
                )
            )
    causes += _labels(labels, _SPEC.child("template", "metadata", "labels"))
    template_spec = _part(template, "spec")
    causes += _pod_spec(template_spec, _SPEC.child("template", "spec"), template=True)
    if template_spec.get("restartPolicy") not in (None, "Always"):
        causes.append(
            not_supported(
                _SPEC.child("template", "spec", "restartPolicy"), template_spec["restartPolicy"], ["Always"]
            )
        )
    if template_spec.get("activeDeadlineSeconds") is not None:
        causes.append(
            forbidden(
                _SPEC.child("template", "spec", "activeDeadlineSeconds"),
                "activeDeadlineSeconds in ReplicaSet is not Supported",
            )
        )
    causes += _non_negative(spec.get("replicas"), _SPEC.child("replicas"))
    causes += _non_negative(spec.get("minReadySeconds"), _SPEC.child("minReadySeconds"))
    causes += _non_negative(spec.get("revisionHistoryLimit"), _SPEC.child("revisionHistoryLimit"))
    return causes


def _selector_text(selector: Obj) -> str:
    """The generated String() of *metav1.LabelSelector, which field.Error prints for selectors."""
    labels = "".join(f"{k}: {v}," for k, v in sorted((selector.get("matchLabels") or {}).items()))
    expressions = "".join(
        f"&LabelSelectorRequirement{{Key:{e.get('key', '')},Operator:{e.get('operator', '')},"
        f"Values:[]string{{{','.join(e.get('values') or [])}}},}},"
        for e in _list(selector, "matchExpressions")
        if isinstance(e, dict)
    )
    return (
        f"&LabelSelector{{MatchLabels:map[string]string{{{labels}}},"
        f"MatchExpressions:[]LabelSelectorRequirement{{{expressions}}},}}"
    )


def _validate_deployment(deployment: Obj) -> list[Cause]:
    spec = _part(deployment, "spec")
    causes = validate_meta(deployment, dns1123_subdomain) + _template(spec, "deployment")
    strategy = _part(spec, "strategy")
    causes += _enum(strategy.get("type"), _SPEC.child("strategy", "type"), ["Recreate", "RollingUpdate"])
    if strategy.get("type") == "Recreate" and strategy.get("rollingUpdate") is not None:
        causes.append(
            forbidden(
                _SPEC.child("strategy", "rollingUpdate"),
                "may not be specified when strategy `type` is 'Recreate'",
            )
        )
    rolling = _part(strategy, "rollingUpdate")
    if rolling.get("maxSurge") in (0, "0%") and rolling.get("maxUnavailable") in (0, "0%"):
        causes.append(
            invalid(
                _SPEC.child("strategy", "rollingUpdate", "maxUnavailable"),
                rolling["maxUnavailable"],
                "may not be 0 when `maxSurge` is 0",
            )
        )
    return causes


def _selector_immutable(old: Obj, new: Obj) -> list[Cause]:
    before, after = _part(old, "spec").get("selector"), _part(new, "spec").get("selector")
    if before != after:
        return [
            invalid(
                _SPEC.child("selector"),
                _Raw(_selector_text(after if isinstance(after, dict) else {})),
                "field is immutable",
            )
        ]
    return []


def _validate_replicaset(replicaset: Obj) -> list[Cause]:
    return validate_meta(replicaset, dns1123_subdomain) + _template(_part(replicaset, "spec"), "replicaset")


_STATEFULSET_MUTABLE = (
    "replicas",
    "ordinals",
    "template",
    "updateStrategy",
    "persistentVolumeClaimRetentionPolicy",
    "minReadySeconds",
)


def _validate_statefulset(statefulset: Obj) -> list[Cause]:
    spec = _part(statefulset, "spec")
    causes = validate_meta(statefulset, dns1123_subdomain) + _template(spec, "statefulset")
    causes += _enum(
        spec.get("podManagementPolicy"), _SPEC.child("podManagementPolicy"), ["OrderedReady", "Parallel"]
    )
    causes += _enum(
        _part(spec, "updateStrategy").get("type"),
        _SPEC.child("updateStrategy", "type"),
        ["OnDelete", "RollingUpdate"],
    )
    retention = _part(spec, "persistentVolumeClaimRetentionPolicy")
    for key in ("whenDeleted", "whenScaled"):
        causes += _enum(
            retention.get(key), _SPEC.child("persistentVolumeClaimRetentionPolicy", key), ["Delete", "Retain"]
        )
    for i, claim in enumerate(_list(spec, "volumeClaimTemplates")):
        claim = claim if isinstance(claim, dict) else {}
        at = _SPEC.child("volumeClaimTemplates").index(i)
        causes += [
            invalid(at.child("metadata", "name"), _part(claim, "metadata").get("name", ""), m)
            for m in dns1123_subdomain(str(_part(claim, "metadata").get("name", "")))
        ]
        causes += _pvc_spec(_part(claim, "spec"), at.child("spec"))
    # ValidatePodTemplateSpecForStatefulSet does not check mounts against volumes: a mount may name a
    # volumeClaimTemplate instead.
    templates = [c for c in _list(spec, "volumeClaimTemplates") if isinstance(c, dict)]
    claims = {f'Not found: "{_part(c, "metadata").get("name")}"' for c in templates}
    return [c for c in causes if not (".volumeMounts[" in c["field"] and c["message"] in claims)]


def _validate_statefulset_update(old: Obj, new: Obj) -> list[Cause]:
    causes = validate_meta_update(old, new) + _validate_statefulset(new)
    old_spec = {k: v for k, v in _part(old, "spec").items() if k not in _STATEFULSET_MUTABLE}
    new_spec = {k: v for k, v in _part(new, "spec").items() if k not in _STATEFULSET_MUTABLE}
    if old_spec != new_spec:
        causes.append(
            forbidden(
                _SPEC,
                "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
                "'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' "
                "are forbidden",
            )
        )
    return causes


# --- storage.k8s.io/v1 -----------------------------------------------------------------------------------
def _validate_storageclass(sc: Obj) -> list[Cause]:
    causes = validate_meta(sc, dns1123_subdomain)
    provisioner = sc.get("provisioner")
    if not provisioner:
        causes.append(required(Path("provisioner")))
    else:
        causes += [
            invalid(Path("provisioner"), str(provisioner).lower(), m)
            for m in qualified_name(str(provisioner).lower())
        ]
    parameters = sc.get("parameters") if isinstance(sc.get("parameters"), dict) else {}
    if len(parameters) > 512:
        causes.append(too_long(Path("parameters"), 512))
    for key in parameters:
        if not key:
            causes.append(invalid(Path("parameters"), key, "field can not be empty."))
    causes += _enum(sc.get("reclaimPolicy"), Path("reclaimPolicy"), ["Delete", "Retain"])
    if sc.get("volumeBindingMode") is None:
        causes.append(required(Path("volumeBindingMode")))
    causes += _enum(
        sc.get("volumeBindingMode"), Path("volumeBindingMode"), ["Immediate", "WaitForFirstConsumer"]
    )
    return causes


def _validate_storageclass_update(old: Obj, new: Obj) -> list[Cause]:
    causes = validate_meta_update(old, new) + _validate_storageclass(new)
    if (old.get("parameters") or {}) != (new.get("parameters") or {}):
        causes.append(forbidden(Path("parameters"), "updates to parameters are forbidden."))
    if old.get("provisioner") != new.get("provisioner"):
        causes.append(forbidden(Path("provisioner"), "updates to provisioner are forbidden."))
    if old.get("reclaimPolicy") != new.get("reclaimPolicy"):
        causes.append(forbidden(Path("reclaimPolicy"), "updates to reclaimPolicy are forbidden."))
    if old.get("volumeBindingMode") != new.get("volumeBindingMode"):
        causes.append(invalid(Path("volumeBindingMode"), new.get("volumeBindingMode"), "field is immutable"))
    return causes


def _validate_volumeattachment(va: Obj) -> list[Cause]:
    causes = validate_meta(va, dns1123_subdomain)
    spec = _part(va, "spec")
    if not spec.get("attacher"):
        causes.append(required(_SPEC.child("attacher")))
    source = _part(spec, "source")
    has_pv, has_inline = (
        source.get("persistentVolumeName") is not None,
        source.get("inlineVolumeSpec") is not None,
    )
    detail = "must specify exactly one of inlineVolumeSpec and persistentVolumeName"
    if not has_pv and not has_inline:
        causes.append(required(_SPEC.child("source"), detail))
    elif has_pv and has_inline:
        causes.append(forbidden(_SPEC.child("source"), detail))
    elif has_pv and not source["persistentVolumeName"]:
        causes.append(
            required(
                _SPEC.child("source", "persistentVolumeName"), "must specify non empty persistentVolumeName"
            )
        )
    node = str(spec.get("nodeName") or "")
    causes += [invalid(_SPEC.child("nodeName"), node, m) for m in dns1123_subdomain(node)]
    return causes


def _validate_volumeattachment_update(old: Obj, new: Obj) -> list[Cause]:
    causes = validate_meta_update(old, new) + _validate_volumeattachment(new)
    if _part(old, "spec") != _part(new, "spec"):
        causes.append(
            invalid(
                _SPEC,
                _Raw(_go_struct("storage.VolumeAttachmentSpec", _part(new, "spec"))),
                "field is immutable",
            )
        )
    return causes


def _go_struct(type_name: str, fields: Obj) -> str:
    inner = ", ".join(f"{k[:1].upper()}{k[1:]}:{go_value(v)}" for k, v in fields.items())
    return f"{type_name}{{{inner}}}"


def _validate_csidriver(driver: Obj) -> list[Cause]:
    causes = validate_meta(driver, dns1123_subdomain)
    spec = _part(driver, "spec")
    for key, path in (
        ("attachRequired", "attachedRequired"),
        ("podInfoOnMount", "podInfoOnMount"),
        ("storageCapacity", "storageCapacity"),
        ("requiresRepublish", "requiresRepublish"),
    ):
        if spec.get(key) is None:
            causes.append(required(_SPEC.child(path)))
    causes += _enum(
        spec.get("fsGroupPolicy"), _SPEC.child("fsGroupPolicy"), ["File", "None", "ReadWriteOnceWithFSType"]
    )
    for mode in _list(spec, "volumeLifecycleModes"):
        causes += _enum(mode, _SPEC.child("volumeLifecycleModes"), ["Ephemeral", "Persistent"])
    return causes


def _validate_csidriver_update(old: Obj, new: Obj) -> list[Cause]:
    causes = validate_meta_update(old, new) + _validate_csidriver(new)
    old_spec, new_spec = _part(old, "spec"), _part(new, "spec")
    if old_spec.get("attachRequired") != new_spec.get("attachRequired"):
        causes.append(
            invalid(_SPEC.child("attachedRequired"), new_spec.get("attachRequired"), "field is immutable")
        )
    if old_spec.get("volumeLifecycleModes") != new_spec.get("volumeLifecycleModes"):
        causes.append(
            invalid(
                _SPEC.child("volumeLifecycleModes"),
                new_spec.get("volumeLifecycleModes"),
                "field is immutable",
            )
        )
    return causes


def _validate_csinode(csinode: Obj) -> list[Cause]:
    causes = validate_meta(csinode, dns1123_subdomain)
    names: set[str] = set()
    for i, driver in enumerate(_list(_part(csinode, "spec"), "drivers")):
        driver = driver if isinstance(driver, dict) else {}
        at = _SPEC.child("drivers").index(i)
        name = str(driver.get("name") or "")
        if not name:
            causes.append(required(at.child("name")))
        elif name in names:
            causes.append(duplicate(at.child("name"), name))
        names.add(name)
        if not driver.get("nodeID"):
            causes.append(required(at.child("nodeID")))
    return causes


# --- policy/v1, coordination.k8s.io/v1 -------------------------------------------------------------------
def _int_or_percent(value: Any, path: Path) -> list[Cause]:
    if isinstance(value, int) and not isinstance(value, bool):
        return _non_negative(value, path)
    if isinstance(value, str):
        if not re.fullmatch(r"[0-9]+%", value):
            return [
                invalid(
                    path,
                    value,
                    "a valid percent string must be a numeric string followed by an ending '%' "
                    "(e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
                )
            ]
        if int(value[:-1]) > 100:
            return [invalid(path, value, "must not be greater than 100%")]
    return []


def _validate_pdb(pdb: Obj) -> list[Cause]:
    causes = validate_meta(pdb, dns1123_subdomain)
    spec = _part(pdb, "spec")
    if spec.get("minAvailable") is not None and spec.get("maxUnavailable") is not None:
        causes.append(
            invalid(
                _SPEC,
                _Raw(_go_struct("policy.PodDisruptionBudgetSpec", spec)),
                "minAvailable and maxUnavailable cannot be both set",
            )
        )
    for key in ("minAvailable", "maxUnavailable"):
        if spec.get(key) is not None:
            causes += _int_or_percent(spec[key], _SPEC.child(key))
    causes += _selector(spec.get("selector"), _SPEC.child("selector"))
    causes += _enum(
        spec.get("unhealthyPodEvictionPolicy"),
        _SPEC.child("unhealthyPodEvictionPolicy"),
        ["AlwaysAllow", "IfHealthyBudget"],
    )
    return causes


def _validate_lease(lease: Obj) -> list[Cause]:
    causes = validate_meta(lease, dns1123_subdomain)
    spec = _part(lease, "spec")
    duration = spec.get("leaseDurationSeconds")
    if isinstance(duration, int) and duration <= 0:
        causes.append(invalid(_SPEC.child("leaseDurationSeconds"), duration, "must be greater than 0"))
    causes += _non_negative(spec.get("leaseTransitions"), _SPEC.child("leaseTransitions"))
    return causes


# --- dispatch --------------------------------------------------------------------------------------------
_CREATE: dict[str, Callable[[Obj], list[Cause]]] = {
    "persistentvolumes": _validate_pv,
    "persistentvolumeclaims": _validate_pvc,
    "pods": _validate_pod,
    "nodes": _validate_node,
    "namespaces": _validate_namespace,
    "events": _validate_event,
    "deployments": _validate_deployment,
    "replicasets": _validate_replicaset,
    "statefulsets": _validate_statefulset,
    "storageclasses": _validate_storageclass,
    "volumeattachments": _validate_volumeattachment,
    "csidrivers": _validate_csidriver,
    "csinodes": _validate_csinode,
    "poddisruptionbudgets": _validate_pdb,
    "leases": _validate_lease,
}


def _generic_update(plural: str) -> Callable[[Obj, Obj], list[Cause]]:
    def check(old: Obj, new: Obj) -> list[Cause]:
        return validate_meta_update(old, new) + _CREATE[plural](new)

    return check


def _workload_update(plural: str) -> Callable[[Obj, Obj], list[Cause]]:
    def check(old: Obj, new: Obj) -> list[Cause]:
        return validate_meta_update(old, new) + _CREATE[plural](new) + _selector_immutable(old, new)

    return check


_UPDATE: dict[str, Callable[[Obj, Obj], list[Cause]]] = {
    **{plural: _generic_update(plural) for plural in _CREATE},
    "persistentvolumes": _validate_pv_update,
    "persistentvolumeclaims": _validate_pvc_update,
    "pods": _validate_pod_update,
    "nodes": _validate_node_update,
    "deployments": _workload_update("deployments"),
    "replicasets": _workload_update("replicasets"),
    "statefulsets": lambda old, new: _validate_statefulset_update(old, new) + _selector_immutable(old, new),
    "storageclasses": _validate_storageclass_update,
    "volumeattachments": _validate_volumeattachment_update,
    "csidrivers": _validate_csidriver_update,
}


def _dedupe(causes: list[Cause]) -> list[Cause]:
    # ErrorList.ToAggregate drops repeats of the same "field: message".
    seen: set[tuple[str, str]] = set()
    unique = []
    for cause in causes:
        key = (cause["field"], cause["message"])
        if key not in seen:
            seen.add(key)
            unique.append(cause)
    return unique


def validate_create(plural: str, obj: dict) -> list[dict]:
    """Causes a real server returns for creating `obj` (empty when it accepts it)."""
    check = _CREATE.get(plural)
    if check is None or not isinstance(obj, dict):
        return []
    return _dedupe(check(obj))


def validate_update(plural: str, old: dict, new: dict) -> list[dict]:
    """Causes a real server returns for replacing `old` with `new` (empty when it accepts it)."""
    check = _UPDATE.get(plural)
    if check is None or not isinstance(old, dict) or not isinstance(new, dict):
        return []
    return _dedupe(check(old, new))
