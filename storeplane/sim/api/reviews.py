"""Requests that are answered, not stored: TokenRequest, the self access reviews and
SelfSubjectReview - what ``kubectl create token``, ``kubectl auth can-i`` and ``kubectl auth
whoami`` send.

Called by :func:`storeplane.sim.api.app._dispatch` through :func:`answer` before a URL is
resolved to a stored kind. The user comes from :mod:`storeplane.sim.api.auth` (with RBAC off
nobody is authenticated: the reviews answer for ``admin``, and everything is allowed).

- ``POST /api/v1/namespaces/NS/serviceaccounts/NAME/token`` (TokenRequest): a token for that
  ServiceAccount (404 if it does not exist), ``spec.expirationSeconds`` 600 s to 2^32 s
  (default 3600), ``spec.audiences`` (default the API server's), ``spec.boundObjectRef`` to a
  Pod or Secret that must exist.
- ``POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews``: ``status.allowed`` for the
  asking user and ``spec.resourceAttributes`` or ``spec.nonResourceAttributes``.
- ``POST /apis/authorization.k8s.io/v1/selfsubjectrulesreviews``: the rules that apply in
  ``spec.namespace`` (``kubectl auth can-i --list``).
- ``POST /apis/authentication.k8s.io/v1/selfsubjectreviews``: ``status.userInfo``.

kubectl 1.35 sends these bodies as protobuf; :mod:`storeplane.sim.api.codec` decodes them (as
JSON and YAML).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..admission.rbac import Attributes, UserInfo, authorize, rules_for
from ..errors import ApiError, bad_request, method_not_allowed, not_found
from ..kinds import lookup
from ..store.cluster import Cluster
from .auth import ADMIN, API_AUDIENCES, TokenAuthority, reader
from .codec import decode_body

Obj = dict[str, Any]

MIN_EXPIRATION = 600
MAX_EXPIRATION = 2**32
DEFAULT_EXPIRATION = 3600


async def _decode(request: Request, expected_kind: str) -> Obj:
    """The body as JSON (JSON, YAML, or protobuf through :mod:`storeplane.sim.api.codec`)."""
    raw = await request.body()
    body = decode_body(request.headers.get("content-type"), raw) if raw.strip() else {}
    if not isinstance(body, dict) or body.get("kind", expected_kind) != expected_kind:
        raise bad_request(f"the body must be a {expected_kind} object")
    return body


# --- the answers ---


def _user(request: Request) -> UserInfo:
    user = getattr(request.state, "user", None)
    return user if isinstance(user, UserInfo) else ADMIN


def _timestamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _invalid(kind: str, group: str, name: str, field: str, value: Any, message: str) -> ApiError:
    return ApiError(
        422,
        "Invalid",
        f'{kind}.{group} "{name}" is invalid: {field}: Invalid value: {value}: {message}',
        {"name": name, "group": group, "kind": kind,
         "causes": [{"reason": "FieldValueInvalid", "message": f"Invalid value: {value}: "
                     f"{message}", "field": field}]},
    )  # fmt: skip


async def token_request(
    request: Request, cluster: Cluster, authority: TokenAuthority, namespace: str, name: str
) -> Response:
    sa_kind = lookup("", "v1", "serviceaccounts")
    assert sa_kind is not None
    body = await _decode(request, "TokenRequest")
    account = cluster.store.peek(cluster.key(sa_kind, namespace, name))
    if account is None:
        raise not_found(sa_kind, name)
    spec = body.get("spec") or {}
    seconds = spec.get("expirationSeconds") or DEFAULT_EXPIRATION
    group = "authentication.k8s.io"
    if not isinstance(seconds, int) or seconds < MIN_EXPIRATION:
        raise _invalid("TokenRequest", group, name, "spec.expirationSeconds", seconds,
                       "may not specify a duration less than 10 minutes")  # fmt: skip
    if seconds > MAX_EXPIRATION:
        raise _invalid("TokenRequest", group, name, "spec.expirationSeconds", seconds,
                       "may not specify a duration larger than 2^32 seconds")  # fmt: skip
    audiences = list(spec.get("audiences") or API_AUDIENCES)
    bound = spec.get("boundObjectRef") or None
    if bound:
        kinds = {"Pod": lookup("", "v1", "pods"), "Secret": lookup("", "v1", "secrets")}
        bound_kind = kinds.get(bound.get("kind", ""))
        if bound_kind is None:
            raise _invalid("TokenRequest", group, name, "spec.boundObjectRef.kind",
                           f'"{bound.get("kind", "")}"', 'supported values: "Pod", "Secret"')  # fmt: skip
        target = cluster.store.peek(cluster.key(bound_kind, namespace, bound.get("name", "")))
        if target is None:
            raise not_found(bound_kind, bound.get("name", ""))
        bound = {**bound, "uid": target["metadata"].get("uid", "")}
    token, expires = authority.issue(account, audiences, seconds, bound, time.time())
    answer = {
        "kind": "TokenRequest",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"name": name, "namespace": namespace, "creationTimestamp": None},
        "spec": {"audiences": audiences, "expirationSeconds": seconds,
                 "boundObjectRef": bound},
        "status": {"token": token, "expirationTimestamp": _timestamp(expires)},
    }  # fmt: skip
    return JSONResponse(answer, 201)


def _review_attributes(user: UserInfo, spec: Obj) -> Attributes:
    resource: Obj = spec.get("resourceAttributes") or {}
    non_resource: Obj = spec.get("nonResourceAttributes") or {}
    if bool(resource) == bool(non_resource):
        raise _invalid("SelfSubjectAccessReview", "authorization.k8s.io", "",
                       "spec.resourceAttributes", '"null"',
                       "exactly one of nonResourceAttributes or resourceAttributes must be "
                       "specified")  # fmt: skip
    if non_resource:
        return Attributes(user, str(non_resource.get("verb", "")), False,
                          path=str(non_resource.get("path", "")))  # fmt: skip
    return Attributes(
        user=user,
        verb=str(resource.get("verb", "")),
        resource_request=True,
        api_group=str(resource.get("group", "")),
        api_version=str(resource.get("version", "")),
        resource=str(resource.get("resource", "")),
        subresource=str(resource.get("subresource", "")),
        namespace=str(resource.get("namespace", "")),
        name=str(resource.get("name", "")),
    )


async def access_review(request: Request, cluster: Cluster, rbac: bool) -> Response:
    body = await _decode(request, "SelfSubjectAccessReview")
    spec = body.get("spec") or {}
    attrs = _review_attributes(_user(request), spec)
    decision = authorize(reader(cluster), attrs) if rbac else None
    status: Obj = {"allowed": decision.allowed if decision else True}
    if decision and decision.reason:
        status["reason"] = decision.reason
    answer = {
        "kind": "SelfSubjectAccessReview",
        "apiVersion": "authorization.k8s.io/v1",
        "metadata": {"creationTimestamp": None},
        "spec": spec,
        "status": status,
    }
    return JSONResponse(answer, 201)


def _split_rules(rules: list[Obj]) -> tuple[list[Obj], list[Obj]]:
    resource_rules, url_rules = [], []
    for rule in rules:
        if rule.get("nonResourceURLs"):
            url_rules.append({"verbs": rule.get("verbs") or [],
                              "nonResourceURLs": rule["nonResourceURLs"]})  # fmt: skip
        else:
            entry = {k: rule[k] for k in ("verbs", "apiGroups", "resources", "resourceNames")
                     if rule.get(k)}  # fmt: skip
            resource_rules.append(entry)
    return resource_rules, url_rules


async def rules_review(request: Request, cluster: Cluster, rbac: bool) -> Response:
    body = await _decode(request, "SelfSubjectRulesReview")
    spec = body.get("spec") or {}
    user = _user(request) if rbac else ADMIN
    rules, incomplete = rules_for(reader(cluster), user, str(spec.get("namespace", "")))
    resource_rules, url_rules = _split_rules(rules)
    answer = {
        "kind": "SelfSubjectRulesReview",
        "apiVersion": "authorization.k8s.io/v1",
        "metadata": {"creationTimestamp": None},
        "spec": spec,
        "status": {"resourceRules": resource_rules, "nonResourceRules": url_rules,
                   "incomplete": incomplete},
    }  # fmt: skip
    return JSONResponse(answer, 201)


async def self_review(request: Request) -> Response:
    await _decode(request, "SelfSubjectReview")
    user = _user(request)
    info: Obj = {"username": user.name}
    if user.uid:
        info["uid"] = user.uid
    info["groups"] = list(user.groups)
    if user.extra:
        info["extra"] = user.extra
    answer = {
        "kind": "SelfSubjectReview",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"creationTimestamp": _timestamp(time.time())},
        "status": {"userInfo": info},
    }
    return JSONResponse(answer, 201)


async def answer(
    request: Request,
    cluster: Cluster,
    authority: TokenAuthority,
    rbac: bool,
    group: str,
    version: str,
    rest: list[str],
) -> Response | None:
    """The answer when the URL is one of these requests, else None (a stored kind)."""
    if version != "v1":
        return None
    if group == "" and len(rest) == 5 and rest[0] == "namespaces" and rest[2] == "serviceaccounts":
        if rest[4] != "token":
            return None
        if request.method != "POST":
            raise method_not_allowed()
        return await token_request(request, cluster, authority, rest[1], rest[3])
    handlers = {
        ("authorization.k8s.io", "selfsubjectaccessreviews"): "access",
        ("authorization.k8s.io", "selfsubjectrulesreviews"): "rules",
        ("authentication.k8s.io", "selfsubjectreviews"): "self",
    }
    which = handlers.get((group, rest[0])) if len(rest) == 1 else None
    if which is None:
        return None
    if request.method != "POST":
        raise method_not_allowed()
    if which == "access":
        return await access_review(request, cluster, rbac)
    if which == "rules":
        return await rules_review(request, cluster, rbac)
    return await self_review(request)
