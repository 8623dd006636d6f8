"""The local node's kubelet: config errors, restarts, Jobs, scheduling, the simulated rest.

Real processes (Debian's PostgreSQL image contract runs ``sh`` commands here) on one shared
simulator with local runtimes on; each test has its own namespace.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import httpx
import pytest
from node_helpers import alive, finished, kubectl, pod, pods, ready, require_runtime
from sim_helpers import wait_until

from storeplane.sim.kubeconfig import write_kubeconfig
from storeplane.sim.runner import SimulatorConfig, start_in_thread

TOOLS = "postgres:16-alpine"  # has a local runtime: sh and the PostgreSQL client tools


@pytest.fixture
def ns(lhttp: httpx.Client) -> str:
    require_runtime(TOOLS)
    created = lhttp.post("/api/v1/namespaces", json={"metadata": {"generateName": "kubelet-"}})
    assert created.status_code == 201, created.text
    return str(created.json()["metadata"]["name"])


def _post(http: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = http.post(path, json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _bare(name: str, command: str, **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": name}, "spec": {"containers": [
        {"name": "main", "image": TOOLS, "command": ["sh", "-c", command]}], **spec}}  # fmt: skip


def _waiting(obj: dict[str, Any]) -> dict[str, Any]:
    statuses = (obj.get("status") or {}).get("containerStatuses") or [{}]
    return dict((statuses[0].get("state") or {}).get("waiting") or {})


MISSING = [
    pytest.param({"secretKeyRef": {"name": "creds", "key": "db-password"}}, True,
                 "couldn't find key db-password in Secret {ns}/creds",
                 id="a missing key of an existing Secret names the key, namespace and Secret"),
    pytest.param({"secretKeyRef": {"name": "nope", "key": "db-password"}}, False,
                 'secret "nope" not found', id="a missing Secret is named"),
    pytest.param({"configMapKeyRef": {"name": "settings", "key": "mode"}}, False,
                 'configmap "settings" not found', id="a missing ConfigMap is named"),
]  # fmt: skip


@pytest.mark.parametrize(("source", "make_secret", "message"), MISSING)
def test_missing_config_leaves_the_container_in_create_container_config_error(
    lhttp: httpx.Client, ns: str, source: dict[str, Any], make_secret: bool, message: str
) -> None:
    if make_secret:
        _post(lhttp, f"/api/v1/namespaces/{ns}/secrets",
              {"metadata": {"name": "creds"}, "data": {"other": base64.b64encode(b"x").decode()}})  # fmt: skip
    body = _bare("app", "echo started; sleep 60")
    body["spec"]["containers"][0]["env"] = [{"name": "VALUE", "valueFrom": source}]
    _post(lhttp, f"/api/v1/namespaces/{ns}/pods", body)
    waiting = wait_until(
        lambda: (w := _waiting(pod(lhttp, ns, "app"))).get("reason") and w, timeout=15
    )
    assert waiting == {"reason": "CreateContainerConfigError", "message": message.format(ns=ns)}
    assert not ready(pod(lhttp, ns, "app"))
    # fixing the chart's mistake lets the kubelet start the container on its next try
    data = {
        "db-password": base64.b64encode(b"pw").decode(),
        "mode": base64.b64encode(b"m").decode(),
    }
    if "configMapKeyRef" in source:
        _post(lhttp, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "settings"},
                                                            "data": {"mode": "m"}})  # fmt: skip
    elif make_secret:
        current = lhttp.get(f"/api/v1/namespaces/{ns}/secrets/creds").json()
        current["data"] = data
        assert lhttp.put(f"/api/v1/namespaces/{ns}/secrets/creds", json=current).status_code == 200
    else:
        _post(
            lhttp, f"/api/v1/namespaces/{ns}/secrets", {"metadata": {"name": "nope"}, "data": data}
        )
    wait_until(lambda: ready(pod(lhttp, ns, "app")), timeout=20)


def test_env_is_resolved_and_expanded_as_the_kubelet_does(lhttp: httpx.Client, ns: str) -> None:
    _post(lhttp, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "cfg"},
                                                        "data": {"A": "from-map", "B": "b"}})  # fmt: skip
    body = _bare(
        "env", 'echo "$A|$P_B|$NAME|$NS|$TIER|$URL|$(NAME)|$WORKDIR|$(pwd)"', restartPolicy="Never"
    )
    container = body["spec"]["containers"][0]
    body["metadata"]["labels"] = {"tier": "web"}
    container["envFrom"] = [
        {"configMapRef": {"name": "cfg"}},
        {"prefix": "P_", "configMapRef": {"name": "cfg"}},
    ]
    container["env"] = [
        {"name": "NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        {"name": "TIER", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['tier']"}}},
        {"name": "URL", "value": "http://$(NAME):80/$$(NAME)"},
        {"name": "WORKDIR", "value": "/work"},
    ]
    container["workingDir"] = "/work"
    container["volumeMounts"] = [{"name": "w", "mountPath": "/work"}]
    body["spec"]["volumes"] = [{"name": "w", "emptyDir": {}}]
    _post(lhttp, f"/api/v1/namespaces/{ns}/pods", body)
    done = wait_until(lambda: finished(p := pod(lhttp, ns, "env")) and p, timeout=20)
    log = lhttp.get(f"/api/v1/namespaces/{ns}/pods/env/log").text.strip()
    assert done["status"]["phase"] == "Succeeded", log
    fields = log.split("|")
    assert fields[:7] == ["from-map", "b", "env", ns, "web", "http://env:80/$(NAME)", "env"]
    # /work is the emptyDir's folder on this machine, in env and as the working directory
    assert fields[7] == fields[8] and fields[7].endswith("/volumes/w")


def test_a_crashing_container_backs_off_with_restart_count_and_last_state(
    lhttp: httpx.Client, ns: str
) -> None:
    _post(lhttp, f"/api/v1/namespaces/{ns}/pods", _bare("crash", "echo boom; exit 3"))

    def backing_off() -> dict[str, Any] | None:
        status = (pod(lhttp, ns, "crash").get("status") or {}).get("containerStatuses") or [{}]
        waiting = (status[0].get("state") or {}).get("waiting") or {}
        return status[0] if waiting.get("reason") == "CrashLoopBackOff" else None

    status = wait_until(backing_off, timeout=20)
    assert status["restartCount"] >= 1
    assert status["lastState"]["terminated"]["exitCode"] == 3
    assert "back-off 10s restarting failed container=main" in status["state"]["waiting"]["message"]
    events = lhttp.get(f"/api/v1/namespaces/{ns}/events").json()["items"]
    assert any(e["reason"] == "BackOff" and e["type"] == "Warning" for e in events)
    log = lhttp.get(f"/api/v1/namespaces/{ns}/pods/crash/log").text
    assert log == "boom\n"


def test_init_containers_run_in_order_before_the_containers(lhttp: httpx.Client, ns: str) -> None:
    body = _bare("ordered", "cat /shared/order; sleep 60")
    body["spec"]["initContainers"] = [
        {"name": f"init-{i}", "image": TOOLS, "command": ["sh", "-c", f"sleep 0.{i}; echo {i} >> /shared/order"],
         "volumeMounts": [{"name": "shared", "mountPath": "/shared"}]} for i in (1, 2)]  # fmt: skip
    body["spec"]["containers"][0]["volumeMounts"] = [{"name": "shared", "mountPath": "/shared"}]
    body["spec"]["volumes"] = [{"name": "shared", "emptyDir": {}}]
    _post(lhttp, f"/api/v1/namespaces/{ns}/pods", body)
    wait_until(lambda: ready(pod(lhttp, ns, "ordered")), timeout=20)
    log = wait_until(lambda: lhttp.get(f"/api/v1/namespaces/{ns}/pods/ordered/log").text, timeout=5)
    assert log.split() == ["1", "2"]
    inits = pod(lhttp, ns, "ordered")["status"]["initContainerStatuses"]
    assert [s["state"]["terminated"]["reason"] for s in inits] == ["Completed", "Completed"]


def test_a_job_honours_its_backoff_limit(lhttp: httpx.Client, ns: str) -> None:
    job = {"metadata": {"name": "fails"}, "spec": {"backoffLimit": 0, "template": {
        "spec": {"restartPolicy": "Never", "containers": [
            {"name": "main", "image": TOOLS, "command": ["sh", "-c", "exit 2"]}]}}}}  # fmt: skip
    _post(lhttp, f"/apis/batch/v1/namespaces/{ns}/jobs", job)

    def failed() -> dict[str, Any] | None:
        current = lhttp.get(f"/apis/batch/v1/namespaces/{ns}/jobs/fails").json()
        conditions = (current.get("status") or {}).get("conditions") or []
        return current if any(c["type"] == "Failed" for c in conditions) else None

    current = wait_until(failed, timeout=20)
    condition = next(c for c in current["status"]["conditions"] if c["type"] == "Failed")
    assert condition["reason"] == "BackoffLimitExceeded"
    assert current["status"]["failed"] == 1
    job_pods = pods(lhttp, ns, "job-name=fails")
    assert [p["status"]["phase"] for p in job_pods] == ["Failed"]
    assert job_pods[0]["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 2


def test_a_job_of_simulated_images_completes_after_the_job_delay(
    lhttp: httpx.Client, ns: str
) -> None:
    job = {
        "metadata": {"name": "wp-setup"},
        "spec": {
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "cli", "image": "wordpress:cli-2"}],
                }
            }
        },
    }
    _post(lhttp, f"/apis/batch/v1/namespaces/{ns}/jobs", job)
    wait_until(lambda: (lhttp.get(f"/apis/batch/v1/namespaces/{ns}/jobs/wp-setup").json()
                        .get("status") or {}).get("succeeded") == 1, timeout=15)  # fmt: skip
    job_pod = pods(lhttp, ns, "job-name=wp-setup")[0]
    assert job_pod["spec"]["nodeName"] == "storeplane-sim-node"
    simulated = next(
        c for c in job_pod["status"]["conditions"] if c["type"] == "sim.storeplane.dev/Simulated"
    )
    assert "wordpress:cli-2" in simulated["message"]


def test_a_pod_mixing_local_and_simulated_images_says_which_are_simulated(
    lhttp: httpx.Client, ns: str
) -> None:
    body = _bare("mixed", "sleep 60")
    body["spec"]["containers"].append({"name": "web", "image": "wordpress:6.6"})
    _post(lhttp, f"/api/v1/namespaces/{ns}/pods", body)
    current = wait_until(lambda: ready(p := pod(lhttp, ns, "mixed")) and p, timeout=20)
    assert current["spec"]["nodeName"] == "storeplane-local"
    condition = next(
        c for c in current["status"]["conditions"] if c["type"] == "sim.storeplane.dev/Simulated"
    )
    assert condition["reason"] == "NoLocalRuntime" and "wordpress:6.6" in condition["message"]
    assert TOOLS not in condition["message"]


def test_a_pod_that_does_not_fit_the_machine_stays_pending_with_failed_scheduling(
    lhttp: httpx.Client, ns: str
) -> None:
    body = _bare("huge", "sleep 60")
    body["spec"]["containers"][0]["resources"] = {"requests": {"memory": "100Ti", "cpu": "10m"}}
    _post(lhttp, f"/api/v1/namespaces/{ns}/pods", body)

    def unschedulable() -> dict[str, Any] | None:
        conditions = (pod(lhttp, ns, "huge").get("status") or {}).get("conditions") or []
        return next(
            (c for c in conditions if c["type"] == "PodScheduled" and c["status"] == "False"), None
        )

    condition = wait_until(unschedulable, timeout=10)
    assert condition["reason"] == "Unschedulable"
    assert condition["message"].startswith("0/1 nodes are available: 1 Insufficient memory.")
    assert pod(lhttp, ns, "huge")["status"]["phase"] == "Pending"
    assert not pod(lhttp, ns, "huge")["spec"].get("nodeName")
    events = lhttp.get(f"/api/v1/namespaces/{ns}/events").json()["items"]
    assert any(
        e["reason"] == "FailedScheduling" and "Insufficient memory" in e["message"] for e in events
    )
    # simulated pods never compete with this machine: the virtual node takes them
    simulated = {"metadata": {"name": "sim-huge"}, "spec": {"containers": [{"name": "w", "image": "wordpress:6.6",
                 "resources": {"requests": {"memory": "100Ti"}}}]}}  # fmt: skip
    _post(lhttp, f"/api/v1/namespaces/{ns}/pods", simulated)
    wait_until(lambda: ready(pod(lhttp, ns, "sim-huge")), timeout=10)
    nodes = {n["metadata"]["name"]: n for n in lhttp.get("/api/v1/nodes").json()["items"]}
    assert set(nodes) == {"storeplane-local", "storeplane-sim-node"}
    assert nodes["storeplane-local"]["status"]["allocatable"]["memory"].endswith("Ki")


def test_a_deleted_pod_gets_sigterm_and_its_folders_go(lhttp: httpx.Client, ns: str) -> None:
    body = _bare(
        "graceful", "trap 'echo got TERM; exit 0' TERM; echo up; while :; do sleep 0.1; done"
    )
    body["spec"]["volumes"] = [{"name": "scratch", "emptyDir": {}}]
    body["spec"]["containers"][0]["volumeMounts"] = [{"name": "scratch", "mountPath": "/scratch"}]
    _post(lhttp, f"/api/v1/namespaces/{ns}/pods", body)
    wait_until(lambda: ready(pod(lhttp, ns, "graceful")), timeout=20)
    residue = lhttp.get("/sim/v1/node/residue", params={"namespace": ns}).json()
    (process,) = residue["processes"]
    assert process["pod"] == "graceful" and process["container"] == "main" and alive(process["pid"])
    log_file = next(
        f for f in residue["folders"] if f.endswith(pod(lhttp, ns, "graceful")["metadata"]["uid"])
    )
    assert lhttp.delete(f"/api/v1/namespaces/{ns}/pods/graceful").status_code == 200
    wait_until(lambda: not alive(process["pid"]), timeout=10)
    wait_until(lambda: lhttp.get("/sim/v1/node/residue", params={"namespace": ns}).json()
               == {"processes": [], "folders": []}, timeout=10)  # fmt: skip
    assert not Path(log_file).exists()


def test_a_process_that_left_its_container_is_found_and_ended_with_the_pod(
    lhttp: httpx.Client, ns: str
) -> None:
    # As Medusa's telemetry does when its CLI exits: a child in a session of its own, which
    # the container's process group signal never reaches. It writes into the pod's volume.
    body = _bare(
        "leaver",
        "setsid sh -c 'while :; do date > /scratch/stray; sleep 0.2; done' & "
        "while :; do sleep 0.1; done",
    )
    body["spec"]["volumes"] = [{"name": "scratch", "emptyDir": {}}]
    body["spec"]["containers"][0]["volumeMounts"] = [{"name": "scratch", "mountPath": "/scratch"}]
    _post(lhttp, f"/api/v1/namespaces/{ns}/pods", body)
    wait_until(lambda: ready(pod(lhttp, ns, "leaver")), timeout=20)

    def residue_with_the_stray() -> dict[str, Any] | None:
        found = lhttp.get("/sim/v1/node/residue", params={"namespace": ns}).json()
        return found if len(found["processes"]) == 2 else None

    residue = wait_until(residue_with_the_stray, timeout=10)
    main, stray = residue["processes"]  # the container's own process first, then the stray
    assert main["pod"] == stray["pod"] == "leaver" and stray["pid"] != main["pid"]
    assert alive(stray["pid"])
    assert lhttp.delete(f"/api/v1/namespaces/{ns}/pods/leaver").status_code == 200
    wait_until(lambda: lhttp.get("/sim/v1/node/residue", params={"namespace": ns}).json()
               == {"processes": [], "folders": []}, timeout=15)  # fmt: skip
    assert not alive(stray["pid"])
    assert not any(Path(f).exists() for f in residue["folders"])


def test_kubectl_logs_follows_a_running_container_until_it_ends(
    sim: Any, lhttp: httpx.Client, ns: str, tmp_path: Path
) -> None:
    script = "echo first; sleep 1; for i in 2 3; do echo line $i; sleep 0.3; done"
    _post(lhttp, f"/api/v1/namespaces/{ns}/pods", _bare("talker", script, restartPolicy="Never"))
    wait_until(lambda: "running" in (pod(lhttp, ns, "talker")["status"].get("containerStatuses")
                                     or [{}])[0].get("state", {}), timeout=15)  # fmt: skip
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", sim.url)
    followed = kubectl(kubeconfig, "logs", "-f", "-n", ns, "talker", timeout=30)
    assert followed.returncode == 0, followed.stderr
    assert followed.stdout.splitlines() == ["first", "line 2", "line 3"]
    tail = kubectl(kubeconfig, "logs", "-n", ns, "talker", "--tail=1")
    assert tail.stdout == "line 3\n"
    previous = kubectl(kubeconfig, "logs", "-n", ns, "talker", "--previous")
    assert previous.returncode != 0 and 'previous terminated container "main"' in previous.stderr


def test_kubectl_logs_of_a_job_reads_that_jobs_pod_among_others(
    sim: Any, lhttp: httpx.Client, ns: str, tmp_path: Path
) -> None:
    """kubectl finds a Job's pods through the selector the API server generated from its uid
    (an empty selector would match every pod of the namespace and kubectl would pick one)."""
    for name in ("first", "second"):
        job = {"metadata": {"name": name}, "spec": {"template": {"spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "main", "image": TOOLS,
                            "command": ["sh", "-c", f"echo I am {name}"]}]}}}}  # fmt: skip
        _post(lhttp, f"/apis/batch/v1/namespaces/{ns}/jobs", job)

    def complete(name: str) -> bool:
        job = lhttp.get(f"/apis/batch/v1/namespaces/{ns}/jobs/{name}").json()
        return bool(job.get("status", {}).get("succeeded"))

    for name in ("first", "second"):
        wait_until(lambda n=name: complete(n), timeout=30)
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", sim.url)
    for name in ("first", "second"):
        logs = kubectl(kubeconfig, "logs", "-n", ns, f"job/{name}")
        assert (logs.returncode, logs.stdout, logs.stderr) == (0, f"I am {name}\n", "")
    second = lhttp.get(f"/apis/batch/v1/namespaces/{ns}/jobs/second").json()
    uid = second["metadata"]["uid"]
    assert second["spec"]["selector"] == {
        "matchLabels": {"batch.kubernetes.io/controller-uid": uid}
    }
    assert (
        second["spec"]["template"]["metadata"]["labels"]["batch.kubernetes.io/job-name"] == "second"
    )
    given = {"metadata": {"name": "chosen"}, "spec": {
        "selector": {"matchLabels": {"app": "chosen"}},
        "template": {"metadata": {"labels": {"app": "chosen"}}, "spec": {
            "restartPolicy": "Never", "containers": [{"name": "main", "image": TOOLS}]}}}}  # fmt: skip
    refused = lhttp.post(f"/apis/batch/v1/namespaces/{ns}/jobs", json=given)
    assert refused.status_code == 422
    assert "spec.selector" in refused.json()["message"]
    assert "auto-generated" in refused.json()["message"]
    given["spec"]["manualSelector"] = True
    kept = _post(lhttp, f"/apis/batch/v1/namespaces/{ns}/jobs", given)
    assert kept["spec"]["selector"] == {"matchLabels": {"app": "chosen"}}


def test_a_failing_liveness_probe_restarts_the_container(lhttp: httpx.Client, ns: str) -> None:
    body = _bare("unhealthy", "sleep 60")
    body["spec"]["terminationGracePeriodSeconds"] = 1
    body["spec"]["containers"][0]["livenessProbe"] = {
        "tcpSocket": {"port": 1}, "periodSeconds": 1, "failureThreshold": 2}  # fmt: skip
    _post(lhttp, f"/api/v1/namespaces/{ns}/pods", body)

    def restarted() -> bool:
        statuses = (pod(lhttp, ns, "unhealthy").get("status") or {}).get("containerStatuses") or [
            {}
        ]
        return int(statuses[0].get("restartCount") or 0) >= 1

    wait_until(restarted, timeout=20)
    events = lhttp.get(f"/api/v1/namespaces/{ns}/events").json()["items"]
    assert any(
        e["reason"] == "Unhealthy" and e["message"].startswith("Liveness probe failed")
        for e in events
    )
    assert any(e["reason"] == "Killing" and "failed liveness probe" in e["message"] for e in events)


def test_endpoints_and_endpoint_slices_follow_ready_pods(lhttp: httpx.Client, ns: str) -> None:
    body = _bare("web", "sleep 60")
    body["metadata"]["labels"] = {"app": "web"}
    body["spec"]["containers"][0]["ports"] = [{"name": "http", "containerPort": 8080}]
    _post(lhttp, f"/api/v1/namespaces/{ns}/services", {"metadata": {"name": "web"}, "spec": {
        "selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": "http"}]}})  # fmt: skip
    _post(lhttp, f"/api/v1/namespaces/{ns}/pods", body)
    ip = wait_until(lambda: ready(p := pod(lhttp, ns, "web")) and p["status"]["podIP"], timeout=20)

    def endpoints() -> dict[str, Any] | None:
        found = lhttp.get(f"/api/v1/namespaces/{ns}/endpoints/web").json()
        return found if (found.get("subsets") or [{}])[0].get("addresses") else None

    subset = wait_until(endpoints, timeout=10)["subsets"][0]
    assert [a["ip"] for a in subset["addresses"]] == [ip]
    assert subset["ports"][0]["port"] == 8080
    slices = lhttp.get(f"/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices",
                       params={"labelSelector": "kubernetes.io/service-name=web"}).json()["items"]  # fmt: skip
    assert [e["addresses"] for e in slices[0]["endpoints"]] == [[ip]]
    assert slices[0]["endpoints"][0]["conditions"]["ready"] is True


def test_an_operators_own_runtime_table_runs_its_image(tmp_path: Path) -> None:
    table = tmp_path / "runtimes.yaml"
    table.write_text("runtimes:\n  - image: example.com/tools\n    path: [/bin]\n"
                     "    command: [sh, -c, 'echo tools ran in $(pwd)']\n    workingDir: /work\n")  # fmt: skip
    config = SimulatorConfig(ready_delay=0.1, runtimes_file=table)
    with start_in_thread(config) as own, httpx.Client(base_url=own.url, timeout=10) as http:
        http.post("/api/v1/namespaces", json={"metadata": {"name": "own"}})
        _post(http, "/api/v1/namespaces/own/pods", {"metadata": {"name": "t"}, "spec": {
            "restartPolicy": "Never", "volumes": [{"name": "w", "emptyDir": {}}],
            "containers": [{"name": "t", "image": "example.com/tools:2",
                            "volumeMounts": [{"name": "w", "mountPath": "/work"}]}]}})  # fmt: skip
        done = wait_until(lambda: finished(p := pod(http, "own", "t")) and p, timeout=15)
        log = http.get("/api/v1/namespaces/own/pods/t/log").text
        assert done["status"]["phase"] == "Succeeded", log
        assert log.startswith("tools ran in /") and log.strip().endswith("/volumes/w")
        # the built-in images are not in an operator's table: postgres is simulated there
        _post(http, "/api/v1/namespaces/own/pods", {"metadata": {"name": "db"}, "spec": {
            "containers": [{"name": "db", "image": "postgres:16"}]}})  # fmt: skip
        wait_until(lambda: pod(http, "own", "db").get("spec", {}).get("nodeName") == "storeplane-sim-node",
                   timeout=10)  # fmt: skip


def test_a_helper_that_left_the_process_group_is_found_and_stopped_with_its_pod(
    lhttp: httpx.Client, ns: str
) -> None:
    # setsid: a new session, out of reach of a signal to the container's process group
    _post(
        lhttp, f"/api/v1/namespaces/{ns}/pods", _bare("escape", "setsid sleep 300 & exec sleep 300")
    )
    wait_until(lambda: ready(pod(lhttp, ns, "escape")), timeout=20)

    def both() -> list[dict[str, Any]] | None:
        found = lhttp.get("/sim/v1/node/residue", params={"namespace": ns}).json()["processes"]
        return found if len(found) == 2 else None

    processes = wait_until(both, timeout=10)
    assert {p["container"] for p in processes} == {"main"}
    assert lhttp.delete(f"/api/v1/namespaces/{ns}/pods/escape").status_code == 200
    wait_until(lambda: not any(alive(p["pid"]) for p in processes), timeout=40)
    wait_until(lambda: lhttp.get("/sim/v1/node/residue", params={"namespace": ns}).json()
               == {"processes": [], "folders": []}, timeout=10)  # fmt: skip
