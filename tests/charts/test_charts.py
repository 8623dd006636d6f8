"""Every engine chart, rendered by the real helm for every plan with TLS on and off, must be
valid Kubernetes (1.31, strict schemas) and follow the store policy: resources set and
inside the plan quota, non-root pods, no privilege escalation, every object labelled with
its store, credentials referenced and never rendered, the Ingress on ``<id>.<baseDomain>``.
"""

from __future__ import annotations

import asyncio
import copy
import re
from collections.abc import Iterator
from dataclasses import replace
from fractions import Fraction
from typing import Any

import kubernetes_validate
import pytest
from chart_cases import BASE_DOMAIN, CHARTS, STORE_ID, Case, render_values

from storeplane.domain.domains import tls_secret_name
from storeplane.domain.plans import PLANS, PlanName
from storeplane.render import RenderError, chart_path, lint_chart, render_chart

KUBERNETES_VERSION = "1.31.0"
CREDENTIAL_KEYS = {
    "db-password",
    "db-root-password",
    "admin-password",
    "jwt-secret",
    "cookie-secret",
}
POD_TEMPLATE_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet"}
# Containers whose image must write to its root filesystem; each reason is in the chart README.
WRITABLE_ROOT = {
    ("woocommerce-store", "wordpress"),  # entrypoint copies core + writes wp-config.php at start
}
# Namespaced sysctls allowed by Pod Security "baseline" (and so "restricted").
SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
}
POD_VOLUME_TYPES = {"emptyDir", "persistentVolumeClaim", "configMap", "secret", "projected"}
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


# --- helpers -------------------------------------------------------------------------------


def parse_quantity(value: str | int | float) -> Fraction:
    """A Kubernetes quantity as a number: "250m" -> 1/4, "2Gi" -> 2 * 2**30."""
    text = str(value)
    suffixes = {
        "m": Fraction(1, 1000),
        "Ki": Fraction(2**10),
        "Mi": Fraction(2**20),
        "Gi": Fraction(2**30),
        "Ti": Fraction(2**40),
        "k": Fraction(10**3),
        "M": Fraction(10**6),
        "G": Fraction(10**9),
    }
    for suffix, factor in sorted(suffixes.items(), key=lambda item: -len(item[0])):
        if text.endswith(suffix):
            return Fraction(text[: -len(suffix)]) * factor
    return Fraction(text)


def pod_specs(objects: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(workload, pod template) for every object that runs pods."""
    for obj in objects:
        if obj["kind"] in POD_TEMPLATE_KINDS:
            yield obj, obj["spec"]["template"]
        elif obj["kind"] == "Pod":
            yield obj, obj


def containers(pod_spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [*pod_spec.get("initContainers", []), *pod_spec["containers"]]


def pod_usage(pod_spec: dict[str, Any]) -> dict[str, Fraction]:
    """What the quota charges for one pod: per resource, the larger of the sum of its
    containers and its largest init container."""
    usage: dict[str, Fraction] = {}
    for kind in ("requests", "limits"):
        for resource in ("cpu", "memory"):

            def amount(
                container: dict[str, Any], kind: str = kind, res: str = resource
            ) -> Fraction:
                return parse_quantity(container["resources"][kind][res])

            app = sum((amount(c) for c in pod_spec["containers"]), Fraction(0))
            init = max((amount(c) for c in pod_spec.get("initContainers", [])), default=Fraction(0))
            usage[f"{kind}.{resource}"] = max(app, init)
    return usage


def surge_pods(workload: dict[str, Any]) -> int:
    """Extra pods a rolling update of this workload runs beside the old ones."""
    if workload["kind"] != "Deployment":
        return 0  # StatefulSets replace pods one by one; Jobs do not roll
    strategy = workload["spec"].get("strategy", {"type": "RollingUpdate"})
    if strategy["type"] != "RollingUpdate":
        return 0
    surge = strategy.get("rollingUpdate", {}).get("maxSurge", "25%")
    assert isinstance(surge, int), "use an absolute maxSurge so the quota check is exact"
    return surge


def labels_of(obj: dict[str, Any]) -> dict[str, str]:
    labels: dict[str, str] = obj.get("metadata", {}).get("labels") or {}
    return labels


def expected_labels(case: Case) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": case.chart,
        "app.kubernetes.io/instance": "store",
        "app.kubernetes.io/managed-by": "storeplane",
        "app.kubernetes.io/part-of": "storeplane",
        "storeplane.dev/store-id": STORE_ID,
    }


def secret_references(node: Any) -> Iterator[tuple[str, str | None]]:
    """(secret name, key or None) for every reference to a Secret anywhere in ``node``."""
    if isinstance(node, dict):
        if "secretKeyRef" in node:
            yield node["secretKeyRef"]["name"], node["secretKeyRef"]["key"]
        if "secretRef" in node:
            yield node["secretRef"]["name"], None
        if "secret" in node and isinstance(node["secret"], dict):
            yield node["secret"]["secretName"], None
        for value in node.values():
            yield from secret_references(value)
    elif isinstance(node, list):
        for item in node:
            yield from secret_references(item)


# --- every case: chart x plan x TLS --------------------------------------------------------


def test_helm_lint_passes_strictly(helm_bin: str, case: Case) -> None:
    asyncio.run(
        lint_chart(chart_path(case.chart), case.values(), namespace=STORE_ID, helm_bin=helm_bin)
    )


def test_every_object_is_valid_kubernetes(objects: list[dict[str, Any]]) -> None:
    assert objects
    for obj in objects:
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{obj['kind']}/{obj['metadata']['name']}: {exc.message}")


def test_every_name_is_a_dns_label(objects: list[dict[str, Any]]) -> None:
    for obj in objects:
        name = obj["metadata"]["name"]
        assert DNS_LABEL.match(name) and len(name) <= 63, f"{obj['kind']} name {name!r}"
        assert "namespace" not in obj["metadata"], "storeplane chooses the namespace"


def test_every_object_and_pod_template_carries_the_store_labels(
    objects: list[dict[str, Any]], case: Case
) -> None:
    expected = expected_labels(case)
    for obj in objects:
        where = f"{obj['kind']}/{obj['metadata']['name']}"
        assert expected.items() <= labels_of(obj).items(), where
        for label, value in labels_of(obj).items():
            assert len(value) <= 63, f"{where}: label {label} too long"
        for claim in obj.get("spec", {}).get("volumeClaimTemplates", []):
            assert expected.items() <= labels_of(claim).items(), f"{where} volumeClaimTemplate"
            # volumeClaimTemplates are immutable: a label that follows the chart version
            # would make the StatefulSet un-appliable after an upgrade.
            volatile = {"helm.sh/chart", "app.kubernetes.io/version"} & set(labels_of(claim))
            assert not volatile, f"{where} volumeClaimTemplate carries {volatile}"
    for workload, template in pod_specs(objects):
        where = f"pod template of {workload['kind']}/{workload['metadata']['name']}"
        assert expected.items() <= labels_of(template).items(), where
        if workload["kind"] == "Job":
            continue  # the Job controller makes the selector (a Job's template is immutable)
        selector = workload["spec"]["selector"]["matchLabels"]
        assert selector.items() <= labels_of(template).items(), where
        assert "storeplane.dev/store-id" not in selector, "selectors must stay immutable"


def test_every_container_has_requests_and_limits(objects: list[dict[str, Any]]) -> None:
    for workload, template in pod_specs(objects):
        for container in containers(template["spec"]):
            where = f"{workload['metadata']['name']}/{container['name']}"
            resources = container.get("resources", {})
            for kind in ("requests", "limits"):
                for resource in ("cpu", "memory"):
                    assert resource in resources.get(kind, {}), f"{where}: no {kind}.{resource}"
                    assert parse_quantity(resources[kind][resource]) > 0
            for resource in ("cpu", "memory"):
                request = parse_quantity(resources["requests"][resource])
                assert request <= parse_quantity(resources["limits"][resource]), where


def test_store_fits_its_plan_quota_even_during_a_rolling_update(
    objects: list[dict[str, Any]], case: Case
) -> None:
    quota = PLANS[PlanName(case.plan)].quota
    limits = {
        "requests.cpu": parse_quantity(quota.requests_cpu),
        "requests.memory": parse_quantity(quota.requests_memory),
        "limits.cpu": parse_quantity(quota.limits_cpu),
        "limits.memory": parse_quantity(quota.limits_memory),
    }
    peak = dict.fromkeys(limits, Fraction(0))
    pods = 0
    claims = 0
    storage = Fraction(0)
    for workload, template in pod_specs(objects):
        replicas = workload["spec"].get("replicas", 1) if workload["kind"] != "Pod" else 1
        running = replicas + surge_pods(workload)
        pods += running
        for resource, amount in pod_usage(template["spec"]).items():
            peak[resource] += amount * running
        for claim in workload["spec"].get("volumeClaimTemplates", []):
            claims += replicas
            storage += parse_quantity(claim["spec"]["resources"]["requests"]["storage"]) * replicas
    for obj in objects:
        if obj["kind"] == "PersistentVolumeClaim":
            claims += 1
            storage += parse_quantity(obj["spec"]["resources"]["requests"]["storage"])
    for resource, limit in limits.items():
        assert peak[resource] <= limit, f"{resource}: {float(peak[resource])} > {float(limit)}"
    assert pods <= quota.pods
    assert claims <= quota.persistentvolumeclaims
    assert storage <= parse_quantity(quota.requests_storage)


def test_pods_run_as_non_root_without_privileges(objects: list[dict[str, Any]], case: Case) -> None:
    for workload, template in pod_specs(objects):
        pod = template["spec"]
        name = workload["metadata"]["name"]
        pod_security = pod.get("securityContext", {})
        assert pod.get("serviceAccountName") == "store", name
        assert pod.get("automountServiceAccountToken") is False, name
        for forbidden in ("hostNetwork", "hostPID", "hostIPC"):
            assert not pod.get(forbidden), f"{name}: {forbidden}"
        for sysctl in pod_security.get("sysctls", []):
            assert sysctl["name"] in SAFE_SYSCTLS, f"{name}: sysctl {sysctl['name']}"
        for volume in pod.get("volumes", []):
            kinds = set(volume) - {"name"}
            assert kinds <= POD_VOLUME_TYPES, f"{name}: volume {volume['name']} is {kinds}"
        for container in containers(pod):
            where = f"{name}/{container['name']}"
            security = container.get("securityContext", {})
            # A container's own setting wins over the pod's.
            effective = {**pod_security, **security}
            assert effective.get("runAsNonRoot") is True, where
            assert effective.get("runAsUser") not in (None, 0), f"{where}: set an explicit uid"
            assert effective.get("seccompProfile") == {"type": "RuntimeDefault"}, where
            assert security.get("allowPrivilegeEscalation") is False, where
            assert security.get("privileged") is not True, where
            assert security.get("capabilities", {}).get("drop") == ["ALL"], where
            assert not security.get("capabilities", {}).get("add"), where
            writable = (case.chart, container["name"]) in WRITABLE_ROOT
            assert security.get("readOnlyRootFilesystem") is (not writable), (
                f"{where}: readOnlyRootFilesystem should be {not writable} "
                "(update WRITABLE_ROOT and the chart README together)"
            )


def test_credentials_are_referenced_never_rendered(objects: list[dict[str, Any]]) -> None:
    assert not [obj for obj in objects if obj["kind"] == "Secret"], "storeplane owns the Secret"
    references = list(secret_references(objects))
    assert references, "the workloads should read their credentials from the Secret"
    for name, key in references:
        assert name == "store-credentials"
        assert key is None or key in CREDENTIAL_KEYS, key
    for _, template in pod_specs(objects):
        for container in containers(template["spec"]):
            for env in container.get("env", []):
                if re.search(r"PASSWORD|SECRET|_KEY$|_SALT$", env["name"]):
                    value = env.get("value")
                    assert value is None or "$(" in value, f"{env['name']} is inlined"


def test_ingress_serves_the_store_host(objects: list[dict[str, Any]], case: Case) -> None:
    host = f"{STORE_ID}.{BASE_DOMAIN}"
    ingresses = [obj for obj in objects if obj["kind"] == "Ingress"]
    assert len(ingresses) == 1
    ingress = ingresses[0]
    spec = ingress["spec"]
    assert spec["ingressClassName"] == "nginx"
    assert [rule["host"] for rule in spec["rules"]] == [host, *case.domains]
    services = {obj["metadata"]["name"]: obj for obj in objects if obj["kind"] == "Service"}
    for rule in spec["rules"]:
        for path in rule["http"]["paths"]:
            backend = path["backend"]["service"]
            if case.suspended:
                # storeplane's maintenance backend, which storeplane (not the chart) creates.
                assert backend == {"name": "storeplane-maintenance", "port": {"name": "http"}}
                continue
            assert backend["name"] in services
            port_names = {port["name"] for port in services[backend["name"]]["spec"]["ports"]}
            assert backend["port"]["name"] in port_names
    if case.tls:
        assert spec["tls"] == [
            {"hosts": [host], "secretName": f"{STORE_ID}-tls"},
            *({"hosts": [d], "secretName": tls_secret_name(d)} for d in case.domains),
        ]
        assert ingress["metadata"]["annotations"] == {
            "cert-manager.io/cluster-issuer": "letsencrypt"
        }
    else:
        assert "tls" not in spec


def test_a_suspended_store_runs_nothing_and_keeps_its_volumes(
    helm_bin: str, objects: list[dict[str, Any]], case: Case
) -> None:
    """Suspended: every Deployment and StatefulSet at 0 replicas, the same claims rendered."""
    workloads = {
        (obj["kind"], obj["metadata"]["name"]): obj["spec"]["replicas"]
        for obj in objects
        if obj["kind"] in ("Deployment", "StatefulSet")
    }
    assert workloads
    if case.suspended:
        assert set(workloads.values()) == {0}, workloads
        running = render_values(helm_bin, case.chart, replace(case, suspended=False).values())
        assert _claims(objects) == _claims(running)
    else:
        assert 0 not in workloads.values(), workloads


def _claims(objects: list[dict[str, Any]]) -> list[Any]:
    """The PersistentVolumeClaims and StatefulSet claim templates of a rendering."""
    claims: list[Any] = [o for o in objects if o["kind"] == "PersistentVolumeClaim"]
    for obj in objects:
        if obj["kind"] == "StatefulSet":
            claims += obj["spec"].get("volumeClaimTemplates", [])
    return claims


def test_custom_domains_are_allowed_origins(objects: list[dict[str, Any]], case: Case) -> None:
    """Medusa's CORS lists the store's URL and each domain's origin; WordPress takes each
    domain as its home when the request is for it."""
    scheme = "https" if case.tls else "http"
    origins = [f"{scheme}://{STORE_ID}.{BASE_DOMAIN}", *(f"{scheme}://{d}" for d in case.domains)]
    env = {
        e["name"]: e.get("value")
        for _, template in pod_specs(objects)
        for c in containers(template["spec"])
        for e in c.get("env", [])
    }
    if case.chart == "medusa-store":
        for name in ("STORE_CORS", "ADMIN_CORS", "AUTH_CORS"):
            assert env[name] == ",".join(origins), name
    else:
        extra = env["WORDPRESS_CONFIG_EXTRA"]
        for domain in case.domains:
            assert f"'{domain}'" in extra
        assert ("HTTP_HOST" in extra) == bool(case.domains), extra


def test_hosts_in_the_environment_are_rendered_services(objects: list[dict[str, Any]]) -> None:
    ports = {
        (obj["metadata"]["name"], port["port"])
        for obj in objects
        if obj["kind"] == "Service"
        for port in obj["spec"]["ports"]
    }
    for _, template in pod_specs(objects):
        for container in containers(template["spec"]):
            for env in container.get("env", []):
                for host, port in re.findall(r"([a-z][a-z0-9-]*):(\d+)", env.get("value", "")):
                    assert (host, int(port)) in ports, f"{env['name']} points at {host}:{port}"


def test_no_hooks_and_nothing_random(
    helm_bin: str, case: Case, objects: list[dict[str, Any]]
) -> None:
    for obj in objects:
        annotations = obj["metadata"].get("annotations") or {}
        assert not [a for a in annotations if a.startswith("helm.sh/")], obj["metadata"]["name"]
    again = asyncio.run(
        render_chart(chart_path(case.chart), "store", STORE_ID, case.values(), helm_bin=helm_bin)
    )
    assert again == objects


# --- the values contract -------------------------------------------------------------------


def _without(values: dict[str, Any], *path: str) -> dict[str, Any]:
    result = copy.deepcopy(values)
    node = result
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return result


def _with(values: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(values)
    for dotted, value in patch.items():
        node = result
        *parents, last = dotted.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    return result


BASE = Case("medusa-store", "small", False).values()
BAD_VALUES = [
    pytest.param(_without(BASE, "store", "id"), "/store", id="a store without an id is rejected"),
    pytest.param(_with(BASE, {"store.name": ""}), "/store/name", id="an empty name is rejected"),
    pytest.param(
        _with(BASE, {"store.plan": "huge"}),
        "/store/plan",
        id="a plan outside the three is rejected",
    ),
    pytest.param(
        _with(BASE, {"store.id": "Store_1"}),
        "/store/id",
        id="an id that is not a DNS label is rejected",
    ),
    pytest.param(
        _with(BASE, {"basedomain": "x.test"}), "basedomain", id="a misspelt key is rejected"
    ),
    pytest.param(
        _with(BASE, {"database.storage": "lots"}),
        "/database/storage",
        id="a malformed size is rejected",
    ),
    pytest.param(
        _with(BASE, {"resources.server": {"requests": {"cpu": "1", "memory": "1Gi"}}}),
        "/resources/server",
        id="a resources override without limits is rejected",
    ),
]


@pytest.mark.parametrize("chart", CHARTS)
@pytest.mark.parametrize(("values", "where"), BAD_VALUES)
def test_bad_values_are_rejected_with_helms_message(
    helm_bin: str, chart: str, values: dict[str, Any], where: str
) -> None:
    if chart == "woocommerce-store" and "/resources/server" in where:
        values = _with(BASE, {"resources.wordpress": values["resources"]["server"]})
        where = "/resources/wordpress"
    with pytest.raises(RenderError) as caught:
        asyncio.run(render_chart(chart_path(chart), "store", STORE_ID, values, helm_bin=helm_bin))
    assert where in str(caught.value)
    assert "values don't meet the specifications" in caught.value.stderr


@pytest.mark.parametrize("chart", CHARTS)
def test_a_resources_override_replaces_the_plan_preset(helm_bin: str, chart: str) -> None:
    component = "server" if chart == "medusa-store" else "wordpress"
    override = {
        "requests": {"cpu": "123m", "memory": "321Mi"},
        "limits": {"cpu": "1", "memory": "1Gi"},
    }
    values = _with(BASE, {f"resources.{component}": override})
    objects = render_values(helm_bin, chart, values)
    found = [
        container["resources"]
        for _, template in pod_specs(objects)
        for container in template["spec"]["containers"]
        if container["name"] == component
    ]
    assert found == [override]


@pytest.mark.parametrize("chart", CHARTS)
def test_the_credentials_secret_name_is_a_value(helm_bin: str, chart: str) -> None:
    objects = render_values(helm_bin, chart, _with(BASE, {"credentialsSecret": "other-creds"}))
    assert {name for name, _ in secret_references(objects)} == {"other-creds"}
