"""List pages (``limit``/``continue``) as a real API server serves them: every page from the
first page's snapshot and at its resourceVersion, so a client watching from that version
misses nothing changed while it paged; the API server's continue tokens, 400 and 410; and
the official clients paging: ``kubectl get --chunk-size`` and the Python ``kubernetes``
client's ``limit``/``_continue``."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from kubernetes import client, config  # type: ignore[import-untyped]

from storeplane.sim.kubeconfig import write_kubeconfig
from storeplane.sim.runner import RunningSimulator, SimulatorConfig, start_in_thread
from storeplane.sim.store import paging
from storeplane.sim.store.paging import EXPIRED_MESSAGE

KUBECTL = shutil.which("kubectl")


@pytest.fixture
def sim(shared_sim: RunningSimulator) -> RunningSimulator:
    return shared_sim


def _configmaps(http: httpx.Client, ns: str, count: int, label: str = "a") -> None:
    for n in range(count):
        http.post(
            f"/api/v1/namespaces/{ns}/configmaps",
            json={"metadata": {"name": f"cm-{n:02d}", "labels": {"group": label}}},
        ).raise_for_status()


def _names(page: dict[str, Any]) -> list[str]:
    return [item["metadata"]["name"] for item in page["items"]]


def _delete_one(http: httpx.Client, ns: str) -> None:
    http.delete(f"/api/v1/namespaces/{ns}/configmaps/cm-05").raise_for_status()


def _change_one(http: httpx.Client, ns: str) -> None:
    http.patch(
        f"/api/v1/namespaces/{ns}/configmaps/cm-05",
        json={"data": {"changed": "yes"}},
        headers={"Content-Type": "application/merge-patch+json"},
    ).raise_for_status()


def _add_one(http: httpx.Client, ns: str) -> None:
    http.post(
        f"/api/v1/namespaces/{ns}/configmaps",
        json={"metadata": {"name": "cm-04x", "labels": {"group": "a"}}},
    ).raise_for_status()


@pytest.mark.parametrize(
    ("change", "event"),
    [(_delete_one, "DELETED"), (_change_one, "MODIFIED"), (_add_one, "ADDED")],
    ids=[
        "an object deleted between pages is still on its page, and the watch says DELETED",
        "an object changed between pages is on its page as it was, and the watch says MODIFIED",
        "an object made between pages is not in the list, and the watch says ADDED",
    ],
)
def test_every_page_comes_from_the_first_pages_snapshot_and_version(
    http: httpx.Client, ns: str, change: Callable[[httpx.Client, str], None], event: str
) -> None:
    _configmaps(http, ns, 8)
    url = f"/api/v1/namespaces/{ns}/configmaps"
    first = http.get(url, params={"limit": "3"}).json()
    version = first["metadata"]["resourceVersion"]
    change(http, ns)
    names, pages, page = _names(first), [first], first
    while page["metadata"].get("continue"):
        page = http.get(url, params={"limit": "3", "continue": page["metadata"]["continue"]})
        page = page.json()
        pages.append(page)
        names += _names(page)
    assert names == [f"cm-{n:02d}" for n in range(8)]
    assert {p["metadata"]["resourceVersion"] for p in pages} == {version}
    assert (
        next(i for p in pages for i in p["items"] if i["metadata"]["name"] == "cm-05").get("data")
        is None
    ), "a later page showed an object as it is now, not as the snapshot had it"
    watched = http.get(
        url, params={"watch": "1", "resourceVersion": version, "timeoutSeconds": "1"}
    )
    events = [json.loads(line) for line in watched.text.splitlines() if line.strip()]
    assert [e["type"] for e in events] == [event]


def test_the_continue_token_is_the_api_servers_and_counts_remain_only_without_selectors(
    http: httpx.Client, ns: str
) -> None:
    _configmaps(http, ns, 5)
    url = f"/api/v1/namespaces/{ns}/configmaps"
    plain = http.get(url, params={"limit": "2"}).json()["metadata"]
    token = json.loads(base64.urlsafe_b64decode(plain["continue"] + "=="))
    assert token == {
        "v": "meta.k8s.io/v1",
        "rv": int(plain["resourceVersion"]),
        "start": "cm-01\x00",
    }
    assert plain["remainingItemCount"] == 3
    selected = http.get(url, params={"limit": "2", "labelSelector": "group=a"}).json()["metadata"]
    assert "continue" in selected and "remainingItemCount" not in selected
    everywhere = http.get("/api/v1/configmaps", params={"limit": "1"}).json()["metadata"]
    start = json.loads(base64.urlsafe_b64decode(everywhere["continue"] + "=="))["start"]
    assert start.endswith("\x00") and "/" in start, "across namespaces the start is ns/name"


@pytest.mark.parametrize(
    "token",
    ["not base64 at all!", base64.urlsafe_b64encode(b'{"v":"meta.k8s.io/v2"}').decode()],
    ids=["a token that is not base64 JSON is refused", "a token of another version is refused"],
)
def test_a_bad_continue_token_is_a_400(http: httpx.Client, ns: str, token: str) -> None:
    answer = http.get(f"/api/v1/namespaces/{ns}/configmaps", params={"continue": token})
    assert answer.status_code == 400
    assert answer.json()["message"].startswith("continue key is not valid")


@pytest.fixture
def kubeconfig(sim: RunningSimulator, tmp_path: Path) -> Path:
    return write_kubeconfig(tmp_path / "kubeconfig", sim.url)


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed (scripts/setup.sh)")
def test_kubectl_get_with_a_chunk_size_lists_everything(
    http: httpx.Client, ns: str, kubeconfig: Path
) -> None:
    _configmaps(http, ns, 7)
    out = subprocess.run(
        [str(KUBECTL), "--kubeconfig", str(kubeconfig), "get", "configmaps", "-n", ns,
         "--chunk-size=2", "-o", "name"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout.split()  # fmt: skip
    assert out == [f"configmap/cm-{n:02d}" for n in range(7)]
    table = subprocess.run(
        [str(KUBECTL), "--kubeconfig", str(kubeconfig), "get", "configmaps", "-A",
         "--chunk-size=3", "--no-headers"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    assert sum(1 for line in table.splitlines() if line.split()[0] == ns) == 7


def test_the_python_client_pages_with_limit_and_continue(
    http: httpx.Client, ns: str, kubeconfig: Path
) -> None:
    _configmaps(http, ns, 5)
    api = client.CoreV1Api(config.new_client_from_config(str(kubeconfig)))
    names: list[str] = []
    token = None
    while True:
        page = api.list_namespaced_config_map(ns, limit=2, _continue=token)
        names += [item.metadata.name for item in page.items]
        token = page.metadata._continue
        if not token:
            break
    assert names == [f"cm-{n:02d}" for n in range(5)]


@pytest.fixture
def restartable(tmp_path: Path) -> Iterator[Callable[[], RunningSimulator]]:
    """Start a simulator on a state file; calling it again stops it and starts a new one."""
    running: list[RunningSimulator] = []

    def start() -> RunningSimulator:
        if running:
            running.pop().stop()
        state = tmp_path / "state.db"
        running.append(start_in_thread(SimulatorConfig(state_path=state, controllers=False)))
        return running[0]

    yield start
    for sim in running:
        sim.stop()


def test_a_token_from_before_a_restart_goes_on_if_nothing_changed_and_else_is_410(
    restartable: Callable[[], RunningSimulator],
) -> None:
    sim = restartable()
    ns = "paged"
    with httpx.Client(base_url=sim.url, timeout=5) as kube:
        kube.post("/api/v1/namespaces", json={"metadata": {"name": ns}}).raise_for_status()
        _configmaps(kube, ns, 5)
        first = kube.get(f"/api/v1/namespaces/{ns}/configmaps", params={"limit": "2"}).json()
    token = first["metadata"]["continue"]
    sim = restartable()  # the snapshot is gone, nothing was written
    with httpx.Client(base_url=sim.url, timeout=5) as kube:
        url = f"/api/v1/namespaces/{ns}/configmaps"
        page = kube.get(url, params={"limit": "2", "continue": token}).json()
        assert _names(page) == ["cm-02", "cm-03"]
        assert page["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]
    sim = restartable()
    with httpx.Client(base_url=sim.url, timeout=5) as kube:
        kube.delete(f"{url}/cm-04").raise_for_status()
        gone = kube.get(url, params={"limit": "2", "continue": token})
        assert gone.status_code == 410
        status = gone.json()
        assert (status["reason"], status["message"]) == ("Expired", EXPIRED_MESSAGE)
        rest = kube.get(url, params={"continue": status["metadata"]["continue"]}).json()
        assert _names(rest) == ["cm-02", "cm-03"], "the inconsistent token goes on from there"


def test_the_least_recently_paged_snapshot_is_the_one_dropped() -> None:
    snapshots = paging.Snapshots(keep=2)
    items = [{"metadata": {"namespace": "ns", "name": f"o{n}"}} for n in range(6)]
    tokens = {}
    for query in ("a", "b"):
        _, last, _ = snapshots.page((query,), 7, 2, items)
        assert last is not None
        tokens[query] = paging.Continue(7, last)
    # "a" is paged again, so "b" is now the least recently paged: a third list drops it.
    resumed = snapshots.resume(("a",), tokens["a"], 2)
    assert resumed is not None and [o["metadata"]["name"] for o in resumed[0]] == ["o2", "o3"]
    snapshots.page(("c",), 7, 2, items)
    assert snapshots.resume(("b",), tokens["b"], 2) is None
    assert snapshots.resume(("a",), paging.Continue(7, ("ns", "o3")), 2) is not None
