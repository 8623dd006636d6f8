"""Store isolation, proven over exactly the objects storeplane applies for a store: the
platform objects (``reconciler/manifests.py``) and each engine's chart rendered by the real
helm, as ``reconciler/desired.py`` assembles them for a pass.

What is proven, per engine:

* **Network**: a default-deny policy selects every pod for ingress and egress; every other
  rule opens one of DNS (kube-dns in kube-system, port 53), the store's own namespace, or
  (ingress only) the ingress controller's namespace. The one exception is honest and narrow:
  the WooCommerce chart adds ``setup-egress``, which lets the setup Job's pods, and no other
  pod, open TCP connections to public addresses on port 443 (``wp plugin install`` downloads
  WooCommerce from wordpress.org). The evaluation below computes, for every pod template the
  chart renders, which peers it may reach, so a policy that widened anything else fails.
* **Pod Security**: the namespace enforces ``restricted`` (and warns/audits against it), and
  every pod template meets what ``restricted`` checks (non-root, no privilege escalation, all
  capabilities dropped, RuntimeDefault seccomp, no host namespaces, paths or ports).
* **No Kubernetes API access**: the ServiceAccount has no automounted token, every pod runs
  as it with automounting off, and no Role or binding is created.
* **Nothing outside the namespace**: the store's own Namespace is the only cluster-scoped
  object; everything else is namespaced and placed in it.
* **Secrets** are generated with :mod:`secrets`, fresh per store, and created once.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from storeplane.domain.plans import PlanName
from storeplane.domain.store import Engine, Store, StoreSpec
from storeplane.engines import Exposure, profile_for
from storeplane.reconciler.context import ReconcileContext
from storeplane.reconciler.desired import DesiredState, desired_state
from storeplane.reconciler.manifests import PlatformConfig
from storeplane.render import RenderCache
from storeplane.render.charts import CHARTS_DIR

INGRESS_NAMESPACE = "ingress-nginx"
NAMESPACED_KINDS = {
    "ConfigMap",
    "Deployment",
    "Ingress",
    "Job",
    "LimitRange",
    "NetworkPolicy",
    "PersistentVolumeClaim",
    "ResourceQuota",
    "Secret",
    "Service",
    "ServiceAccount",
    "StatefulSet",
}
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "Job"}
RBAC_KINDS = {"Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"}

# What a peer in a rule may be; anything else fails the test.
SAME_NAMESPACE = "same namespace"
DNS = "DNS (kube-dns, port 53)"
INGRESS_CONTROLLER = "the ingress controller"
PUBLIC_HTTPS = "public addresses on TCP 443"


def make_store(engine: Engine) -> Store:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return Store.create(
        StoreSpec(name="isolated-shop", engine=engine, plan=PlanName.SMALL),
        store_id="store-iso12345",
        url=None,
        now=now,
        deadline=timedelta(minutes=10),
    )


def desired(engine: Engine, tls: bool = False) -> DesiredState:
    ctx = ReconcileContext(
        cluster=None,  # type: ignore[arg-type]  # desired_state never touches the cluster
        renderer=RenderCache(),
        charts_dir=CHARTS_DIR,
        exposure=Exposure(tls=tls, cluster_issuer="letsencrypt" if tls else ""),
        platform=PlatformConfig(ingress_namespace=INGRESS_NAMESPACE),
    )
    return asyncio.run(desired_state(make_store(engine), ctx))


@pytest.fixture(scope="module", params=list(Engine), ids=[e.value for e in Engine])
def state(request: pytest.FixtureRequest) -> DesiredState:
    result: DesiredState = desired(request.param)
    return result


def every_object(state: DesiredState) -> list[dict[str, Any]]:
    return [state.namespace, *state.policies, *state.create_once, *state.workloads]


def pod_templates(state: DesiredState) -> Iterator[tuple[str, dict[str, Any]]]:
    for obj in state.workloads:
        if obj["kind"] in WORKLOAD_KINDS:
            yield f"{obj['kind']} {obj['metadata']['name']}", obj["spec"]["template"]


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    assert "matchExpressions" not in selector, "extend this evaluator for matchExpressions"
    return all(labels.get(k) == v for k, v in (selector.get("matchLabels") or {}).items())


def classify(peer: dict[str, Any], ports: list[dict[str, Any]], direction: str) -> str:
    """What one peer of a NetworkPolicy rule opens, in words; fails for anything unexpected."""
    keys = set(peer)
    if keys == {"podSelector"} and peer["podSelector"] == {}:
        return SAME_NAMESPACE
    namespace = (peer.get("namespaceSelector") or {}).get("matchLabels", {})
    if (
        direction == "egress"
        and keys == {"namespaceSelector", "podSelector"}
        and namespace == {"kubernetes.io/metadata.name": "kube-system"}
        and peer["podSelector"] == {"matchLabels": {"k8s-app": "kube-dns"}}
        and ports
        and {p["port"] for p in ports} == {53}
    ):
        return DNS
    if (
        direction == "ingress"
        and keys == {"namespaceSelector"}
        and namespace == {"kubernetes.io/metadata.name": INGRESS_NAMESPACE}
    ):
        return INGRESS_CONTROLLER
    if (
        direction == "egress"
        and keys == {"ipBlock"}
        and ports
        and all(p == {"protocol": "TCP", "port": 443} for p in ports)
    ):
        return PUBLIC_HTTPS
    raise AssertionError(f"unexpected {direction} peer {peer} on ports {ports}")


def openings(policy: dict[str, Any], direction: str) -> set[str]:
    opened: set[str] = set()
    for rule in policy["spec"].get(direction, []):
        peers = rule.get("from" if direction == "ingress" else "to")
        assert peers, (
            f"{policy['metadata']['name']}: a {direction} rule without peers opens everything"
        )
        opened |= {classify(peer, rule.get("ports", []), direction) for peer in peers}
    return opened


def reachable(state: DesiredState, labels: dict[str, str]) -> dict[str, set[str]]:
    """For a pod with ``labels``: whether each direction is isolated, and what is open."""
    policies = [o for o in every_object(state) if o["kind"] == "NetworkPolicy"]
    result: dict[str, set[str]] = {"ingress": set(), "egress": set()}
    isolated = {"ingress": False, "egress": False}
    for policy in policies:
        if not selects(policy["spec"]["podSelector"], labels):
            continue
        for direction in ("ingress", "egress"):
            if direction.capitalize() in policy["spec"].get("policyTypes", []):
                isolated[direction] = True
                result[direction] |= openings(policy, direction)
    assert all(isolated.values()), f"a pod with labels {labels} is not isolated: {isolated}"
    return result


def test_a_default_deny_policy_selects_every_pod_both_ways(state: DesiredState) -> None:
    deny = [o for o in state.policies if o["metadata"]["name"] == "default-deny"]
    assert len(deny) == 1
    spec = deny[0]["spec"]
    assert spec["podSelector"] == {}
    assert sorted(spec["policyTypes"]) == ["Egress", "Ingress"]
    assert "ingress" not in spec and "egress" not in spec


def test_every_pod_may_reach_only_dns_its_namespace_and_be_reached_from_the_ingress_controller(
    state: DesiredState,
) -> None:
    templates = dict(pod_templates(state))
    assert templates
    for where, template in templates.items():
        labels = template["metadata"]["labels"]
        open_ = reachable(state, labels)
        assert open_["ingress"] == {SAME_NAMESPACE, INGRESS_CONTROLLER}, where
        expected_egress = {DNS, SAME_NAMESPACE}
        if where.startswith("Job") and labels.get("app.kubernetes.io/component") == "setup":
            expected_egress.add(PUBLIC_HTTPS)  # the WooCommerce setup Job: see the docstring
        assert open_["egress"] == expected_egress, where


def test_the_only_extra_opening_is_the_woocommerce_setup_jobs_https_egress(
    state: DesiredState,
) -> None:
    from_charts = [o for o in state.workloads if o["kind"] == "NetworkPolicy"]
    engine = state.namespace["metadata"]["labels"]["storeplane.dev/engine"]
    if engine == Engine.MEDUSA.value:
        assert from_charts == []
        return
    assert [o["metadata"]["name"] for o in from_charts] == ["woocommerce-setup-egress"]
    (policy,) = from_charts
    assert policy["spec"]["policyTypes"] == ["Egress"]
    selected = [
        where
        for where, template in pod_templates(state)
        if selects(policy["spec"]["podSelector"], template["metadata"]["labels"])
    ]
    assert len(selected) == 1 and selected[0].startswith("Job woocommerce-setup-"), selected
    assert openings(policy, "egress") == {PUBLIC_HTTPS}


def test_the_namespace_enforces_the_restricted_pod_security_standard(state: DesiredState) -> None:
    labels = state.namespace["metadata"]["labels"]
    engine = Engine(labels["storeplane.dev/engine"])
    assert profile_for(engine).pod_security == "restricted"
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert labels["pod-security.kubernetes.io/warn"] == "restricted"
    assert labels["pod-security.kubernetes.io/audit"] == "restricted"


def test_every_pod_meets_the_restricted_standard(state: DesiredState) -> None:
    for where, template in pod_templates(state):
        spec = template["spec"]
        pod_ctx = spec.get("securityContext", {})
        for flag in ("hostNetwork", "hostPID", "hostIPC"):
            assert not spec.get(flag), f"{where}: {flag}"
        assert not [v for v in spec.get("volumes", []) if "hostPath" in v], where
        containers = spec.get("containers", []) + spec.get("initContainers", [])
        for container in containers:
            name = f"{where} container {container['name']}"
            ctx = container.get("securityContext", {})
            assert ctx.get("runAsNonRoot", pod_ctx.get("runAsNonRoot")) is True, name
            assert ctx.get("runAsUser", pod_ctx.get("runAsUser", 1)) != 0, name
            assert ctx.get("allowPrivilegeEscalation") is False, name
            assert not ctx.get("privileged"), name
            assert ctx.get("capabilities", {}).get("drop") == ["ALL"], name
            assert not set(ctx.get("capabilities", {}).get("add", [])) - {"NET_BIND_SERVICE"}, name
            seccomp = ctx.get("seccompProfile", pod_ctx.get("seccompProfile", {}))
            assert seccomp.get("type") in ("RuntimeDefault", "Localhost"), name
            assert not [p for p in container.get("ports", []) if p.get("hostPort")], name


def test_pods_get_no_kubernetes_api_token_and_no_role(state: DesiredState) -> None:
    accounts = [o for o in state.policies if o["kind"] == "ServiceAccount"]
    assert len(accounts) == 1 and accounts[0]["automountServiceAccountToken"] is False
    for where, template in pod_templates(state):
        assert template["spec"].get("serviceAccountName") == accounts[0]["metadata"]["name"], where
        assert template["spec"].get("automountServiceAccountToken") is False, where
    assert not [o for o in every_object(state) if o["kind"] in RBAC_KINDS]


def test_nothing_is_created_outside_the_store_namespace(state: DesiredState) -> None:
    namespace = state.namespace["metadata"]["name"]
    assert state.namespace["kind"] == "Namespace"
    for obj in every_object(state)[1:]:
        where = f"{obj['kind']} {obj['metadata']['name']}"
        assert obj["kind"] in NAMESPACED_KINDS, f"{where} is not a namespaced kind we expect"
        assert obj["metadata"]["namespace"] == namespace, where
        assert obj["metadata"]["labels"]["storeplane.dev/store-id"] == namespace, where


def test_tls_exposure_adds_no_opening_either() -> None:
    state = desired(Engine.MEDUSA, tls=True)
    for _where, template in pod_templates(state):
        open_ = reachable(state, template["metadata"]["labels"])
        assert open_["egress"] == {DNS, SAME_NAMESPACE}


def test_generated_secrets_are_random_per_store_and_created_once(state: DesiredState) -> None:
    (secret,) = state.create_once
    assert secret["kind"] == "Secret"
    assert not [o for o in [*state.policies, *state.workloads] if o["kind"] == "Secret"]
    values = [base64.b64decode(v).decode() for v in secret["data"].values()]
    assert len(set(values)) == len(values)
    assert all(len(v) >= 32 for v in values)
    again = desired(Engine(state.namespace["metadata"]["labels"]["storeplane.dev/engine"]))
    (other,) = again.create_once
    assert not set(other["data"].values()) & set(secret["data"].values())


@pytest.mark.parametrize(
    ("rule", "direction"),
    [
        (
            {
                "to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}],
                "ports": [{"protocol": "TCP", "port": 443}],
            },
            "egress",
        ),
        ({"to": [{"namespaceSelector": {}}]}, "egress"),
        ({}, "ingress"),
        ({"from": [{"namespaceSelector": {"matchLabels": {"team": "other"}}}]}, "ingress"),
    ],
    ids=[
        "https to the internet for every pod",
        "egress to every namespace",
        "an empty rule that admits everyone",
        "ingress from another team's namespace",
    ],
)
def test_the_evaluation_notices_a_wider_policy(rule: dict[str, Any], direction: str) -> None:
    state = desired(Engine.MEDUSA)
    wide = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "too-wide", "namespace": state.namespace["metadata"]["name"]},
        "spec": {"podSelector": {}, "policyTypes": [direction.capitalize()], direction: [rule]},
    }
    widened = DesiredState(
        state.namespace, [*state.policies, wide], state.create_once, state.workloads
    )
    with pytest.raises(AssertionError):
        test_every_pod_may_reach_only_dns_its_namespace_and_be_reached_from_the_ingress_controller(
            widened
        )
