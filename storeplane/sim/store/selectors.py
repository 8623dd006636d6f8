"""Label and field selectors, as sent in ``?labelSelector=`` and ``?fieldSelector=``.

Used by list and deletecollection. Label selectors support the whole string grammar of
``kubectl -l``: ``k=v``, ``k==v``, ``k!=v``, ``k in (a,b)``, ``k notin (a,b)``, ``k``,
``!k``, comma-joined (AND). Field selectors support ``=``, ``==``, ``!=`` on
``metadata.name`` and ``metadata.namespace`` for every kind, plus the fields the API
server adds per kind (:data:`KIND_FIELDS`: an Event's ``involvedObject.*``, ``reason``,
``type``, ``source``...; a Pod's ``spec.nodeName``, ``status.phase``...). A malformed
selector, or a field the kind does not offer, raises a 400.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ApiError, bad_request

_KEY = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?"
_VALUE = r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?"
_EXISTS = re.compile(rf"^(?P<neg>!)?\s*(?P<key>{_KEY})$")
_EQUALITY = re.compile(rf"^(?P<key>{_KEY})\s*(?P<op>==|=|!=)\s*(?P<value>{_VALUE})$")
_SET = re.compile(rf"^(?P<key>{_KEY})\s+(?P<op>in|notin)\s*\((?P<values>[^()]*)\)$")

Getter = Callable[[Mapping[str, Any]], str]


def _path(dotted: str) -> Getter:
    """A getter for a dotted path, "" when absent (how the API server matches a missing field)."""
    parts = dotted.split(".")

    def get(obj: Mapping[str, Any]) -> str:
        value: Any = obj
        for part in parts:
            if not isinstance(value, Mapping):
                return ""
            value = value.get(part)
        if isinstance(value, bool):
            return "true" if value else "false"
        return "" if value is None else str(value)

    return get


FIELD_GETTERS: dict[str, Getter] = {
    "metadata.name": _path("metadata.name"),
    "metadata.namespace": _path("metadata.namespace"),
}


# The extra fields each kind's registry strategy offers (kubernetes pkg/registry/*/strategy.go
# GetAttrs / field label conversion), by kind name.
def _either(*paths: str) -> Getter:
    """The first of ``paths`` that is set: an Event's field under its core/v1 name or its
    events.k8s.io/v1 name (the same objects are watched in both versions)."""
    getters = [_path(p) for p in paths]

    def get(obj: Mapping[str, Any]) -> str:
        for getter in getters:
            value = getter(obj)
            if value:
                return value
        return ""

    return get


_INVOLVED = ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")

KIND_FIELDS: dict[str, dict[str, Getter]] = {
    "Event": {
        **{
            f"{prefix}.{f}": _either(f"involvedObject.{f}", f"regarding.{f}")
            for prefix in ("involvedObject", "regarding")
            for f in _INVOLVED
        },
        "reason": _path("reason"),
        "reportingComponent": _either("reportingComponent", "reportingController"),
        "reportingController": _either("reportingComponent", "reportingController"),
        "source": _either("source.component", "deprecatedSource.component"),
        "type": _path("type"),
    },
    "Pod": {
        f: _path(f)
        for f in (
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        )
    },
    "Secret": {"type": _path("type")},
    "Namespace": {"status.phase": _path("status.phase")},
    "ReplicaSet": {"status.replicas": _path("status.replicas")},
    "Job": {"status.successful": _path("status.succeeded")},
}


def field_getters(kind: str | None) -> dict[str, Getter]:
    """The field selector fields of a kind (by name), ``metadata.*`` included."""
    return {**FIELD_GETTERS, **KIND_FIELDS.get(kind or "", {})}


@dataclass(frozen=True)
class Requirement:
    """One clause of a label selector; ``op`` is one of in, notin, exists, !exists."""

    key: str
    op: str
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        if self.op == "exists":
            return present
        if self.op == "!exists":
            return not present
        if self.op == "in":
            return present and labels[self.key] in self.values
        return not present or labels[self.key] not in self.values  # notin


def _split_terms(selector: str) -> list[str]:
    """Split on commas that are not inside ``(...)``."""
    terms: list[str] = []
    depth = 0
    current: list[str] = []
    for ch in selector:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            terms.append("".join(current))
            current = []
        else:
            current.append(ch)
    terms.append("".join(current))
    return [t.strip() for t in terms if t.strip()]


def parse_label_selector(selector: str | None) -> list[Requirement]:
    """Parse a label selector string; an empty or absent selector matches everything."""
    if not selector:
        return []
    requirements: list[Requirement] = []
    for term in _split_terms(selector):
        if m := _SET.match(term):
            values = frozenset(v.strip() for v in m["values"].split(",") if v.strip())
            requirements.append(Requirement(m["key"], m["op"], values))
        elif m := _EQUALITY.match(term):
            op = "notin" if m["op"] == "!=" else "in"
            requirements.append(Requirement(m["key"], op, frozenset({m["value"]})))
        elif m := _EXISTS.match(term):
            requirements.append(Requirement(m["key"], "!exists" if m["neg"] else "exists"))
        else:
            raise bad_request(f"unable to parse requirement: invalid label selector {term!r}")
    return requirements


def labels_match(requirements: list[Requirement], labels: Mapping[str, str] | None) -> bool:
    labels = labels or {}
    return all(r.matches(labels) for r in requirements)


@dataclass(frozen=True)
class FieldRequirement:
    field: str
    value: str
    negate: bool
    getter: Getter = FIELD_GETTERS["metadata.name"]

    def matches(self, obj: Mapping[str, Any]) -> bool:
        return (self.getter(obj) == self.value) != self.negate


def parse_field_selector(selector: str | None, kind: str | None = None) -> list[FieldRequirement]:
    """Parse ``?fieldSelector=`` for objects of ``kind`` (a kind name such as ``Event``;
    None offers only ``metadata.name`` and ``metadata.namespace``)."""
    if not selector:
        return []
    getters = field_getters(kind)
    result: list[FieldRequirement] = []
    for term in _split_terms(selector):
        m = re.match(r"^(?P<field>[^=!]+?)\s*(?P<op>==|=|!=)\s*(?P<value>.*)$", term)
        if m is None:
            raise bad_request(f"invalid field selector: {term!r}")
        field = m["field"].strip()
        if field not in getters:
            known = ", ".join(f'"{f}"' for f in getters)
            raise ApiError(
                400, "BadRequest", f'"{field}" is not a known field selector: only {known}'
            )
        result.append(FieldRequirement(field, m["value"].strip(), m["op"] == "!=", getters[field]))
    return result


def fields_match(requirements: list[FieldRequirement], obj: Mapping[str, Any]) -> bool:
    return all(r.matches(obj) for r in requirements)
