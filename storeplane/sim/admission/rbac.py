"""The RBAC authorizer: may this user do this request? Decided as Kubernetes decides it.

Called for every request by :mod:`storeplane.sim.api.auth` (when the simulator runs with
``rbac``) and by the access reviews in :mod:`storeplane.sim.api.reviews`. Pure reads of the
Roles, ClusterRoles, RoleBindings and ClusterRoleBindings in the store; no state of its own.

What it follows (kubernetes ``plugin/pkg/auth/authorizer/rbac``):

- the ``system:masters`` group is allowed everything before RBAC is asked (the API server's
  privileged-group authorizer);
- every ClusterRoleBinding applies in every namespace and at cluster scope; RoleBindings of
  the request's namespace apply to it only (a namespace's own URL counts as in it);
- subjects: ``User`` by name, ``Group`` by the user's groups, ``ServiceAccount`` by
  ``system:serviceaccount:<ns>:<name>`` (a RoleBinding's subject without a namespace means the
  binding's namespace);
- a rule matches on verbs (``*`` all), apiGroups (``*`` all), resources (``*``, ``pods/log``
  for a subresource, ``*/scale``), resourceNames (empty = all) and, for requests outside
  ``/api`` and ``/apis``, nonResourceURLs (``*`` or a ``prefix*``);
- a ClusterRole with an ``aggregationRule`` has, besides its own rules, the rules of every
  ClusterRole its selectors match (read at decision time, not written back as the real
  aggregation controller does);
- a binding whose role is missing denies and says so in the reason
  (``RBAC: clusterrole.rbac.authorization.k8s.io "x" not found``), as the API server does.

Not modelled: escalation prevention (creating a Role or binding that grants more than one
holds is allowed to anyone who may write RBAC objects), ``bind``/``escalate`` checks,
the Node authorizer, webhooks. (Impersonation is checked before, by
:mod:`storeplane.sim.api.impersonation`.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..errors import ApiError
from ..kinds import by_qualified

Obj = dict[str, Any]
# How RBAC objects are read: (qualified resource, namespace or "") -> stored objects.
Reader = Callable[[str, str], list[Obj]]

MASTERS = "system:masters"
RBAC_GROUP = "rbac.authorization.k8s.io"
ROLES = "roles.rbac.authorization.k8s.io"
CLUSTER_ROLES = "clusterroles.rbac.authorization.k8s.io"
ROLE_BINDINGS = "rolebindings.rbac.authorization.k8s.io"
CLUSTER_ROLE_BINDINGS = "clusterrolebindings.rbac.authorization.k8s.io"
SA_PREFIX = "system:serviceaccount:"


@dataclass(frozen=True)
class UserInfo:
    """Who sent a request, as the authenticator found it."""

    name: str
    groups: tuple[str, ...] = ()
    uid: str = ""
    extra: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Attributes:
    """What a request asks to do (the API server's ``authorizer.Attributes``).

    For a resource request ``resource`` is set (``deployments``), ``api_group`` is ``""``
    for the core group and ``namespace`` ``""`` at cluster scope; otherwise ``path`` (e.g.
    ``/version``) names a non-resource URL. ``verb`` is one of get, list, watch, create,
    update, patch, delete, deletecollection (or a custom verb asked through a review)."""

    user: UserInfo
    verb: str
    resource_request: bool
    path: str = ""
    api_group: str = ""
    api_version: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""


@dataclass(frozen=True)
class Decision:
    """``allowed`` with the authorizer's reason (names the binding that allowed it, or the
    binding errors that may explain a denial; usually empty when nothing matched)."""

    allowed: bool
    reason: str = ""


# --- rule matching ---


def _verb_matches(rule: Obj, verb: str) -> bool:
    verbs = rule.get("verbs") or []
    return "*" in verbs or verb in verbs


def _group_matches(rule: Obj, group: str) -> bool:
    groups = rule.get("apiGroups") or []
    return "*" in groups or group in groups


def _resource_matches(rule: Obj, combined: str, subresource: str) -> bool:
    for resource in rule.get("resources") or []:
        if resource in ("*", combined):
            return True
        if subresource and resource == f"*/{subresource}":
            return True
    return False


def _name_matches(rule: Obj, name: str) -> bool:
    names = rule.get("resourceNames") or []
    return not names or name in names


def _url_matches(rule: Obj, path: str) -> bool:
    for url in rule.get("nonResourceURLs") or []:
        if url in ("*", path) or (url.endswith("*") and path.startswith(url[:-1])):
            return True
    return False


def rule_allows(attrs: Attributes, rule: Obj) -> bool:
    """One PolicyRule against a request (kubernetes ``RuleAllows``)."""
    if not _verb_matches(rule, attrs.verb):
        return False
    if not attrs.resource_request:
        return _url_matches(rule, attrs.path)
    combined = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
    return (
        _group_matches(rule, attrs.api_group)
        and _resource_matches(rule, combined, attrs.subresource)
        and _name_matches(rule, attrs.name)
    )


# --- subjects and bindings ---


def _applies(user: UserInfo, subject: Obj, binding_namespace: str) -> bool:
    kind, name = subject.get("kind"), subject.get("name", "")
    if kind == "User":
        return bool(user.name == name)
    if kind == "Group":
        return name in user.groups
    if kind == "ServiceAccount":
        namespace = subject.get("namespace") or binding_namespace
        return bool(namespace) and user.name == f"{SA_PREFIX}{namespace}:{name}"
    return False


def _describe_subject(subject: Obj, binding_namespace: str) -> str:
    if subject.get("kind") == "ServiceAccount":
        namespace = subject.get("namespace") or binding_namespace
        return f'ServiceAccount "{subject.get("name", "")}/{namespace}"'
    return f'{subject.get("kind", "")} "{subject.get("name", "")}"'


def _selector_matches(selector: Obj, labels: dict[str, str]) -> bool:
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key", ""), expr.get("operator"), expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


class RuleResolver:
    """The rules that apply to a user in a namespace, read from the store on each call."""

    def __init__(self, read: Reader) -> None:
        self._read = read
        self._cluster_roles: dict[str, Obj] | None = None

    def _cluster_role(self, name: str) -> Obj | None:
        if self._cluster_roles is None:  # one pass over the ClusterRoles per decision
            self._cluster_roles = {r["metadata"]["name"]: r for r in self._read(CLUSTER_ROLES, "")}
        return self._cluster_roles.get(name)

    def _cluster_role_rules(self, role: Obj) -> list[Obj]:
        rules = list(role.get("rules") or [])
        selectors = (role.get("aggregationRule") or {}).get("clusterRoleSelectors") or []
        if selectors:
            for other in self._read(CLUSTER_ROLES, ""):
                if other is role or other.get("aggregationRule"):
                    continue
                labels = other["metadata"].get("labels") or {}
                if any(_selector_matches(s, labels) for s in selectors):
                    rules += other.get("rules") or []
        return rules

    def _role_rules(self, ref: Obj, namespace: str) -> list[Obj]:
        """The rules of a binding's roleRef; ApiError-free: a missing role is KeyError
        carrying the API server's not-found wording."""
        kind, name = ref.get("kind"), ref.get("name", "")
        if kind == "ClusterRole":
            role = self._cluster_role(name)
            if role is None:
                raise KeyError(f'clusterrole.rbac.authorization.k8s.io "{name}" not found')
            return self._cluster_role_rules(role)
        if kind == "Role" and namespace:
            for role in self._read(ROLES, namespace):
                if role["metadata"]["name"] == name:
                    return list(role.get("rules") or [])
            raise KeyError(f'role.rbac.authorization.k8s.io "{name}" not found')
        raise KeyError(f"unsupported role reference kind: {kind!r}")

    def visit(self, user: UserInfo, namespace: str) -> Iterator[tuple[str, list[Obj], str]]:
        """(source description, rules, error) for every binding that names the user:
        ClusterRoleBindings first, then the RoleBindings of ``namespace``."""
        sources = [(b, "") for b in self._read(CLUSTER_ROLE_BINDINGS, "")]
        if namespace:
            sources += [(b, namespace) for b in self._read(ROLE_BINDINGS, namespace)]
        for binding, ns in sources:
            subject = next(
                (s for s in binding.get("subjects") or [] if _applies(user, s, ns)), None
            )
            if subject is None:
                continue
            ref = binding.get("roleRef") or {}
            name = binding["metadata"]["name"]
            kind = "RoleBinding" if ns else "ClusterRoleBinding"
            shown = f"{name}/{ns}" if ns else name
            source = (
                f'{kind} "{shown}" of {ref.get("kind", "")} "{ref.get("name", "")}" to '
                f"{_describe_subject(subject, ns)}"
            )
            try:
                yield source, self._role_rules(ref, ns), ""
            except KeyError as exc:
                yield source, [], str(exc.args[0])


def authorize(read: Reader, attrs: Attributes) -> Decision:
    """Allow or deny one request (privileged group first, then RBAC)."""
    if MASTERS in attrs.user.groups:
        return Decision(True)
    errors: list[str] = []
    for source, rules, error in RuleResolver(read).visit(attrs.user, attrs.namespace):
        if error:
            errors.append(error)
        elif any(rule_allows(attrs, rule) for rule in rules):
            return Decision(True, f"RBAC: allowed by {source}")
    if not errors:
        return Decision(False)
    joined = errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"
    return Decision(False, f"RBAC: {joined}")


def rules_for(read: Reader, user: UserInfo, namespace: str) -> tuple[list[Obj], bool]:
    """Every rule that applies to ``user`` in ``namespace`` (SelfSubjectRulesReview), and
    whether the list is incomplete (a binding's role was missing)."""
    if MASTERS in user.groups:
        everything = [
            {"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]},
            {"verbs": ["*"], "nonResourceURLs": ["*"]},
        ]
        return everything, False
    rules: list[Obj] = []
    incomplete = False
    for _, found, error in RuleResolver(read).visit(user, namespace):
        incomplete = incomplete or bool(error)
        rules += found
    return rules, incomplete


def forbidden_message(attrs: Attributes) -> str:
    """``User "u" cannot get resource "pods/log" in API group "" in the namespace "ns"`` (the
    API server's wording, ``responsewriters.forbiddenMessage``)."""
    user = attrs.user.name
    if not attrs.resource_request:
        return f'User "{user}" cannot {attrs.verb} path "{attrs.path}"'
    resource = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
    where = f'in the namespace "{attrs.namespace}"' if attrs.namespace else "at the cluster scope"
    return (
        f'User "{user}" cannot {attrs.verb} resource "{resource}" in API group '
        f'"{attrs.api_group}" {where}'
    )


def _forbidden(attrs: Attributes, text: str) -> ApiError:
    """``apierrors.NewForbidden``: ``<resource>[.group] ["name"] is forbidden: <text>``."""
    if not attrs.resource_request:
        return ApiError(403, "Forbidden", f"forbidden: {text}", {})
    qualified = f"{attrs.resource}.{attrs.api_group}" if attrs.api_group else attrs.resource
    subject = f'{qualified} "{attrs.name}"' if attrs.name else qualified
    details: Obj = {}
    if attrs.name:
        details["name"] = attrs.name
    if attrs.api_group:
        details["group"] = attrs.api_group
    details["kind"] = attrs.resource
    return ApiError(403, "Forbidden", f"{subject} is forbidden: {text}", details)


def forbidden(attrs: Attributes, decision: Decision) -> ApiError:
    """The 403 the API server's authorization filter answers for a denied request."""
    text = forbidden_message(attrs)
    return _forbidden(attrs, f"{text}: {decision.reason}" if decision.reason else text)


def forbidden_create(attrs: Attributes, decision: Decision) -> ApiError:
    """The 403 for a patch (server-side apply) or update that would create the object without
    ``create`` permission: the API server answers it from the handler with only the
    authorizer's reason, which is often empty (``withAuthorization`` in its handlers)."""
    return _forbidden(attrs, decision.reason)


def store_reader(values: Callable[[str, str], list[Obj]]) -> Reader:
    """A Reader over ``ObjectStore.values`` (resource names checked against the kind table)."""
    for qualified in (ROLES, CLUSTER_ROLES, ROLE_BINDINGS, CLUSTER_ROLE_BINDINGS):
        by_qualified(qualified)  # KeyError at start-up if the kinds were not served
    return values
