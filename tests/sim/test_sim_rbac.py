"""Authentication and RBAC (``SimulatorConfig(rbac=True)``): who a token is, what RBAC lets
it do, and the API server's 401/403 answers - over HTTPS, with httpx and with kubectl 1.35."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from storeplane.sim.admission.rbac import Attributes, UserInfo, authorize
from storeplane.sim.api.requestinfo import resolve
from storeplane.sim.runner import RunningSimulator, SimulatorConfig, start_in_thread

REPO = Path(__file__).resolve().parents[2]
KUBECTL = REPO / ".tools" / "bin" / "kubectl"
RBAC = "/apis/rbac.authorization.k8s.io/v1"
BOT = UserInfo("system:serviceaccount:team:bot", ("system:serviceaccounts", "system:authenticated"))


# --- the request-info resolver (pure) ---

RESOLVED = [
    ("GET", "/api/v1/namespaces/a/pods", {}, ("list", "", "pods", "", "a", "")),
    ("GET", "/api/v1/namespaces/a/pods", {"watch": "true"}, ("watch", "", "pods", "", "a", "")),
    ("GET", "/api/v1/pods", {"watch": "1"}, ("watch", "", "pods", "", "", "")),
    ("GET", "/api/v1/namespaces/a/pods/p", {}, ("get", "", "pods", "", "a", "p")),
    ("GET", "/api/v1/namespaces/a/pods/p/log", {}, ("get", "", "pods", "log", "a", "p")),
    ("GET", "/api/v1/namespaces/a/pods", {"fieldSelector": "metadata.name=p"},
     ("list", "", "pods", "", "a", "p")),
    ("POST", "/apis/apps/v1/namespaces/a/deployments", {},
     ("create", "apps", "deployments", "", "a", "")),
    ("PATCH", "/apis/apps/v1/namespaces/a/deployments/d", {},
     ("patch", "apps", "deployments", "", "a", "d")),
    ("PUT", "/apis/apps/v1/namespaces/a/deployments/d/scale", {},
     ("update", "apps", "deployments", "scale", "a", "d")),
    ("DELETE", "/api/v1/namespaces/a/configmaps", {},
     ("deletecollection", "", "configmaps", "", "a", "")),
    ("DELETE", "/api/v1/namespaces/a", {}, ("delete", "", "namespaces", "", "a", "a")),
    ("PUT", "/api/v1/namespaces/a/finalize", {}, ("update", "", "namespaces", "finalize", "a", "a")),
    ("GET", "/api/v1/namespaces", {}, ("list", "", "namespaces", "", "", "")),
    ("GET", "/api/v1/namespaces/a/services/web:80/proxy/health", {},
     ("get", "", "services", "proxy", "a", "web:80")),
    ("POST", "/api/v1/namespaces/a/serviceaccounts/sa/token", {},
     ("create", "", "serviceaccounts", "token", "a", "sa")),
]  # fmt: skip


@pytest.mark.parametrize(
    ("method", "path", "query", "expected"),
    RESOLVED,
    ids=[
        f"{m} {p} {q or ''} is {e[0]} {e[2]}{'/' + e[3] if e[3] else ''}" for m, p, q, e in RESOLVED
    ],
)
def test_a_request_resolves_to_the_verb_and_resource_rbac_checks(
    method: str, path: str, query: dict[str, str], expected: tuple[str, ...]
) -> None:
    attrs = resolve(BOT, method, path, query)
    assert attrs.resource_request
    got = (attrs.verb, attrs.api_group, attrs.resource, attrs.subresource, attrs.namespace,
           attrs.name)  # fmt: skip
    assert got == expected


@pytest.mark.parametrize("path", ["/api", "/apis", "/apis/apps", "/api/v1", "/version",
                                  "/openapi/v3", "/healthz"])  # fmt: skip
def test_discovery_and_other_urls_are_non_resource_requests(path: str) -> None:
    attrs = resolve(BOT, "GET", path, {})
    assert not attrs.resource_request and attrs.verb == "get" and attrs.path == path


# --- rule matching (pure, over an in-memory reader) ---


def _reader(objects: dict[tuple[str, str], list[dict[str, Any]]]) -> Any:
    return lambda resource, namespace: objects.get((resource, namespace), [])


def _bound(rules: list[dict[str, Any]], namespace: str = "team") -> Any:
    role = {"metadata": {"name": "r", "namespace": namespace}, "rules": rules}
    binding = {
        "metadata": {"name": "b", "namespace": namespace},
        "roleRef": {"kind": "Role", "name": "r"},
        "subjects": [{"kind": "ServiceAccount", "name": "bot"}],  # namespace: the binding's
    }
    return _reader({("roles.rbac.authorization.k8s.io", namespace): [role],
                    ("rolebindings.rbac.authorization.k8s.io", namespace): [binding]})  # fmt: skip


def _ask(verb: str, resource: str, *, group: str = "", sub: str = "", name: str = "",
         namespace: str = "team") -> Attributes:  # fmt: skip
    return Attributes(BOT, verb, True, api_group=group, resource=resource, subresource=sub,
                      namespace=namespace, name=name)  # fmt: skip


RULE_CASES = [
    ("a listed verb and resource is allowed",
     {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}, _ask("get", "pods"), True),
    ("another verb is not", {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]},
     _ask("list", "pods"), False),
    ("a star verb allows every verb", {"apiGroups": [""], "resources": ["pods"], "verbs": ["*"]},
     _ask("deletecollection", "pods"), True),
    ("the group must match", {"apiGroups": [""], "resources": ["deployments"], "verbs": ["get"]},
     _ask("get", "deployments", group="apps"), False),
    ("a star group matches any", {"apiGroups": ["*"], "resources": ["deployments"],
     "verbs": ["get"]}, _ask("get", "deployments", group="apps"), True),
    ("a resource does not grant its subresources",
     {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]},
     _ask("get", "pods", sub="log", name="p"), False),
    ("pods/log grants the log", {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
     _ask("get", "pods", sub="log", name="p"), True),
    ("*/scale grants every scale subresource",
     {"apiGroups": ["apps"], "resources": ["*/scale"], "verbs": ["update"]},
     _ask("update", "deployments", group="apps", sub="scale", name="d"), True),
    ("resourceNames allow the named object",
     {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"], "resourceNames": ["c"]},
     _ask("get", "configmaps", name="c"), True),
    ("resourceNames refuse another object",
     {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"], "resourceNames": ["c"]},
     _ask("get", "configmaps", name="d"), False),
    ("resourceNames refuse a list of all",
     {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["list"], "resourceNames": ["c"]},
     _ask("list", "configmaps"), False),
    ("a RoleBinding does not reach another namespace",
     {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]},
     _ask("get", "pods", namespace="other"), False),
    ("a RoleBinding does not reach cluster scope",
     {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["list"]},
     _ask("list", "namespaces", namespace=""), False),
]  # fmt: skip


@pytest.mark.parametrize(("why", "rule", "attrs", "allowed"), RULE_CASES,
                         ids=[c[0] for c in RULE_CASES])  # fmt: skip
def test_rules_match_as_kubernetes_matches_them(
    why: str, rule: dict[str, Any], attrs: Attributes, allowed: bool
) -> None:
    assert authorize(_bound([rule]), attrs).allowed is allowed


def test_non_resource_urls_match_exactly_or_by_a_trailing_star() -> None:
    role = {
        "metadata": {"name": "urls"},
        "rules": [{"nonResourceURLs": ["/healthz", "/apis/*"], "verbs": ["get"]}],
    }
    binding = {
        "metadata": {"name": "urls"},
        "roleRef": {"kind": "ClusterRole", "name": "urls"},
        "subjects": [{"kind": "Group", "name": "system:authenticated"}],
    }
    read = _reader({("clusterroles.rbac.authorization.k8s.io", ""): [role],
                    ("clusterrolebindings.rbac.authorization.k8s.io", ""): [binding]})  # fmt: skip

    def url(path: str) -> bool:
        return authorize(read, Attributes(BOT, "get", False, path=path)).allowed

    assert url("/healthz") and url("/apis/apps/v1") and not url("/healthz/etcd")
    assert not url("/version")


def test_an_aggregated_cluster_role_has_the_rules_of_the_roles_it_selects() -> None:
    parent = {
        "metadata": {"name": "parent"},
        "rules": [],
        "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"agg": "yes"}}]},
    }
    child = {
        "metadata": {"name": "child", "labels": {"agg": "yes"}},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}],
    }
    binding = {
        "metadata": {"name": "b"},
        "roleRef": {"kind": "ClusterRole", "name": "parent"},
        "subjects": [{"kind": "User", "name": BOT.name}],
    }
    read = _reader({("clusterroles.rbac.authorization.k8s.io", ""): [parent, child],
                    ("clusterrolebindings.rbac.authorization.k8s.io", ""): [binding]})  # fmt: skip
    decision = authorize(read, _ask("get", "pods"))
    assert decision.allowed
    assert decision.reason == (
        f'RBAC: allowed by ClusterRoleBinding "b" of ClusterRole "parent" to User "{BOT.name}"'
    )


# --- over HTTP ---


@pytest.fixture(scope="module")
def rbac_sim() -> Iterator[RunningSimulator]:
    with start_in_thread(SimulatorConfig(rbac=True, controllers=False)) as running:
        yield running


def _client(sim: RunningSimulator, token: str | None) -> httpx.Client:
    assert sim.serving_cert is not None
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=sim.url, headers=headers, timeout=5,
                        verify=sim.serving_cert.client_context())  # fmt: skip


@pytest.fixture
def admin(rbac_sim: RunningSimulator) -> Iterator[httpx.Client]:
    with _client(rbac_sim, rbac_sim.admin_token) as client:
        yield client


@pytest.fixture
def team(admin: httpx.Client) -> str:
    """A fresh namespace with a ServiceAccount ``bot`` that has no rights."""
    response = admin.post("/api/v1/namespaces", json={"metadata": {"generateName": "team-"}})
    assert response.status_code == 201, response.text
    namespace = str(response.json()["metadata"]["name"])
    created = admin.post(f"/api/v1/namespaces/{namespace}/serviceaccounts",
                         json={"metadata": {"name": "bot"}})  # fmt: skip
    assert created.status_code == 201, created.text
    return namespace


def _token(admin: httpx.Client, namespace: str, name: str = "bot", **spec: Any) -> str:
    response = admin.post(f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token",
                          json={"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
                                "spec": spec})  # fmt: skip
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["kind"] == "TokenRequest" and body["status"]["expirationTimestamp"]
    return str(body["status"]["token"])


def _grant(admin: httpx.Client, namespace: str, rules: list[dict[str, Any]]) -> None:
    role = {"metadata": {"name": "bot"}, "rules": rules}
    assert admin.post(f"{RBAC}/namespaces/{namespace}/roles", json=role).status_code == 201
    binding = {
        "metadata": {"name": "bot"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "bot"},
        "subjects": [{"kind": "ServiceAccount", "name": "bot", "namespace": namespace}],
    }
    assert (
        admin.post(f"{RBAC}/namespaces/{namespace}/rolebindings", json=binding).status_code == 201
    )


UNAUTHORIZED = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": "Unauthorized", "reason": "Unauthorized", "code": 401}  # fmt: skip


@pytest.mark.parametrize("token", [None, "not-a-token", "a.b.c"],
                         ids=["no token", "an unknown token", "a forged token"])  # fmt: skip
def test_a_request_without_a_valid_token_is_401_unauthorized(
    rbac_sim: RunningSimulator, token: str | None
) -> None:
    with _client(rbac_sim, token) as client:
        for path in ("/api", "/api/v1/namespaces", "/version"):
            response = client.get(path)
            assert response.status_code == 401 and response.json() == UNAUTHORIZED


def test_the_simulator_api_needs_no_token(rbac_sim: RunningSimulator) -> None:
    with _client(rbac_sim, None) as client:
        assert client.get("/sim/v1/stats").status_code == 200


def test_a_token_without_rights_gets_403_on_its_first_write(admin: httpx.Client, team: str,
                                                            rbac_sim: RunningSimulator) -> None:  # fmt: skip
    with _client(rbac_sim, _token(admin, team)) as bot:
        assert bot.get("/api").status_code == 200  # discovery: system:discovery
        response = bot.post(f"/api/v1/namespaces/{team}/configmaps",
                            json={"metadata": {"name": "c"}})  # fmt: skip
        assert response.status_code == 403
        assert response.json() == {
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": f'configmaps is forbidden: User "system:serviceaccount:{team}:bot" '
                       f'cannot create resource "configmaps" in API group "" in the namespace '
                       f'"{team}"',
            "reason": "Forbidden", "details": {"kind": "configmaps"}, "code": 403,
        }  # fmt: skip
        named = bot.delete(f"/apis/apps/v1/namespaces/{team}/deployments/web")
        assert named.json()["message"] == (
            f'deployments.apps "web" is forbidden: User "system:serviceaccount:{team}:bot" '
            f'cannot delete resource "deployments" in API group "apps" in the namespace "{team}"'
        )
        assert named.json()["details"] == {"name": "web", "group": "apps", "kind": "deployments"}
        cluster = bot.post("/api/v1/namespaces", json={"metadata": {"name": "mine"}})
        assert cluster.status_code == 403 and cluster.json()["message"] == (
            f'namespaces is forbidden: User "system:serviceaccount:{team}:bot" cannot create '
            'resource "namespaces" in API group "" at the cluster scope'
        )


def test_a_role_binding_grants_its_rules_in_its_namespace_only(
    admin: httpx.Client, team: str, rbac_sim: RunningSimulator
) -> None:
    _grant(admin, team, [{"apiGroups": [""], "resources": ["configmaps"],
                          "verbs": ["get", "list", "create"]}])  # fmt: skip
    with _client(rbac_sim, _token(admin, team)) as bot:
        created = bot.post(
            f"/api/v1/namespaces/{team}/configmaps", json={"metadata": {"name": "c"}}
        )
        assert created.status_code == 201, created.text
        assert bot.get(f"/api/v1/namespaces/{team}/configmaps/c").status_code == 200
        assert bot.get(f"/api/v1/namespaces/{team}/configmaps").status_code == 200
        assert bot.get(f"/api/v1/namespaces/{team}/configmaps?watch=true").status_code == 403
        assert bot.delete(f"/api/v1/namespaces/{team}/configmaps/c").status_code == 403
        assert bot.get("/api/v1/namespaces/default/configmaps").status_code == 403
        assert bot.get("/api/v1/configmaps").status_code == 403  # all namespaces: cluster scope


def test_server_side_apply_of_a_new_object_also_needs_create(
    admin: httpx.Client, team: str, rbac_sim: RunningSimulator
) -> None:
    _grant(admin, team, [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["patch"]}])
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}}
    apply = {"Content-Type": "application/apply-patch+yaml"}
    url = f"/api/v1/namespaces/{team}/configmaps/c?fieldManager=bot"
    with _client(rbac_sim, _token(admin, team)) as bot:
        refused = bot.patch(url, json=body, headers=apply)
        assert refused.status_code == 403
        # the handler's own check: the authorizer's reason only, which RBAC leaves empty
        assert refused.json()["message"] == 'configmaps "c" is forbidden: '
        assert admin.post(f"/api/v1/namespaces/{team}/configmaps",
                          json={"metadata": {"name": "c"}}).status_code == 201  # fmt: skip
        assert bot.patch(url, json=body, headers=apply).status_code == 200


def test_a_binding_to_a_missing_role_says_so_in_the_refusal(
    admin: httpx.Client, team: str, rbac_sim: RunningSimulator
) -> None:
    binding = {"metadata": {"name": f"{team}-ghost"},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                           "name": "ghost"},
               "subjects": [{"kind": "ServiceAccount", "name": "bot", "namespace": team}]}  # fmt: skip
    assert admin.post(f"{RBAC}/clusterrolebindings", json=binding).status_code == 201
    with _client(rbac_sim, _token(admin, team)) as bot:
        message = bot.get(f"/api/v1/namespaces/{team}/pods").json()["message"]
    assert message.endswith(': RBAC: clusterrole.rbac.authorization.k8s.io "ghost" not found')


def test_a_token_dies_with_its_service_account(
    admin: httpx.Client, team: str, rbac_sim: RunningSimulator
) -> None:
    token = _token(admin, team)
    with _client(rbac_sim, token) as bot:
        assert bot.get("/api").status_code == 200
        assert admin.delete(f"/api/v1/namespaces/{team}/serviceaccounts/bot").status_code == 200
        assert bot.get("/api").status_code == 401
        # a new ServiceAccount of the same name is another identity: the old token stays dead
        admin.post(f"/api/v1/namespaces/{team}/serviceaccounts", json={"metadata": {"name": "bot"}})
        assert bot.get("/api").status_code == 401


TOKEN_REFUSALS = [
    ("a missing ServiceAccount is 404", "ghost", {}, 404,
     'serviceaccounts "ghost" not found'),
    ("under ten minutes is invalid", "bot", {"expirationSeconds": 599}, 422,
     'TokenRequest.authentication.k8s.io "bot" is invalid: spec.expirationSeconds: Invalid '
     "value: 599: may not specify a duration less than 10 minutes"),
    ("a bound pod that does not exist is 404", "bot",
     {"boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "p"}}, 404,
     'pods "p" not found'),
]  # fmt: skip


@pytest.mark.parametrize(("why", "name", "spec", "code", "message"), TOKEN_REFUSALS,
                         ids=[c[0] for c in TOKEN_REFUSALS])  # fmt: skip
def test_token_requests_are_checked(
    admin: httpx.Client, team: str, why: str, name: str, spec: dict[str, Any], code: int,
    message: str,
) -> None:  # fmt: skip
    response = admin.post(f"/api/v1/namespaces/{team}/serviceaccounts/{name}/token",
                          json={"spec": spec})  # fmt: skip
    assert response.status_code == code and response.json()["message"] == message


def test_a_token_for_another_audience_is_not_accepted_by_the_api_server(
    admin: httpx.Client, team: str, rbac_sim: RunningSimulator
) -> None:
    with _client(rbac_sim, _token(admin, team, audiences=["vault"])) as bot:
        assert bot.get("/api").status_code == 401


def test_reviews_answer_for_the_asking_user(
    admin: httpx.Client, team: str, rbac_sim: RunningSimulator
) -> None:
    _grant(
        admin, team, [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["create"]}]
    )
    review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
              "spec": {"resourceAttributes": {"verb": "create", "group": "apps",
                                              "resource": "deployments", "namespace": team}}}  # fmt: skip
    with _client(rbac_sim, _token(admin, team)) as bot:
        allowed = bot.post("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", json=review)
        assert allowed.status_code == 201 and allowed.json()["status"]["allowed"] is True
        assert allowed.json()["status"]["reason"] == (
            f'RBAC: allowed by RoleBinding "bot/{team}" of Role "bot" to ServiceAccount "bot/{team}"'
        )
        review["spec"]["resourceAttributes"]["namespace"] = "default"
        denied = bot.post("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", json=review)
        assert denied.json()["status"] == {"allowed": False}
        me = bot.post("/apis/authentication.k8s.io/v1/selfsubjectreviews", json={}).json()
        assert me["status"]["userInfo"]["username"] == f"system:serviceaccount:{team}:bot"
        assert me["status"]["userInfo"]["groups"] == [
            "system:serviceaccounts", f"system:serviceaccounts:{team}", "system:authenticated"
        ]  # fmt: skip


def test_tokens_and_the_admin_survive_a_restart_on_the_state_file(tmp_path: Path) -> None:
    config = SimulatorConfig(rbac=True, controllers=False, state_path=tmp_path / "state.db")
    with start_in_thread(config) as first, _client(first, first.admin_token) as admin:
        admin.post("/api/v1/namespaces", json={"metadata": {"name": "team"}}).raise_for_status()
        admin.post("/api/v1/namespaces/team/serviceaccounts",
                   json={"metadata": {"name": "bot"}}).raise_for_status()  # fmt: skip
        token, admin_token, ca = _token(admin, "team"), first.admin_token, first.ca_pem
    with start_in_thread(config) as second:
        assert second.admin_token == admin_token and second.ca_pem == ca
        with _client(second, token) as bot:
            assert bot.post("/apis/authentication.k8s.io/v1/selfsubjectreviews",
                            json={}).status_code == 201  # fmt: skip


# --- with kubectl 1.35 ---


def kubectl(kubeconfig: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert KUBECTL.exists(), "run scripts/setup.sh: the kubectl checks need .tools/bin/kubectl"
    return subprocess.run([str(KUBECTL), "--kubeconfig", str(kubeconfig), "--request-timeout=5s",
                           *args], capture_output=True, text=True, timeout=30, check=False)  # fmt: skip


def test_kubectl_auth_can_i_and_whoami_for_the_admin_and_a_service_account(
    rbac_sim: RunningSimulator, admin: httpx.Client, team: str, tmp_path: Path
) -> None:
    as_admin = rbac_sim.write_kubeconfig(tmp_path / "admin")
    whoami = kubectl(as_admin, "auth", "whoami")
    assert whoami.returncode == 0, whoami.stderr
    assert "admin" in whoami.stdout and "system:masters" in whoami.stdout
    yes = kubectl(as_admin, "auth", "can-i", "create", "deployments", "-n", team)
    assert (yes.returncode, yes.stdout.strip()) == (0, "yes")

    made = kubectl(as_admin, "create", "token", "bot", "-n", team)
    assert made.returncode == 0, made.stderr
    as_bot = rbac_sim.write_kubeconfig(tmp_path / "bot", token=made.stdout.strip())
    whoami = kubectl(as_bot, "auth", "whoami")
    assert f"system:serviceaccount:{team}:bot" in whoami.stdout, whoami.stderr
    no = kubectl(as_bot, "auth", "can-i", "create", "deployments", "-n", team)
    assert (no.returncode, no.stdout.strip()) == (1, "no"), no.stderr
    _grant(
        admin, team, [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["create"]}]
    )
    yes = kubectl(as_bot, "auth", "can-i", "create", "deployments", "-n", team)
    assert (yes.returncode, yes.stdout.strip()) == (0, "yes"), yes.stderr
    elsewhere = kubectl(as_bot, "auth", "can-i", "create", "deployments", "-n", "default")
    assert (elsewhere.returncode, elsewhere.stdout.strip()) == (1, "no")

    refused = kubectl(as_bot, "get", "pods", "-n", team)
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        f'Error from server (Forbidden): pods is forbidden: User "system:serviceaccount:{team}:bot" '
        f'cannot list resource "pods" in API group "" in the namespace "{team}"'
    )
    nobody = rbac_sim.write_kubeconfig(tmp_path / "nobody", token="not-a-token")
    unauthorized = kubectl(nobody, "get", "namespaces")
    assert "You must be logged in to the server" in unauthorized.stderr


# --- with helm 4 ---

HELM = REPO / ".tools" / "bin" / "helm"


def helm(kubeconfig: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert HELM.exists(), "run scripts/setup.sh: the helm checks need .tools/bin/helm"
    return subprocess.run([str(HELM), "--kubeconfig", str(kubeconfig), *args],
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip


def test_helm_installs_where_a_role_binding_allows_and_is_refused_elsewhere(
    rbac_sim: RunningSimulator, admin: httpx.Client, team: str, tmp_path: Path
) -> None:
    created = helm(tmp_path / "none", "create", str(tmp_path / "demo"))
    assert created.returncode == 0, created.stderr
    binding = {"metadata": {"name": "bot-admin"},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                           "name": "cluster-admin"},
               "subjects": [{"kind": "ServiceAccount", "name": "bot", "namespace": team}]}  # fmt: skip
    assert admin.post(f"{RBAC}/namespaces/{team}/rolebindings", json=binding).status_code == 201
    as_bot = rbac_sim.write_kubeconfig(tmp_path / "bot", token=_token(admin, team))
    installed = helm(as_bot, "install", "demo", str(tmp_path / "demo"), "-n", team)
    assert installed.returncode == 0, installed.stderr
    assert "STATUS: deployed" in installed.stdout
    refused = helm(as_bot, "install", "demo", str(tmp_path / "demo"), "-n", "default")
    assert refused.returncode == 1
    assert (
        f'serviceaccounts "demo" is forbidden: User "system:serviceaccount:{team}:bot" cannot '
        'get resource "serviceaccounts" in API group "" in the namespace "default"'
    ) in refused.stderr


# --- with the official Python client ---


def test_the_python_client_authenticates_with_a_service_account_token(
    rbac_sim: RunningSimulator, admin: httpx.Client, team: str, tmp_path: Path
) -> None:
    from kubernetes import client as k8s_client
    from kubernetes import config as k8s_config
    from kubernetes.client.rest import ApiException

    _grant(admin, team, [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["list"]}])
    path = rbac_sim.write_kubeconfig(tmp_path / "bot", token=_token(admin, team))
    core = k8s_client.CoreV1Api(k8s_config.new_client_from_config(str(path)))
    assert core.list_namespaced_config_map(team).items == []
    with pytest.raises(ApiException) as refused:
        core.list_namespaced_secret(team)
    assert refused.value.status == 403
    assert json.loads(refused.value.body)["message"] == (
        f'secrets is forbidden: User "system:serviceaccount:{team}:bot" cannot list resource '
        f'"secrets" in API group "" in the namespace "{team}"'
    )


def test_kubectl_as_impersonates_when_allowed_and_is_refused_otherwise(
    rbac_sim: RunningSimulator, admin: httpx.Client, team: str, tmp_path: Path
) -> None:
    as_admin = rbac_sim.write_kubeconfig(tmp_path / "admin")
    bot = f"system:serviceaccount:{team}:bot"
    # system:masters may impersonate anyone: can-i answers for the ServiceAccount
    no = kubectl(as_admin, "auth", "can-i", "create", "deployments", "-n", team, f"--as={bot}")
    assert (no.returncode, no.stdout.strip()) == (1, "no"), no.stderr
    whoami = kubectl(as_admin, "auth", "whoami", f"--as={bot}")
    assert bot in whoami.stdout and f"system:serviceaccounts:{team}" in whoami.stdout
    grouped = kubectl(as_admin, "auth", "whoami", "--as=alice", "--as-group=devs")
    assert "alice" in grouped.stdout and "[devs system:authenticated]" in grouped.stdout
    # a ServiceAccount may not impersonate without the impersonate verb
    as_bot = rbac_sim.write_kubeconfig(tmp_path / "bot", token=_token(admin, team))
    refused = kubectl(as_bot, "get", "pods", "-n", team, "--as=admin")
    assert refused.stderr.strip() == (
        f'Error from server (Forbidden): users "admin" is forbidden: User "{bot}" cannot '
        'impersonate resource "users" in API group "" at the cluster scope'
    )
