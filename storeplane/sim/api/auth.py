"""Authentication and the authorization gate, on when the simulator runs with ``rbac``.

:class:`AuthMiddleware` wraps the app built by :mod:`storeplane.sim.api.app`; for every request
except the simulator's own ``/sim/v1/*`` it

1. authenticates the ``Authorization: Bearer`` token with :class:`TokenAuthority`: the admin
   token (user ``admin``, groups ``system:masters`` and ``system:authenticated``; the runner
   writes it into the kubeconfig) or a ServiceAccount token issued through the TokenRequest
   API (``POST .../serviceaccounts/NAME/token``, ``kubectl create token``), which is user
   ``system:serviceaccount:NS:NAME`` in ``system:serviceaccounts``,
   ``system:serviceaccounts:NS`` and ``system:authenticated``. No token, an unknown one, an
   expired one, one for another audience or one whose ServiceAccount is gone (or was
   re-made: the uid is checked) is ``401 Unauthorized``, as from an API server started with
   ``--anonymous-auth=false``;
2. resolves what the request asks (:mod:`storeplane.sim.api.requestinfo`) and asks the RBAC
   authorizer (:mod:`storeplane.sim.admission.rbac`); a denial is ``403 Forbidden`` with the
   API server's message;
3. for a server-side apply of an object that does not exist yet, also requires ``create``
   (the API server checks that inside its patch handler), and
4. passes the user on in ``scope["state"]["user"]`` for the access reviews.

Between 1 and 2, ``Impersonate-*`` headers (``kubectl --as``) switch the user when the real
one may ``impersonate`` it (:mod:`storeplane.sim.api.impersonation`).

ServiceAccount tokens are JWTs with the claims the API server puts in them (``iss``, ``sub``,
``aud``, ``exp``, ``kubernetes.io``), signed with HMAC-SHA256 by a key kept in the state file
(so tokens survive a restart on the same file); a real cluster signs with RS256 and publishes
its keys, which is not modelled (nothing can verify these tokens but the simulator).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from ..admission.rbac import Attributes, Decision, UserInfo, authorize, forbidden, forbidden_create
from ..errors import ApiError
from ..kinds import lookup
from ..store.cluster import Cluster
from ..store.objects import ObjectStore, read_meta
from .impersonation import impersonate
from .requestinfo import resolve

Obj = dict[str, Any]

ISSUER = "https://kubernetes.default.svc.cluster.local"
API_AUDIENCES = (ISSUER,)  # what the API server accepts tokens for (its --api-audiences)
ADMIN = UserInfo("admin", ("system:masters", "system:authenticated"))
ADMIN_TOKEN_META = "rbac/admin-token"
_SIGNING_KEY_META = "rbac/signing-key"
CREDENTIAL_ID = "authentication.kubernetes.io/credential-id"


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", "Unauthorized")


def admin_token_for(state_path: Path | None) -> str:
    """The admin token a simulator on ``state_path`` will accept: the one kept there, else
    a new random one (the runner calls this before start to write the kubeconfig)."""
    kept = read_meta(state_path, ADMIN_TOKEN_META) if state_path is not None else None
    return kept or "sim-admin-" + secrets.token_urlsafe(24)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenAuthority:
    """Issues ServiceAccount tokens and tells who holds a token."""

    def __init__(self, admin_token: str, key: bytes) -> None:
        self.admin_token = admin_token
        self._key = key

    @classmethod
    def load(cls, store: ObjectStore, admin_token: str | None) -> TokenAuthority:
        """The authority kept in ``store`` (made on first use): the signing key, and the admin
        token (``admin_token`` replaces the kept one)."""
        key_text = store.get_meta(_SIGNING_KEY_META)
        if key_text is None:
            key_text = _b64(secrets.token_bytes(32))
            store.set_meta(_SIGNING_KEY_META, key_text)
        token = admin_token or store.get_meta(ADMIN_TOKEN_META) or admin_token_for(None)
        if store.get_meta(ADMIN_TOKEN_META) != token:
            store.set_meta(ADMIN_TOKEN_META, token)
        return cls(token, _unb64(key_text))

    def _sign(self, signing_input: str) -> str:
        return _b64(hmac.new(self._key, signing_input.encode(), hashlib.sha256).digest())

    def issue(
        self,
        account: Obj,
        audiences: list[str],
        seconds: int,
        bound: Obj | None = None,
        now: float | None = None,
    ) -> tuple[str, int]:
        """A token for ServiceAccount ``account`` valid ``seconds`` for ``audiences``;
        returns (token, expiry as epoch seconds)."""
        issued = int(now if now is not None else time.time())
        meta = account["metadata"]
        claims: Obj = {
            "aud": audiences,
            "exp": issued + seconds,
            "iat": issued,
            "iss": ISSUER,
            "jti": str(uuid.uuid4()),
            "kubernetes.io": {
                "namespace": meta["namespace"],
                "serviceaccount": {"name": meta["name"], "uid": meta.get("uid", "")},
            },
            "nbf": issued,
            "sub": f"system:serviceaccount:{meta['namespace']}:{meta['name']}",
        }
        if bound and bound.get("kind") in ("Pod", "Secret", "Node"):
            claims["kubernetes.io"][bound["kind"].lower()] = {
                "name": bound.get("name", ""),
                "uid": bound.get("uid", ""),
            }
        header = _b64(json.dumps({"alg": "HS256", "kid": "storeplane-sim"}).encode())
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        return f"{header}.{payload}.{self._sign(f'{header}.{payload}')}", issued + seconds

    def _claims(self, token: str) -> Obj | None:
        parts = token.split(".")
        if len(parts) != 3 or not hmac.compare_digest(
            self._sign(f"{parts[0]}.{parts[1]}"), parts[2]
        ):
            return None
        try:
            claims = json.loads(_unb64(parts[1]))
        except ValueError:
            return None
        return claims if isinstance(claims, dict) else None

    def authenticate(
        self, authorization: str | None, find_account: Callable[[str, str], Obj | None]
    ) -> UserInfo | None:
        """The user an ``Authorization`` header proves, or None (answer 401)."""
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None
        if hmac.compare_digest(token.encode(), self.admin_token.encode()):
            return ADMIN
        claims = self._claims(token)
        if claims is None or claims.get("iss") != ISSUER:
            return None
        now = time.time()
        if not (claims.get("nbf", 0) - 60 <= now < claims.get("exp", 0)):
            return None
        if not set(claims.get("aud") or []) & set(API_AUDIENCES):
            return None
        info = claims.get("kubernetes.io") or {}
        namespace = info.get("namespace", "")
        sa = info.get("serviceaccount") or {}
        account = find_account(namespace, sa.get("name", ""))
        if account is None or account["metadata"].get("uid") != sa.get("uid"):
            return None
        extra = {CREDENTIAL_ID: [f"JTI={claims.get('jti', '')}"]}
        pod = info.get("pod")
        if isinstance(pod, dict):
            extra["authentication.kubernetes.io/pod-name"] = [pod.get("name", "")]
            extra["authentication.kubernetes.io/pod-uid"] = [pod.get("uid", "")]
        return UserInfo(
            name=str(claims.get("sub", "")),
            groups=(
                "system:serviceaccounts",
                f"system:serviceaccounts:{namespace}",
                "system:authenticated",
            ),
            uid=str(sa.get("uid", "")),
            extra=extra,
        )


def _creates(cluster: Cluster, attrs: Attributes, content_type: str) -> bool:
    """True for a server-side apply of an object that does not exist yet (a create)."""
    if attrs.verb != "patch" or not attrs.name or attrs.subresource:
        return False
    if not content_type.startswith("application/apply-patch"):
        return False
    kind = cluster.kinds.lookup(attrs.api_group, attrs.api_version, attrs.resource)
    if kind is None:
        return False
    namespace = attrs.namespace if kind.namespaced else None
    if kind.namespaced and not namespace:
        return False
    return not cluster.store.exists(cluster.key(kind, namespace, attrs.name))


def reader(cluster: Cluster) -> Callable[[str, str], list[Obj]]:
    """How the authorizer reads RBAC objects: straight from the store, no copies."""
    return cluster.store.values


def check(
    authority: TokenAuthority,
    cluster: Cluster,
    method: str,
    path: str,
    query: dict[str, str],
    authorization: str | None,
    content_type: str,
    impersonation: list[tuple[str, str]] | None = None,
) -> UserInfo:
    """Authenticate (and impersonate, with ``Impersonate-*`` headers: lower-case name, value)
    and authorize one request; ApiError 401/403 when it may not proceed."""
    sa_kind = lookup("", "v1", "serviceaccounts")
    assert sa_kind is not None

    def find_account(namespace: str, name: str) -> Obj | None:
        if not namespace or not name:
            return None
        return cluster.store.peek(cluster.key(sa_kind, namespace, name))

    user = authority.authenticate(authorization, find_account)
    if user is None:
        raise unauthorized()
    read = reader(cluster)
    user = impersonate(read, user, impersonation or [])
    attrs = resolve(user, method, path, query)
    decision = authorize(read, attrs)
    if not decision.allowed:
        raise forbidden(attrs, decision)
    if _creates(cluster, attrs, content_type):
        as_create = Attributes(**{**attrs.__dict__, "verb": "create"})
        created: Decision = authorize(read, as_create)
        if not created.allowed:
            raise forbidden_create(as_create, created)
    return user


class AuthMiddleware:
    """ASGI middleware running :func:`check` before the simulator's routes."""

    def __init__(
        self, app: ASGIApp, context: Callable[[], tuple[TokenAuthority, Cluster] | None]
    ) -> None:
        self.app = app
        self._context = context

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/sim/"):
            await self.app(scope, receive, send)
            return
        context = self._context()
        if context is None:
            error = ApiError(503, "ServiceUnavailable", "the simulator is not started")
            await JSONResponse(error.status_body(), error.code)(scope, receive, send)
            return
        pairs = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope["headers"]]
        headers = dict(pairs)
        query: dict[str, str] = {}
        for key, value in parse_qsl(scope.get("query_string", b"").decode("latin-1"), True):
            query.setdefault(key, value)
        try:
            user = check(
                *context,
                scope["method"],
                scope["path"],
                query,
                headers.get("authorization"),
                headers.get("content-type", ""),
                [(k, v) for k, v in pairs if k.startswith("impersonate-")],
            )
        except ApiError as exc:
            await JSONResponse(exc.status_body(), exc.code)(scope, receive, send)
            return
        scope.setdefault("state", {})["user"] = user
        await self.app(scope, receive, send)
