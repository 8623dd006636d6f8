"""Server-side apply, merge patches and ``managedFields`` bookkeeping.

Called by :mod:`storeplane.sim.store.cluster` for PATCH (apply, merge, strategic merge) and to
record which manager touched which fields on create and update. Pure functions on plain
dicts; no I/O.

The model (a documented approximation of structured-merge-diff):

- A *field path* is a tuple like ``("f:spec", "f:replicas")``. Maps are walked key by key.
  A list whose items are all maps with a unique string ``name`` (containers, env, volumes,
  ports with names...) is *keyed by name*: each item is ``k:{"name":"web"}`` and is merged
  item by item. Every other list (volumeMounts sharing a volume name too), and every
  scalar, is atomic: a leaf replaced wholesale.
- Each manager's set is stored in ``metadata.managedFields`` as FieldsV1 (``f:``/``k:`` keys,
  ``"."`` marking an owned list item), so ownership survives a restart with the object.
- Apply by manager M: fields in the applied configuration are merged into the live object
  (maps recursively, name-keyed lists by name, the rest replaced). Fields M applied last
  time but not this time are removed, unless another manager also owns them. Setting a
  field another manager owns to a different value is a conflict (409) unless
  ``force=true``, which moves ownership to M. Null values in an applied configuration are
  dropped. ``status`` is ignored on the main resource and is all that counts on ``/status``.
- Update (create, PUT, merge patch) by manager U: the fields whose value changed become
  U's (operation ``Update``) and are taken from the other managers, which never conflicts.
- Strategic merge patch lives in :mod:`storeplane.sim.store.strategic` (per-type merge keys
  and directives); ``merge_patch(by_name=True)`` is the schema-less approximation.
"""

from __future__ import annotations

import json
from typing import Any

from .objects import json_copy

Path = tuple[str, ...]
Obj = dict[str, Any]

TRACKED_METADATA = ("labels", "annotations", "finalizers", "ownerReferences")
_MISSING = object()


class ApplyConflict(Exception):
    """Apply would change fields owned by other managers: (manager, apiVersion,
    ".dotted.path") triples."""

    def __init__(self, conflicts: list[tuple[str, str, str]]) -> None:
        super().__init__(str(conflicts))
        self.conflicts = conflicts


# --- field paths -------------------------------------------------------------------------


def is_keyed_list(value: Any) -> bool:
    """A list merged item by item by ``name``: every item a map with a string name, and
    the names unique. Repeated names (two volumeMounts of one volume at different paths,
    keyed by mountPath in Kubernetes) make the list atomic instead, so no item is lost."""
    if not isinstance(value, list) or not value:
        return False
    names = [i.get("name") if isinstance(i, dict) else None for i in value]
    return all(isinstance(n, str) for n in names) and len(set(names)) == len(names)


def _item_key(name: str) -> str:
    return "k:" + json.dumps({"name": name}, separators=(",", ":"))


def _item_name(element: str) -> str:
    return str(json.loads(element[2:])["name"])


def managed_view(obj: Obj, status: bool) -> Obj:
    """The part of an object that field ownership is about (main resource or status)."""
    if status:
        return {"status": obj["status"]} if isinstance(obj.get("status"), dict) else {}
    view = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata", "status")}
    metadata = obj.get("metadata") or {}
    tracked = {k: v for k, v in metadata.items() if k in TRACKED_METADATA}
    if tracked:
        view["metadata"] = tracked
    return view


def field_paths(value: Any, prefix: Path = ()) -> set[Path]:
    """Every leaf path of ``value`` (and every name-keyed list item)."""
    paths: set[Path] = set()
    if isinstance(value, dict):
        if not value and prefix:
            paths.add(prefix)
        for key, child in value.items():
            paths |= field_paths(child, (*prefix, f"f:{key}"))
    elif is_keyed_list(value):
        for item in value:
            item_path = (*prefix, _item_key(item["name"]))
            paths.add(item_path)
            paths |= field_paths(item, item_path)
    elif prefix:
        paths.add(prefix)
    return paths


def get_at(value: Any, path: Path) -> Any:
    """The value at ``path``, or the module's ``_MISSING`` sentinel."""
    for element in path:
        if element.startswith("f:") and isinstance(value, dict):
            key = element[2:]
            if key not in value:
                return _MISSING
            value = value[key]
        elif element.startswith("k:") and isinstance(value, list):
            name = _item_name(element)
            found = [i for i in value if isinstance(i, dict) and i.get("name") == name]
            if not found:
                return _MISSING
            value = found[0]
        else:
            return _MISSING
    return value


def exists_at(value: Any, path: Path) -> bool:
    return get_at(value, path) is not _MISSING


def _remove_at(root: Obj, path: Path) -> None:
    parent = get_at(root, path[:-1])
    last = path[-1]
    if last.startswith("f:") and isinstance(parent, dict):
        parent.pop(last[2:], None)
    elif last.startswith("k:") and isinstance(parent, list):
        name = _item_name(last)
        parent[:] = [i for i in parent if not (isinstance(i, dict) and i.get("name") == name)]


def dotted(path: Path) -> str:
    """``.spec.template.spec.containers[name="web"].image``: a path as people read it."""
    out = ""
    for element in path:
        if element.startswith("k:"):
            out += f'[name="{_item_name(element)}"]'
        else:
            out += "." + element[2:]
    return out


def to_fields_v1(paths: set[Path]) -> Obj:
    root: Obj = {}
    for path in sorted(paths):
        node = root
        for element in path:
            node = node.setdefault(element, {})
        if path and path[-1].startswith("k:"):
            node["."] = {}
    return root


def from_fields_v1(fields: Any, prefix: Path = ()) -> set[Path]:
    paths: set[Path] = set()
    if not isinstance(fields, dict):
        return paths
    for key, child in fields.items():
        if key == ".":
            if prefix:
                paths.add(prefix)
            continue
        path = (*prefix, key)
        if not child:
            paths.add(path)
        else:
            paths |= from_fields_v1(child, path)
    return paths


# --- merging -----------------------------------------------------------------------------


def strip_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [strip_nulls(v) for v in value]
    return value


def merge_applied(live: Any, applied: Any) -> Any:
    """Merge an applied configuration into a live value (see the module docstring)."""
    if isinstance(live, dict) and isinstance(applied, dict):
        out = dict(live)
        for key, value in applied.items():
            out[key] = merge_applied(live[key], value) if key in live else json_copy(value)
        return out
    if is_keyed_list(live) and is_keyed_list(applied):
        wanted = {item["name"]: item for item in applied}
        merged = [
            merge_applied(item, wanted[item["name"]]) if item["name"] in wanted else item
            for item in live
        ]
        present = {item["name"] for item in live}
        merged += [json_copy(i) for i in applied if i["name"] not in present]
        return merged
    return json_copy(applied)


def merge_patch(target: Any, patch: Any, by_name: bool = False) -> Any:
    """RFC 7386 JSON merge patch; with ``by_name``, name-keyed lists merge item by item."""
    if by_name and is_keyed_list(target) and is_keyed_list(patch):
        items = {i["name"]: i for i in patch}
        merged = [
            merge_patch(i, items[i["name"]], True) if i["name"] in items else i for i in target
        ]
        present = {i["name"] for i in target}
        return merged + [strip_nulls(i) for i in patch if i["name"] not in present]
    if not isinstance(patch, dict):
        return json_copy(patch)
    out: Obj = json_copy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value, by_name)
    return out


# --- ownership ---------------------------------------------------------------------------


def _entry_paths(entry: Obj) -> set[Path]:
    return from_fields_v1(entry.get("fieldsV1"))


def _same_entry(entry: Obj, manager: str, operation: str, subresource: str) -> bool:
    return (
        entry.get("manager") == manager
        and entry.get("operation") == operation
        and entry.get("subresource", "") == subresource
    )


def _make_entry(
    manager: str, operation: str, api_version: str, now: str, subresource: str, paths: set[Path]
) -> Obj:
    entry: Obj = {
        "manager": manager,
        "operation": operation,
        "apiVersion": api_version,
        "time": now,
        "fieldsType": "FieldsV1",
        "fieldsV1": to_fields_v1(paths),
    }
    if subresource:
        entry["subresource"] = subresource
    return entry


def _rebuild(
    entries: list[tuple[Obj, set[Path]]], view: Obj, mine: Obj | None, mine_paths: set[Path]
) -> list[Obj]:
    """managedFields with stale paths pruned and empty entries dropped; ``mine`` last."""
    result: list[Obj] = []
    for entry, paths in entries:
        kept = {p for p in paths if exists_at(view, p)}
        if kept:
            result.append({**entry, "fieldsV1": to_fields_v1(kept)})
    if mine is not None and mine_paths:
        result.append(mine)
    return result


def _pruned(entry: Obj, paths: set[Path], view: Obj) -> list[Obj]:
    """``entry`` (whose paths are all of ``paths``) without the paths ``view`` lacks; [] if
    none is left. Kept as stored when nothing goes: its FieldsV1 was made by to_fields_v1
    (sorted), so rebuilding it would make the same - and a status write passes every spec
    manager's entry through here, several times per pod and workload."""
    kept = {p for p in paths if exists_at(view, p)}
    if kept == paths:
        return [{**entry}]
    return [{**entry, "fieldsV1": to_fields_v1(kept)}] if kept else []


def record_update(
    old: Obj | None,
    new: Obj,
    manager: str,
    api_version: str,
    now: str,
    subresource: str = "",
) -> list[Obj]:
    """managedFields for ``new`` after manager's create/update/patch from ``old``."""
    status = subresource == "status"
    new_view = managed_view(new, status)
    other_view = managed_view(new, not status)
    old_view = managed_view(old, status) if old is not None else {}
    changed = {p for p in field_paths(new_view) if get_at(old_view, p) != get_at(new_view, p)}
    result: list[Obj] = []
    mine_paths: set[Path] = set()
    for entry in (old or {}).get("metadata", {}).get("managedFields") or []:
        paths = _entry_paths(entry)
        if _same_entry(entry, manager, "Update", subresource):
            mine_paths = paths
        elif entry.get("subresource", "") == subresource:
            kept = paths - changed
            if kept == paths:
                result += _pruned(entry, paths, new_view)
            else:
                result += _rebuild([(entry, kept)], new_view, None, set())
        else:
            result += _pruned(entry, paths, other_view)
    mine_paths = {p for p in mine_paths | changed if exists_at(new_view, p)}
    if mine_paths:
        result.append(_make_entry(manager, "Update", api_version, now, subresource, mine_paths))
    return result


def apply_patch(
    live: Obj | None,
    applied: Obj,
    manager: str,
    force: bool,
    api_version: str,
    now: str,
    subresource: str = "",
) -> Obj:
    """The object after ``manager`` applies ``applied``; raises :class:`ApplyConflict`.

    ``live`` is None when the object does not exist yet: the result is then the applied
    configuration itself, which the caller completes and validates like a create.
    """
    status = subresource == "status"
    applied = strip_nulls(applied)
    view = managed_view(applied, status)
    new_paths = field_paths(view)
    if live is None:
        obj = json_copy(applied)
        if not status:
            obj.pop("status", None)
        obj.setdefault("metadata", {})["managedFields"] = [
            _make_entry(manager, "Apply", api_version, now, subresource, new_paths)
        ]
        return obj

    live_view = managed_view(live, status)
    previous: set[Path] = set()
    others: list[tuple[Obj, set[Path]]] = []
    untouched: list[Obj] = []
    for entry in live.get("metadata", {}).get("managedFields") or []:
        if entry.get("subresource", "") != subresource:
            untouched.append(entry)
        elif _same_entry(entry, manager, "Apply", subresource):
            previous = _entry_paths(entry)
        else:
            others.append((entry, _entry_paths(entry)))

    conflicts: list[tuple[str, str, str]] = []
    for index, (entry, paths) in enumerate(others):
        clashing = {
            p
            for p in paths & new_paths
            if not p[-1].startswith("k:") and get_at(live_view, p) != get_at(view, p)
        }
        if clashing and force:
            others[index] = (entry, paths - clashing)
        manager_of = (str(entry.get("manager")), str(entry.get("apiVersion")))
        conflicts += [(*manager_of, dotted(p)) for p in sorted(clashing)]
    if conflicts and not force:
        raise ApplyConflict(conflicts)

    owned_by_others = set().union(*(paths for _, paths in others)) | new_paths
    result = json_copy(live)
    removed = sorted(previous - new_paths, key=len, reverse=True)
    for path in removed:
        if any(q[: len(path)] == path for q in owned_by_others):
            continue
        _remove_at(result, path)
        _prune_empty_parents(result, path, owned_by_others)

    result = dict(merge_applied(result, view))
    mine = _make_entry(manager, "Apply", api_version, now, subresource, new_paths)
    result_view = managed_view(result, status)
    result.setdefault("metadata", {})["managedFields"] = untouched + _rebuild(
        others, result_view, mine, new_paths
    )
    return result


def _prune_empty_parents(root: Obj, path: Path, keep: set[Path]) -> None:
    """Drop maps and lists that removal left empty, unless someone owns them."""
    parent_path = path[:-1]
    while parent_path and parent_path != ("f:metadata",):
        value = get_at(root, parent_path)
        if value not in ({}, []) or parent_path in keep:
            return
        _remove_at(root, parent_path)
        parent_path = parent_path[:-1]


# --- JSON patch (RFC 6902) ----------------------------------------------------------------


class JsonPatchError(Exception):
    """A JSON patch that cannot be applied; the message says which operation and why."""


def _pointer(path: Any) -> list[str]:
    if not isinstance(path, str) or (path and not path.startswith("/")):
        raise JsonPatchError(f"invalid JSON pointer {path!r}: it must start with '/'")
    return [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]] if path else []


def _walk(doc: Any, parts: list[str], op: str) -> Any:
    for part in parts:
        if isinstance(doc, dict) and part in doc:
            doc = doc[part]
        elif isinstance(doc, list) and part.isdigit() and int(part) < len(doc):
            doc = doc[int(part)]
        else:
            raise JsonPatchError(f"{op} operation does not apply: doc is missing path: /{part}")
    return doc


def _add(doc: Any, parts: list[str], value: Any, op: str, replace: bool = False) -> Any:
    if not parts:
        return json_copy(value)
    parent, last = _walk(doc, parts[:-1], op), parts[-1]
    if isinstance(parent, dict):
        if replace and last not in parent:
            raise JsonPatchError(f"{op} operation does not apply: doc is missing key: {last}")
        parent[last] = json_copy(value)
    elif isinstance(parent, list):
        if last == "-" and not replace:
            parent.append(json_copy(value))
        elif last.isdigit() and int(last) <= len(parent) - (1 if replace else 0):
            if replace:
                parent[int(last)] = json_copy(value)
            else:
                parent.insert(int(last), json_copy(value))
        else:
            raise JsonPatchError(f"{op} operation does not apply: index {last} out of range")
    else:
        raise JsonPatchError(f"{op} operation does not apply: the parent is not a container")
    return doc


def _remove(doc: Any, parts: list[str], op: str) -> Any:
    if not parts:
        raise JsonPatchError(f"{op} operation does not apply: cannot remove the root")
    parent, last = _walk(doc, parts[:-1], op), parts[-1]
    if isinstance(parent, dict) and last in parent:
        return parent.pop(last)
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return parent.pop(int(last))
    raise JsonPatchError(f"{op} operation does not apply: doc is missing path: /{last}")


def json_patch(target: Obj, operations: Any) -> Any:
    """Apply an RFC 6902 patch (add, remove, replace, move, copy, test) to a copy."""
    if not isinstance(operations, list):
        raise JsonPatchError("a JSON patch must be a list of operations")
    doc: Any = json_copy(target)
    for operation in operations:
        if not isinstance(operation, dict) or "op" not in operation:
            raise JsonPatchError(f"invalid JSON patch operation: {operation!r}")
        op = operation["op"]
        parts = _pointer(operation.get("path"))
        if op in ("add", "replace", "test") and "value" not in operation:
            raise JsonPatchError(f"{op} operation is missing its value")
        if op == "add":
            doc = _add(doc, parts, operation["value"], op)
        elif op == "replace":
            doc = _add(doc, parts, operation["value"], op, replace=True)
        elif op == "remove":
            _remove(doc, parts, op)
        elif op in ("move", "copy"):
            source = _pointer(operation.get("from"))
            value = json_copy(_walk(doc, source, op))
            if op == "move":
                _remove(doc, source, op)
            doc = _add(doc, parts, value, op)
        elif op == "test":
            if _walk(doc, parts, op) != operation["value"]:
                raise JsonPatchError(f"testing value {operation.get('path')} failed")
        else:
            raise JsonPatchError(f"unknown JSON patch operation {op!r}")
    return doc
