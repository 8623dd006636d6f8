"""The official Python ``kubernetes`` client against the simulator (a client nobody here
wrote): the scale subresource through ``patch_namespaced_deployment_scale``."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from kubernetes import client, config  # type: ignore[import-untyped]
from sim_helpers import deployment, wait_until

from storeplane.sim.kubeconfig import write_kubeconfig
from storeplane.sim.runner import RunningSimulator, SimulatorConfig, start_in_thread


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSimulator]:
    with start_in_thread(SimulatorConfig(ready_delay=0.1, terminate_delay=0.1)) as running:
        yield running


@pytest.fixture(scope="module")
def apps(sim: RunningSimulator, tmp_path_factory: pytest.TempPathFactory) -> client.AppsV1Api:
    path = write_kubeconfig(tmp_path_factory.mktemp("pyclient") / "kubeconfig", sim.url)
    return client.AppsV1Api(config.new_client_from_config(str(path)))


def test_patch_namespaced_deployment_scale(
    apps: client.AppsV1Api, http: httpx.Client, ns: str
) -> None:
    http.post(f"/apis/apps/v1/namespaces/{ns}/deployments", json=deployment("web"))
    scale = apps.patch_namespaced_deployment_scale("web", ns, {"spec": {"replicas": 4}})
    assert scale.kind == "Scale" and scale.spec.replicas == 4
    assert (
        http.get(f"/apis/apps/v1/namespaces/{ns}/deployments/web").json()["spec"]["replicas"] == 4
    )

    def four_pods() -> bool:
        pods = http.get(f"/api/v1/namespaces/{ns}/pods", params={"labelSelector": "app=web"})
        return len(pods.json()["items"]) == 4

    wait_until(four_pods)
    read = apps.read_namespaced_deployment_scale("web", ns)
    assert read.status.selector == "app=web"
    assert read.spec.replicas == 4


def test_replace_scale_with_a_stale_version_is_a_conflict(
    apps: client.AppsV1Api, http: httpx.Client, ns: str
) -> None:
    http.post(f"/apis/apps/v1/namespaces/{ns}/deployments", json=deployment("web"))
    scale = apps.read_namespaced_deployment_scale("web", ns)
    apps.patch_namespaced_deployment_scale("web", ns, {"spec": {"replicas": 2}})
    scale.spec.replicas = 5  # scale still carries the resourceVersion before the patch
    with pytest.raises(client.ApiException) as error:
        apps.replace_namespaced_deployment_scale("web", ns, scale)
    assert error.value.status == 409
    assert (
        http.get(f"/apis/apps/v1/namespaces/{ns}/deployments/web").json()["spec"]["replicas"] == 2
    )
