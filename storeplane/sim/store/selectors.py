"""Label and field selectors, as sent in ``?labelSelector=`` and ``?fieldSelector=``.

Used by list and deletecollection. Label selectors support the whole string grammar of
``kubectl -l``: ``k=v``, ``k==v``, ``k!=v``, ``k in (a,b)``, ``k notin (a,b)``, ``k``,
``!k``, comma-joined (AND). Field selectors support ``=``, ``==``, ``!=`` on
``metadata.name`` and ``metadata.namespace`` only. A malformed selector raises a 400.
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

FIELD_GETTERS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "metadata.name": lambda obj: str(obj.get("metadata", {}).get("name", "")),
    "metadata.namespace": lambda obj: str(obj.get("metadata", {}).get("namespace", "")),
}


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

    def matches(self, obj: Mapping[str, Any]) -> bool:
        return (FIELD_GETTERS[self.field](obj) == self.value) != self.negate


def parse_field_selector(selector: str | None) -> list[FieldRequirement]:
    if not selector:
        return []
    result: list[FieldRequirement] = []
    for term in _split_terms(selector):
        m = re.match(r"^(?P<field>[^=!]+?)\s*(?P<op>==|=|!=)\s*(?P<value>.*)$", term)
        if m is None:
            raise bad_request(f"invalid field selector: {term!r}")
        field = m["field"].strip()
        if field not in FIELD_GETTERS:
            raise ApiError(
                400,
                "BadRequest",
                f'"{field}" is not a known field selector: only "metadata.name", '
                '"metadata.namespace"',
            )
        result.append(FieldRequirement(field, m["value"].strip(), m["op"] == "!="))
    return result


def fields_match(requirements: list[FieldRequirement], obj: Mapping[str, Any]) -> bool:
    return all(r.matches(obj) for r in requirements)
