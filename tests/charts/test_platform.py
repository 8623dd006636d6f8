"""The platform chart (storeplane itself), rendered by the real helm with its default values
and with each of its values files: valid Kubernetes, linted, hardened, and a ClusterRole that
grants exactly what ``storeplane/cluster`` uses, with no wildcard."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from storeplane.cluster.kinds import CLUSTER_KINDS, NAMESPACE, OWNED_KINDS
from storeplane.engines.catalogue import parse_catalogue
from storeplane.render import RenderError, chart_path, lint_chart, render_chart
from storeplane.settings import Settings

KUBERNETES_VERSION = "1.31.0"
CHART = chart_path("platform")
NAMESPACE_NAME = "storeplane"
VALUES_FILES = sorted(p.name for p in CHART.glob("values-*.yaml"))
SOURCES = ["values.yaml", *VALUES_FILES]
# watch: storeplane/cluster/watch.py follows every kind it owns (the reconciler's cache);
# tests/scenarios/test_rbac_least_privilege.py shows each rule is needed.
WRITE_VERBS = {"create", "get", "list", "watch", "patch", "delete"}
# storeplane never writes RBAC objects (a store's ServiceAccount gets no permissions): it
# only finds them in the residue check and deletes them, so no bind/escalate is needed.
READ_DELETE_VERBS = {"get", "list", "watch", "delete"}
RBAC_GROUP = "rbac.authorization.k8s.io"
FORBIDDEN_VERBS = {"*", "bind", "escalate", "impersonate", "deletecollection"}


def _values(source: str) -> dict[str, Any]:
    if source == "values.yaml":
        return {}
    loaded: dict[str, Any] = yaml.safe_load((CHART / source).read_text())
    return loaded


def _render(helm: str, values: dict[str, Any]) -> list[dict[str, Any]]:
    return asyncio.run(render_chart(CHART, "storeplane", NAMESPACE_NAME, values, helm_bin=helm))


@pytest.fixture(scope="module")
def rendered(helm_bin: str) -> dict[str, list[dict[str, Any]]]:
    """Each values source rendered once for the whole module."""
    return {source: _render(helm_bin, _values(source)) for source in SOURCES}


def _one(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = [o for o in objects if o["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, got {len(found)}"
    return found[0]


def _plural(kind: str) -> str:
    """The API resource name of a kind (the few English rules Kubernetes kinds need)."""
    lower = kind.lower()
    if lower.endswith("y"):
        return lower[:-1] + "ies"
    return lower + ("es" if lower.endswith("s") else "s")


def _expected_rules() -> dict[tuple[str, str], set[str]]:
    """(apiGroup, resource) -> verbs, from the kinds storeplane manages."""
    expected: dict[tuple[str, str], set[str]] = {}
    for kind in (*OWNED_KINDS, *CLUSTER_KINDS):
        group = kind.api_version.rpartition("/")[0]
        # RBAC objects and pods are never applied by storeplane: only read and (stray) deleted.
        read_only = group == RBAC_GROUP or kind.kind == "Pod"
        verbs = READ_DELETE_VERBS if read_only else WRITE_VERBS
        expected[(group, _plural(kind.kind))] = set(verbs)
    assert ("", "namespaces") in expected and NAMESPACE in CLUSTER_KINDS
    expected[("", "services/proxy")] = {"get"}  # the StoreReachable health check
    expected[("", "pods/log")] = {"get"}  # a store's logs for its owner
    expected[("", "events")] = {"create"}  # step outcomes as Kubernetes Events
    # Store objects (storeObjects.enabled, the default): the CRD's presence, the objects,
    # their finalizer and status (storeplane/cluster/store_objects.py).
    expected[("apiextensions.k8s.io", "customresourcedefinitions")] = {"get"}
    expected[("storeplane.dev", "stores")] = {"get", "list", "watch", "patch"}
    expected[("storeplane.dev", "stores/status")] = {"patch"}
    return expected


def test_there_is_a_values_file_for_local_and_for_production() -> None:
    assert VALUES_FILES == ["values-local.yaml", "values-prod.yaml"]


@pytest.mark.parametrize("source", SOURCES)
def test_helm_lint_passes_strictly(helm_bin: str, source: str) -> None:
    asyncio.run(lint_chart(CHART, _values(source), namespace=NAMESPACE_NAME, helm_bin=helm_bin))


@pytest.mark.parametrize("source", SOURCES)
def test_every_object_is_valid_kubernetes(
    rendered: dict[str, list[dict[str, Any]]], source: str
) -> None:
    assert rendered[source]
    for obj in rendered[source]:
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{source}: {obj['kind']}/{obj['metadata']['name']}: {exc.message}")


@pytest.mark.parametrize("source", SOURCES)
def test_every_object_is_labelled_but_never_as_a_store(
    rendered: dict[str, list[dict[str, Any]]], source: str
) -> None:
    for obj in rendered[source]:
        labels = obj["metadata"].get("labels") or {}
        where = f"{obj['kind']}/{obj['metadata']['name']}"
        assert labels.get("app.kubernetes.io/name") == "platform", where
        assert labels.get("app.kubernetes.io/instance") == "storeplane", where
        assert labels.get("app.kubernetes.io/part-of") == "storeplane", where
        assert labels.get("app.kubernetes.io/managed-by") == "Helm", where
        # That label marks a store's objects for pruning and residue checks.
        assert "storeplane.dev/store-id" not in labels, where
        assert obj["kind"] != "Secret", "the database URL Secret is made by the operator"


@pytest.mark.parametrize("source", SOURCES)
def test_the_cluster_role_grants_exactly_what_storeplane_uses(
    rendered: dict[str, list[dict[str, Any]]], source: str
) -> None:
    role = _one(rendered[source], "ClusterRole")
    granted: dict[tuple[str, str], set[str]] = {}
    for rule in role["rules"]:
        assert set(rule) <= {"apiGroups", "resources", "verbs"}, f"unexpected fields in {rule}"
        for field in ("apiGroups", "resources", "verbs"):
            assert "*" not in rule[field], f"wildcard in {field}: {rule}"
        assert not FORBIDDEN_VERBS & set(rule["verbs"]), rule
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                # rules are split by purpose (apply, observe, remove), never overlapping
                verbs = granted.setdefault((group, resource), set())
                assert not verbs & set(rule["verbs"]), f"{group}/{resource} granted twice"
                verbs |= set(rule["verbs"])
    assert granted == _expected_rules()


@pytest.mark.parametrize("source", SOURCES)
def test_the_role_is_bound_to_the_pods_service_account(
    rendered: dict[str, list[dict[str, Any]]], source: str
) -> None:
    objects = rendered[source]
    account = _one(objects, "ServiceAccount")["metadata"]["name"]
    binding = _one(objects, "ClusterRoleBinding")
    assert binding["roleRef"]["name"] == _one(objects, "ClusterRole")["metadata"]["name"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": account, "namespace": NAMESPACE_NAME}
    ]
    pod = _one(objects, "Deployment")["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == account


@pytest.mark.parametrize("source", SOURCES)
def test_the_pod_is_hardened_and_probed(
    rendered: dict[str, list[dict[str, Any]]], source: str
) -> None:
    deployment = _one(rendered[source], "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] not in (None, 0)
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    (container,) = pod["containers"]
    security = container["securityContext"]
    assert security["allowPrivilegeEscalation"] is False
    assert security["readOnlyRootFilesystem"] is True
    assert security["capabilities"] == {"drop": ["ALL"]}
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(container["resources"][kind])
    image = container["image"]
    assert ":" in image and not image.endswith(":latest"), image
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"


@pytest.mark.parametrize("source", SOURCES)
def test_settings_come_from_storeplane_env_vars_that_exist(
    rendered: dict[str, list[dict[str, Any]]], source: str
) -> None:
    container = _one(rendered[source], "Deployment")["spec"]["template"]["spec"]["containers"][0]
    fields = {f"STOREPLANE_{name.upper()}" for name in Settings.model_fields}
    fields.add("STOREPLANE_LOG_FORMAT")  # read by the CLI, not by Settings
    names = [env["name"] for env in container["env"]]
    assert len(names) == len(set(names)), names
    for name in names:
        assert name in fields, f"{name} is not a storeplane setting"
    for env in container["env"]:
        if env["name"] == "STOREPLANE_DATABASE_URL":
            assert "value" not in env, "the database URL must come from a Secret"
            assert env["valueFrom"]["secretKeyRef"]["name"]


def test_local_runs_one_process_on_sqlite_and_production_several_on_postgresql(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    local, prod = rendered["values-local.yaml"], rendered["values-prod.yaml"]
    local_deployment, prod_deployment = _one(local, "Deployment"), _one(prod, "Deployment")
    assert local_deployment["spec"]["replicas"] == 1
    assert local_deployment["spec"]["strategy"] == {"type": "Recreate"}
    assert _one(local, "PersistentVolumeClaim")["spec"]["storageClassName"] == "standard"
    assert prod_deployment["spec"]["replicas"] > 1
    assert not [o for o in prod if o["kind"] == "PersistentVolumeClaim"]
    _one(prod, "PodDisruptionBudget")
    env = {
        e["name"]: e for e in prod_deployment["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env["STOREPLANE_DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"]
    assert env["STOREPLANE_TLS"]["value"] == "true"
    assert _one(prod, "Ingress")["spec"]["tls"]


def test_values_files_differ_only_in_values() -> None:
    """Both files set keys the chart defines (the schema rejects others) and nothing else:
    the templates are the same for local and production."""
    defaults = yaml.safe_load((CHART / "values.yaml").read_text())

    def keys(node: Any, prefix: str = "") -> set[str]:
        if isinstance(node, dict) and node:
            return {k for key, v in node.items() for k in keys(v, f"{prefix}{key}.")}
        return {prefix.rstrip(".")}

    known = keys(defaults)
    for source in VALUES_FILES:
        for key in keys(yaml.safe_load((CHART / source).read_text())):
            assert any(
                key == k or key.startswith(k + ".") or k.startswith(key + ".") for k in known
            ), f"{source}: {key} is not a value of the chart"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"replicas": 2}, "sqlite allows one replica only"),
        ({"database": {"type": "postgresql"}}, "/database/existingSecret"),
        ({"image": {"tag": "latest"}}, "/image/tag"),
        ({"stores": {"baseDomain": "Not A Domain"}}, "/stores/baseDomain"),
        ({"backups": {"enabled": True}}, "/backups/s3/bucket"),
        ({"apiProcesses": 0}, "/apiProcesses"),
    ],
    ids=[
        "several replicas on sqlite are refused",
        "postgresql without the URL Secret is refused",
        "the latest tag is refused",
        "a malformed base domain is refused",
        "backups to S3 without a bucket are refused",
        "no API process at all is refused",
    ],
)
def test_bad_values_are_refused_with_a_message(
    helm_bin: str, values: dict[str, Any], message: str
) -> None:
    with pytest.raises(RenderError) as caught:
        _render(helm_bin, values)
    assert message in str(caught.value)


def test_backups_to_s3_name_the_bucket_and_the_secret_never_its_keys(helm_bin: str) -> None:
    values = {"backups": {"enabled": True, "s3": {"bucket": "shop-backups",
              "endpointUrl": "https://minio.example.test", "existingSecret": "bucket-keys"}}}  # fmt: skip
    deployment = _one(_render(helm_bin, values), "Deployment")
    env = {e["name"]: e for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["STOREPLANE_BACKUP_TARGET"]["value"] == "s3"
    assert env["STOREPLANE_BACKUP_S3_BUCKET"]["value"] == "shop-backups"
    assert env["STOREPLANE_BACKUP_S3_ENDPOINT_URL"]["value"] == "https://minio.example.test"
    assert env["STOREPLANE_BACKUP_S3_SECRET"]["value"] == "bucket-keys"
    assert env["STOREPLANE_BACKUP_S3_SECRET_NAMESPACE"]["value"] == NAMESPACE_NAME
    assert not [name for name in env if "ACCESS_KEY" in name or "SECRET_KEY" in name]


def test_the_readme_lists_every_value() -> None:
    readme = (CHART / "README.md").read_text()
    defaults = yaml.safe_load((CHART / "values.yaml").read_text())
    for key, value in defaults.items():
        subkeys = value.keys() if isinstance(value, dict) and key not in {"resources"} else [None]
        for sub in subkeys:
            dotted = f"{key}.{sub}" if sub else key
            assert f"`{dotted}" in readme or f"/ `.{sub}`" in readme or f"`.{sub}`" in readme, (
                f"README.md does not describe {dotted}"
            )


def test_chart_folder() -> None:
    assert Path(CHART / "values.schema.json").is_file()
    assert Path(CHART / "templates" / "NOTES.txt").is_file()


def test_an_operator_catalogue_is_mounted_and_named_by_its_setting(helm_bin: str) -> None:
    catalogue = (CHART.parent / "catalogue.yaml").read_text()
    objects = _render(
        helm_bin,
        {
            "engines": {
                "catalogue": catalogue,
                "medusa": {"imageRepository": "registry.example.com/m"},
            }
        },
    )
    config_map = _one(objects, "ConfigMap")
    assert config_map["data"]["catalogue.yaml"].strip() == catalogue.strip()
    pod = _one(objects, "Deployment")["spec"]["template"]["spec"]
    env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
    assert env["STOREPLANE_ENGINE_CATALOGUE"] == "/etc/storeplane/catalogue.yaml"
    assert env["STOREPLANE_MEDUSA_IMAGE_REPOSITORY"] == "registry.example.com/m"
    mount = next(m for m in pod["containers"][0]["volumeMounts"] if m["name"] == "catalogue")
    assert mount["mountPath"] == "/etc/storeplane"
    # What the chart mounts is a catalogue storeplane loads.
    parse_catalogue(yaml.safe_load(config_map["data"]["catalogue.yaml"]), "configmap")
    assert not [o for o in _render(helm_bin, {}) if o["kind"] == "ConfigMap"]
