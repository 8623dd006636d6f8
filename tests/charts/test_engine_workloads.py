"""What the engine charts run, beyond the generic policy of ``test_charts.py``: Medusa's
server and worker roles, its migration Job once per rollout and the pods that wait for it,
the seed Job; WooCommerce's wp-cli setup Job and its narrow egress allowance; images pinned
everywhere; READMEs that list every value; every values file in the repository renders."""

from __future__ import annotations

import asyncio
import copy
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from chart_cases import BASE_DOMAIN, CASES, CHARTS, STORE_ID, Case, render_values

from storeplane.render import CHARTS_DIR, RenderError, render_chart

HOST = f"{STORE_ID}.{BASE_DOMAIN}"
SMALL = Case("medusa-store", "small", False)
WOO_SMALL = Case("woocommerce-store", "small", False)


def _kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


def _named(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    (found,) = [o for o in _kind(objects, kind) if o["metadata"]["name"] == name]
    return found


def _component(objects: list[dict[str, Any]], kind: str, component: str) -> list[dict[str, Any]]:
    return [
        o
        for o in _kind(objects, kind)
        if o["metadata"]["labels"].get("app.kubernetes.io/component") == component
    ]


def _env(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container.get("env", [])}


def _pod(workload: dict[str, Any]) -> dict[str, Any]:
    pod: dict[str, Any] = workload["spec"]["template"]["spec"]
    return pod


def _with(values: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(values)
    for dotted, value in patch.items():
        node = result
        *parents, last = dotted.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    return result


@pytest.fixture(scope="module")
def medusa(helm_bin: str) -> list[dict[str, Any]]:
    return render_values(helm_bin, "medusa-store", SMALL.values())


@pytest.fixture(scope="module")
def woo(helm_bin: str) -> list[dict[str, Any]]:
    return render_values(helm_bin, "woocommerce-store", WOO_SMALL.values())


# --- Medusa --------------------------------------------------------------------------------


def test_medusa_runs_server_and_worker_from_one_image(medusa: list[dict[str, Any]]) -> None:
    server = _pod(_named(medusa, "Deployment", "medusa-server"))["containers"][0]
    worker = _pod(_named(medusa, "Deployment", "medusa-worker"))["containers"][0]
    assert server["image"] == worker["image"]
    assert _env(server)["MEDUSA_WORKER_MODE"]["value"] == "server"
    assert _env(worker)["MEDUSA_WORKER_MODE"]["value"] == "worker"
    assert _env(server)["DISABLE_MEDUSA_ADMIN"]["value"] == "false"
    assert _env(worker)["DISABLE_MEDUSA_ADMIN"]["value"] == "true"
    for container in (server, worker):
        assert "migrate" not in " ".join(container["command"]), "migrations belong to the Job"
        assert _env(container)["REDIS_URL"]["value"].startswith("redis://")
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert server[probe]["httpGet"]["path"] == "/health"
    assert not server.get("ports") or server["ports"][0]["containerPort"] == 9000
    assert "ports" not in worker


def test_medusa_migrates_once_per_rollout_in_a_job_the_pods_wait_for(
    medusa: list[dict[str, Any]],
) -> None:
    (job,) = _component(medusa, "Job", "migrate")
    name = job["metadata"]["name"]
    assert name.startswith("medusa-migrate-")
    pod = _pod(job)
    assert pod["restartPolicy"] == "Never"
    assert "ttlSecondsAfterFinished" not in job["spec"], "a vanished Job would run again"
    migrate = [c for c in pod["initContainers"] if c["name"] == "migrate"]
    assert migrate and migrate[0]["command"][-1] == "db:migrate"
    waiting = [
        workload
        for workload in [*_kind(medusa, "Deployment"), *_kind(medusa, "Job")]
        if workload["metadata"]["name"].startswith(
            ("medusa-server", "medusa-worker", "medusa-seed")
        )
    ]
    assert len(waiting) == 3
    for workload in waiting:
        (init,) = [c for c in _pod(workload)["initContainers"] if c["name"] == "wait-for-migration"]
        assert _env(init)["MIGRATION_JOB"]["value"] == name, workload["metadata"]["name"]


@pytest.mark.parametrize(
    ("patch", "same"),
    [
        ({}, True),
        ({"image.tag": "2.21.3"}, False),
        ({"store.plan": "medium"}, False),
        ({"store.name": "Renamed shop"}, True),
    ],
    ids=[
        "the same values name the same migration Job",
        "a new image makes a new migration Job",
        "a plan change (new resources) makes a new migration Job",
        "a display name change keeps the migration Job",
    ],
)
def test_the_migration_job_name_follows_its_pod_template(
    helm_bin: str, medusa: list[dict[str, Any]], patch: dict[str, Any], same: bool
) -> None:
    before = _component(medusa, "Job", "migrate")[0]["metadata"]["name"]
    after_objects = asyncio.run(
        render_chart(
            CHARTS_DIR / "medusa-store",
            "store",
            STORE_ID,
            _with(SMALL.values(), patch),
            helm_bin=helm_bin,
        )
    )
    after = _component(after_objects, "Job", "migrate")[0]["metadata"]["name"]
    assert (before == after) is same


def test_medusa_seeds_an_admin_and_a_catalogue(helm_bin: str, medusa: list[dict[str, Any]]) -> None:
    (job,) = _component(medusa, "Job", "seed")
    (seed,) = _pod(job)["containers"]
    env = _env(seed)
    assert env["ADMIN_EMAIL"]["value"] == f"admin@{HOST}"
    assert env["ADMIN_PASSWORD"]["valueFrom"]["secretKeyRef"]["key"] == "admin-password"
    script = seed["command"][-1]
    assert "medusa user" in script and "seed.js" in script and "ensure-admin.js" in script
    without = render_values(
        helm_bin, "medusa-store", _with(SMALL.values(), {"seed.enabled": False})
    )
    assert not _component(without, "Job", "seed")


# --- WooCommerce ---------------------------------------------------------------------------


def test_woocommerce_uses_the_official_images(woo: list[dict[str, Any]]) -> None:
    images = {
        c["name"]: c["image"]
        for workload in [*_kind(woo, "Deployment"), *_kind(woo, "StatefulSet"), *_kind(woo, "Job")]
        for c in [*_pod(workload).get("initContainers", []), *_pod(workload)["containers"]]
    }
    assert images["wordpress"].startswith("wordpress:")
    assert images["mariadb"].startswith("mariadb:")
    assert images["setup"].startswith("wordpress:cli")
    assert images["copy-core"] == images["wordpress"], "core is copied from the store's own image"


def test_woocommerce_setup_job_installs_the_shop(woo: list[dict[str, Any]]) -> None:
    (job,) = _component(woo, "Job", "setup")
    assert job["metadata"]["name"].startswith("woocommerce-setup-")
    pod = _pod(job)
    assert pod["securityContext"]["runAsUser"] == 33, "wp-content belongs to www-data (33)"
    affinity = pod["affinity"]["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert affinity[0]["labelSelector"]["matchLabels"]["app.kubernetes.io/component"] == "wordpress"
    script = _named(woo, "ConfigMap", "woocommerce-setup")["data"]["setup.sh"]
    for step in (
        "wp core install",
        "wp rewrite structure",
        "wp plugin install woocommerce",
        "woocommerce_cod_settings",
        "wp wc product create",
    ):
        assert step in script, step
    annotation = job["spec"]["template"]["metadata"]["annotations"]
    assert annotation["storeplane.dev/script-sha256"], "a changed script must make a new Job"


def test_only_the_setup_pods_may_reach_the_internet(
    helm_bin: str, woo: list[dict[str, Any]]
) -> None:
    (policy,) = _kind(woo, "NetworkPolicy")
    spec = policy["spec"]
    assert spec["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "setup"
    assert spec["policyTypes"] == ["Egress"]
    (rule,) = spec["egress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": 443}]
    (peer,) = rule["to"]
    assert peer["ipBlock"]["cidr"] == "0.0.0.0/0"
    for closed in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"):
        assert closed in peer["ipBlock"]["except"]
    (job,) = _component(woo, "Job", "setup")
    assert (
        spec["podSelector"]["matchLabels"].items()
        <= job["spec"]["template"]["metadata"]["labels"].items()
    )
    off = render_values(
        helm_bin, "woocommerce-store", _with(WOO_SMALL.values(), {"setup.egress.enabled": False})
    )
    assert not _kind(off, "NetworkPolicy")


# --- every engine chart --------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_every_image_is_pinned(helm_bin: str, case: Case) -> None:
    for obj in render_values(helm_bin, case.chart, case.values()):
        if obj["kind"] not in {"Deployment", "StatefulSet", "Job"}:
            continue
        pod = _pod(obj)
        for container in [*pod.get("initContainers", []), *pod["containers"]]:
            repository, _, tag = container["image"].rpartition(":")
            assert repository and tag and tag != "latest", container["image"]


@pytest.mark.parametrize("chart", CHARTS)
def test_the_readme_lists_every_value(chart: str) -> None:
    folder = CHARTS_DIR / chart
    readme = (folder / "README.md").read_text()
    defaults = yaml.safe_load((folder / "values.yaml").read_text())
    for key, value in defaults.items():
        if key in {"resources", "planResources"} or not isinstance(value, dict):
            assert f"`{key}" in readme, f"{chart} README does not describe {key}"
            continue
        for sub in value:
            assert f"`{key}.{sub}" in readme or f"`.{sub}`" in readme, (
                f"{chart} README does not describe {key}.{sub}"
            )


def _values_files() -> list[Path]:
    return sorted(CHARTS_DIR.glob("*/values*.yaml"))


@pytest.mark.parametrize(
    "values_file", _values_files(), ids=[f"{p.parent.name}/{p.name}" for p in _values_files()]
)
def test_every_values_file_in_the_repo_renders_valid_objects(
    helm_bin: str, values_file: Path
) -> None:
    """Each chart with its own defaults (plus, for store charts, the store's identity, which
    has no default) and with every other values file in its folder."""
    values: dict[str, Any] = yaml.safe_load(values_file.read_text()) or {}
    if values_file.name == "values.yaml":
        values = {}
    if values_file.parent.name in CHARTS:
        values = _with(values, {"store.id": STORE_ID, "store.name": "My Shop"})
    objects = asyncio.run(
        render_chart(values_file.parent, "store", STORE_ID, values, helm_bin=helm_bin)
    )
    assert objects
    for obj in objects:
        kubernetes_validate.validate(obj, "1.31.0", strict=True)


# --- Medusa's uploaded files ---------------------------------------------------------------
UPLOADS_CASES = [
    *(Case("medusa-store", plan, False) for plan in ("small", "medium", "large")),
    *(c for c in CASES if c.uploads),
]
# One size for every plan: a plan change must never resize the claim (it cannot shrink).
DEFAULT_UPLOADS = "1Gi"


@pytest.mark.parametrize("case", UPLOADS_CASES, ids=[c.id for c in UPLOADS_CASES])
def test_medusa_keeps_uploads_on_a_claim_the_server_and_worker_share_on_one_node(
    helm_bin: str, case: Case
) -> None:
    """The local file provider's folder (/app/static: "static" under the image's working dir
    /app) is the uploads claim in the server and the worker, one size for every plan (a plan
    change must not resize a claim) unless set; the pods carry the label their required pod affinity selects (ReadWriteOnce: one node). The
    migration and seed Jobs upload nothing: an emptyDir there."""
    objects = render_values(helm_bin, "medusa-store", case.values())
    claim = _named(objects, "PersistentVolumeClaim", "medusa-uploads")
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    storage = case.uploads[0] if case.uploads else DEFAULT_UPLOADS
    assert claim["spec"]["resources"]["requests"]["storage"] == storage
    assert claim["spec"].get("storageClassName") == (case.uploads[1] if case.uploads else None)
    assert claim["metadata"]["labels"]["storeplane.dev/store-id"] == STORE_ID
    for role in ("server", "worker"):
        workload = _named(objects, "Deployment", f"medusa-{role}")
        pod = _pod(workload)
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert volumes["uploads"] == {
            "name": "uploads",
            "persistentVolumeClaim": {"claimName": "medusa-uploads"},
        }
        (mount,) = [m for m in pod["containers"][0]["volumeMounts"] if m["name"] == "uploads"]
        assert mount["mountPath"] == "/app/static"
        labels = workload["spec"]["template"]["metadata"]["labels"]
        assert labels["storeplane.dev/uploads"] == "medusa-uploads"
        (term,) = pod["affinity"]["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        assert term["labelSelector"] == {
            "matchLabels": {"storeplane.dev/uploads": "medusa-uploads"}
        }
        assert term["topologyKey"] == "kubernetes.io/hostname"
    for job in _kind(objects, "Job"):
        volumes = {v["name"]: v for v in _pod(job)["volumes"]}
        assert volumes["uploads"] == {"name": "uploads", "emptyDir": {}}


def test_a_malformed_uploads_size_is_rejected_with_helms_message(helm_bin: str) -> None:
    bad = _with(SMALL.values(), {"uploads.storage": "lots"})
    with pytest.raises(RenderError, match="/uploads/storage"):
        render_values(helm_bin, "medusa-store", bad)
