"""User impersonation (``kubectl --as``, ``--as-group``; the ``Impersonate-*`` headers), as
the API server's impersonation filter does it. Called by :func:`storeplane.sim.api.auth.check`
after authentication, when RBAC is on.

Each thing impersonated must be allowed to the real user with the verb ``impersonate``:
``users`` (by name; a ServiceAccount's user name is checked as ``serviceaccounts`` in its
namespace), ``groups``, ``uids`` and ``userextras/<key>`` (group ``authentication.k8s.io``).
The request then runs as the impersonated user: its groups are the ``Impersonate-Group``
values (a ServiceAccount gets its two ServiceAccount groups when none are given) plus
``system:authenticated``. ``system:masters`` may impersonate anyone, so
``kubectl auth can-i ... --as=system:serviceaccount:ns:sa`` works for the admin.
"""

from __future__ import annotations

from ..admission.rbac import SA_PREFIX, Attributes, Reader, UserInfo, authorize, forbidden
from ..errors import bad_request

_USER = "impersonate-user"
_GROUP = "impersonate-group"
_UID = "impersonate-uid"
_EXTRA = "impersonate-extra-"
AUTH_GROUP = "authentication.k8s.io"


def _allowed(read: Reader, attrs: Attributes) -> None:
    decision = authorize(read, attrs)
    if not decision.allowed:
        raise forbidden(attrs, decision)


def impersonate(read: Reader, user: UserInfo, headers: list[tuple[str, str]]) -> UserInfo:
    """The user a request runs as: ``user`` itself without ``Impersonate-*`` headers (given
    with lower-case names), else the impersonated one. ApiError 403/400 when refused."""
    wanted = [(k, v) for k, v in headers if k.startswith("impersonate-")]
    if not wanted:
        return user
    names = [v for k, v in wanted if k == _USER]
    groups = [v for k, v in wanted if k == _GROUP]
    uids = [v for k, v in wanted if k == _UID]
    extra: dict[str, list[str]] = {}
    for key, value in wanted:
        if key.startswith(_EXTRA):
            extra.setdefault(key[len(_EXTRA) :], []).append(value)
    if not names:
        raise bad_request(f"requested {wanted} without impersonating a user")
    name = names[0]

    def ask(
        resource: str, target: str, group: str = "", namespace: str = "", sub: str = ""
    ) -> None:
        _allowed(read, Attributes(user, "impersonate", True, api_group=group, resource=resource,
                                  subresource=sub, namespace=namespace, name=target))  # fmt: skip

    sa_groups: tuple[str, ...] = ()
    if name.startswith(SA_PREFIX) and name.count(":") == 3:
        namespace, account = name[len(SA_PREFIX) :].split(":")
        ask("serviceaccounts", account, namespace=namespace)
        sa_groups = ("system:serviceaccounts", f"system:serviceaccounts:{namespace}")
    else:
        ask("users", name)
    for group in groups:
        ask("groups", group)
    for uid in uids:
        ask("uids", uid, AUTH_GROUP)
    for key, values in extra.items():
        for value in values:
            ask("userextras", value, AUTH_GROUP, sub=key)
    final = tuple(groups) if groups else sa_groups
    if name != "system:anonymous" and "system:authenticated" not in final:
        final += ("system:authenticated",)
    return UserInfo(name, final, uids[0] if uids else "", extra)
