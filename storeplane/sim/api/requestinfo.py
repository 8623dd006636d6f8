"""What a request asks to do, from its method, path and query: the API server's request-info
resolver (``k8s.io/apiserver/pkg/endpoints/request/requestinfo.go``), as authorization sees it.

Called by :mod:`storeplane.sim.api.auth` before every request when RBAC is on. Pure.

- ``/api/v1/...`` and ``/apis/{group}/{version}/...`` are resource requests; anything else
  (``/api``, ``/apis``, ``/apis/apps``, ``/version``, ``/healthz``, ``/openapi/v3``) is a
  non-resource request whose verb is the lower-case HTTP method (``get``).
- Verbs: POST create, GET get (list without a name, watch with ``watch=true``), PUT update,
  PATCH patch (server-side apply too), DELETE delete (deletecollection without a name).
- ``namespaces/{ns}/{resource}/...`` is in namespace ``ns``; ``namespaces/{ns}`` itself
  (and its ``status`` and ``finalize``) is the namespace resource, *also* in namespace ``ns``.
- ``{resource}/{name}/{subresource}``: ``pods/log``, ``services/proxy``, ``serviceaccounts/token``.
- A list or watch with ``fieldSelector=metadata.name=X`` is asked for the name ``X`` (so
  ``resourceNames`` rules can allow it).
"""

from __future__ import annotations

from collections.abc import Mapping

from ..admission.rbac import Attributes, UserInfo

_NAMESPACE_SUBRESOURCES = {"status", "finalize"}
_METHOD_VERBS = {"POST": "create", "GET": "get", "HEAD": "get", "PUT": "update",
                 "PATCH": "patch", "DELETE": "delete"}  # fmt: skip
_TRUE = {"1", "t", "T", "TRUE", "true", "True"}  # Go's strconv.ParseBool


def _name_from_field_selector(selector: str) -> str:
    for term in selector.split(","):
        for op in ("==", "="):
            key, sep, value = term.partition(op)
            if sep and key.strip() == "metadata.name" and "!" not in key:
                return value.strip()
    return ""


def resolve(user: UserInfo, method: str, path: str, query: Mapping[str, str]) -> Attributes:
    """The authorization attributes of one HTTP request."""
    parts = [p for p in path.split("/") if p]
    non_resource = Attributes(user=user, verb=method.lower(), resource_request=False, path=path)
    if not parts or parts[0] not in ("api", "apis"):
        return non_resource
    if parts[0] == "api":
        if len(parts) < 2:
            return non_resource
        group, version, rest = "", parts[1], parts[2:]
    else:
        if len(parts) < 3:
            return non_resource
        group, version, rest = parts[1], parts[2], parts[3:]
    if not rest:  # /api/v1, /apis/apps/v1: discovery documents
        return non_resource
    verb = _METHOD_VERBS.get(method.upper(), "")
    if rest[0] == "watch":  # the deprecated /watch/ prefix
        verb, rest = "watch", rest[1:]
    namespace = ""
    if rest and rest[0] == "namespaces" and len(rest) > 1:
        namespace = rest[1]
        if len(rest) > 2 and rest[2] not in _NAMESPACE_SUBRESOURCES:
            rest = rest[2:]
    resource = rest[0] if rest else ""
    name = rest[1] if len(rest) >= 2 else ""
    subresource = rest[2] if len(rest) >= 3 else ""
    if not name and verb == "get":
        verb = "watch" if query.get("watch", "") in _TRUE else "list"
        name = _name_from_field_selector(query.get("fieldSelector", ""))
    if not name and verb == "delete":
        verb = "deletecollection"
    return Attributes(
        user=user,
        verb=verb,
        resource_request=True,
        path=path,
        api_group=group,
        api_version=version,
        resource=resource,
        subresource=subresource,
        namespace=namespace,
        name=name,
    )
