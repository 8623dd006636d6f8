"""The real client storeplane's cluster adapter uses, lightkube's AsyncClient, end to end."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lightkube import ApiError, AsyncClient, KubeConfig
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.core_v1 import ConfigMap, Namespace, Secret
from sim_helpers import deployment

from storeplane.sim.kubeconfig import write_kubeconfig
from storeplane.sim.runner import RunningSimulator


async def test_create_get_list_delete_with_lightkube(kube: AsyncClient) -> None:
    ns = await kube.create(Namespace(metadata=ObjectMeta(name="shop", labels={"a": "b"})))
    assert ns.status is not None and ns.status.phase == "Active"
    await kube.create(
        ConfigMap(metadata=ObjectMeta(name="cfg", labels={"tier": "web"}), data={"k": "v"}),
        namespace="shop",
    )
    got = await kube.get(ConfigMap, "cfg", namespace="shop")
    assert got.data == {"k": "v"}
    assert got.metadata is not None and got.metadata.creationTimestamp is not None
    listed = [c async for c in kube.list(ConfigMap, namespace="shop", labels={"tier": "web"})]
    assert [c.metadata.name for c in listed if c.metadata] == ["cfg"]
    everywhere = [s async for s in kube.list(ConfigMap, namespace="*")]
    assert len(everywhere) == 1
    await kube.delete(ConfigMap, "cfg", namespace="shop")
    with pytest.raises(ApiError) as info:
        await kube.get(ConfigMap, "cfg", namespace="shop")
    assert info.value.status.code == 404
    assert info.value.status.reason == "NotFound"
    assert info.value.status.message == 'configmaps "cfg" not found'


async def test_server_side_apply_with_lightkube(kube: AsyncClient) -> None:
    await kube.create(Namespace(metadata=ObjectMeta(name="shop")))
    first = await kube.apply(
        Deployment.from_dict(deployment("web")), namespace="shop", field_manager="storeplane"
    )
    assert first.metadata is not None and first.metadata.generation == 1
    second = await kube.apply(
        Deployment.from_dict(deployment("web", replicas=3)),
        namespace="shop",
        field_manager="storeplane",
        force=True,
    )
    assert second.spec is not None and second.spec.replicas == 3
    assert second.metadata is not None and second.metadata.generation == 2

    async def ready() -> Deployment:
        while True:
            d = await kube.get(Deployment, "web", namespace="shop")
            if d.status and d.status.readyReplicas == 3:
                return d
            await asyncio.sleep(0.02)

    done = await asyncio.wait_for(ready(), 3)
    assert done.status is not None and done.status.observedGeneration == 2

    secret = await kube.apply(
        Secret(metadata=ObjectMeta(name="db"), stringData={"password": "x"}),
        namespace="shop",
        field_manager="storeplane",
    )
    assert secret.data == {"password": "eA=="}


async def test_conflict_and_forbidden_errors_reach_lightkube(kube: AsyncClient) -> None:
    await kube.create(Namespace(metadata=ObjectMeta(name="shop")))
    created = await kube.create(ConfigMap(metadata=ObjectMeta(name="c")), namespace="shop")
    created.data = {"v": "1"}
    await kube.replace(created, namespace="shop")
    created.data = {"v": "2"}
    with pytest.raises(ApiError) as info:
        await kube.replace(created, namespace="shop")  # its resourceVersion is now stale
    assert info.value.status.code == 409
    assert info.value.status.reason == "Conflict"

    await kube.delete(Namespace, "shop")
    with pytest.raises(ApiError) as info:
        await kube.create(ConfigMap(metadata=ObjectMeta(name="d")), namespace="shop")
    assert info.value.status.code == 403


async def test_lightkube_reads_the_written_kubeconfig(
    sim: RunningSimulator, tmp_path: Path
) -> None:
    path = write_kubeconfig(tmp_path / "kube" / "config", sim.url)
    assert path.stat().st_mode & 0o777 == 0o600
    client = AsyncClient(KubeConfig.from_file(path))
    try:
        names = [n.metadata.name async for n in client.list(Namespace) if n.metadata]
        assert "default" in names
        assert client.namespace == "default"
    finally:
        await client.close()
