"""The ingress listener and the service proxy in front of a real process (CONTRACTS A, B).

An operator's runtime table gives the image ``example.com/echo`` a local runtime: a few
lines of Python that answer with the request they got, bound to the pod's address. So the
routing rules and the forwarded headers are checked without Medusa.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from node_helpers import pod, ready
from sim_helpers import wait_until

from storeplane.sim.runner import RunningSimulator, SimulatorConfig, start_in_thread

ECHO = """
import http.server, json, os
class H(http.server.BaseHTTPRequestHandler):
    def answer(self):
        size = int(self.headers.get("content-length") or 0)
        body = json.dumps({"method": self.command, "path": self.path,
                           "headers": dict(self.headers), "body": self.rfile.read(size).decode(),
                           "pod": os.environ.get("HOSTNAME")}).encode()
        self.send_response(int(os.environ.get("STATUS", "200")))
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    do_GET = do_POST = do_PUT = do_DELETE = answer
http.server.ThreadingHTTPServer((os.environ["HOST"], 8080), H).serve_forever()
"""


@pytest.fixture(scope="module")
def echo_sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSimulator]:
    table = tmp_path_factory.mktemp("table") / "runtimes.json"
    table.write_text(json.dumps({"runtimes": [{
        "image": "example.com/echo", "path": ["/usr/bin"], "requires": ["/usr/bin/python3"],
        "command": ["python3", "-c", ECHO], "bindEnv": {"HOST": "{pod_ip}"}}]}))  # fmt: skip
    config = SimulatorConfig(ready_delay=0.1, runtimes_file=table, ingress_port=0)
    with start_in_thread(config) as running:
        yield running


@pytest.fixture
def sim(echo_sim: RunningSimulator) -> RunningSimulator:
    return echo_sim


def _post(http: httpx.Client, path: str, body: dict[str, Any]) -> None:
    response = http.post(path, json=body)
    assert response.status_code == 201, response.text


@pytest.fixture(scope="module")
def shop(echo_sim: RunningSimulator) -> str:
    """Namespace ``echo``: a ready echo pod behind Service ``web``, a WordPress (simulated)
    behind ``blog``, a never-ready echo behind ``slow``, and an Ingress for all three."""
    with httpx.Client(base_url=echo_sim.url, timeout=10) as http:
        http.post("/api/v1/namespaces", json={"metadata": {"name": "echo"}})
        for name, image, extra in (
            (
                "web",
                "example.com/echo:1",
                {"readinessProbe": {"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 1}},
            ),
            ("blog", "wordpress:6.6", {}),
            (
                "slow",
                "example.com/echo:1",
                {"readinessProbe": {"httpGet": {"path": "/", "port": 1}}},
            ),
        ):
            spec = {"containers": [{"name": "c", "image": image, **extra,
                                    "ports": [{"name": "http", "containerPort": 8080}]}]}  # fmt: skip
            if name == "blog":  # the proxy's stand-in answers for a ready workload
                _post(http, "/apis/apps/v1/namespaces/echo/deployments", {
                    "metadata": {"name": "blog"}, "spec": {"selector": {"matchLabels": {"app": name}},
                    "template": {"metadata": {"labels": {"app": name}}, "spec": spec}}})  # fmt: skip
            else:
                _post(http, "/api/v1/namespaces/echo/pods",
                      {"metadata": {"name": f"{name}-0", "labels": {"app": name}}, "spec": spec})  # fmt: skip
            _post(http, "/api/v1/namespaces/echo/services", {"metadata": {"name": name}, "spec": {
                "selector": {"app": name}, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}})  # fmt: skip

        def path(p: str, kind: str, service: str) -> dict[str, Any]:
            return {
                "path": p,
                "pathType": kind,
                "backend": {"service": {"name": service, "port": {"name": "http"}}},
            }

        _post(http, "/apis/networking.k8s.io/v1/namespaces/echo/ingresses", {
            "metadata": {"name": "shop"}, "spec": {"rules": [
                {"host": "shop.localhost", "http": {"paths": [
                    path("/", "Prefix", "web"), path("/blog", "Prefix", "blog"),
                    path("/slow", "Exact", "slow")]}},
                {"host": "*.wild.localhost", "http": {"paths": [path("/", "Prefix", "web")]}},
            ]}})  # fmt: skip

        def blog_ready() -> bool:
            found = http.get("/apis/apps/v1/namespaces/echo/deployments/blog").json()
            return bool((found.get("status") or {}).get("readyReplicas") == 1)

        wait_until(lambda: ready(pod(http, "echo", "web-0")) and blog_ready(), timeout=20)
    return "echo"


ROUTES = [
    pytest.param("shop.localhost:8080", "/cart?x=1", 200, "web-0", id="a Prefix rule for / takes any path (port in Host ignored)"),
    pytest.param("shop.localhost", "/blogging", 200, "web-0", id="Prefix matches whole path elements only"),
    pytest.param("a.wild.localhost", "/", 200, "web-0", id="a wildcard host matches one label"),
    pytest.param("a.b.wild.localhost", "/", 404, None, id="a wildcard host does not match two labels"),
    pytest.param("nobody.localhost", "/", 404, None, id="no Ingress for the host is a 404"),
    pytest.param("shop.localhost", "/blog/post", 502, None, id="a simulated backend is a 502"),
    pytest.param("shop.localhost", "/slow", 503, None, id="an Exact rule whose pods are not ready is a 503"),
]  # fmt: skip


@pytest.mark.parametrize(("host", "path", "code", "pod_name"), ROUTES)
def test_the_ingress_listener_routes_by_host_and_path(
    echo_sim: RunningSimulator, shop: str, host: str, path: str, code: int, pod_name: str | None
) -> None:
    assert echo_sim.ingress_url is not None
    response = httpx.get(echo_sim.ingress_url + path, headers={"Host": host}, timeout=10)
    assert response.status_code == code, response.text
    if pod_name:
        assert response.json()["pod"] == pod_name and response.json()["path"] == path
    elif code == 502:
        assert "nothing runs behind service echo/blog" in response.text


def test_the_ingress_listener_forwards_method_body_and_forwarded_headers(
    echo_sim: RunningSimulator, shop: str
) -> None:
    assert echo_sim.ingress_url is not None
    port = echo_sim.ingress_url.rsplit(":", 1)[1]
    response = httpx.post(echo_sim.ingress_url + "/checkout", content=b'{"a": 1}',
                          headers={"Host": f"shop.localhost:{port}", "X-Custom": "kept"}, timeout=10)  # fmt: skip
    seen = response.json()
    assert (seen["method"], seen["body"]) == ("POST", '{"a": 1}')
    headers = {k.lower(): v for k, v in seen["headers"].items()}
    assert headers["host"] == f"shop.localhost:{port}"
    assert headers["x-forwarded-host"] == f"shop.localhost:{port}"
    assert headers["x-forwarded-proto"] == "http"
    assert headers["x-forwarded-port"] == port
    assert headers["x-forwarded-for"] == "127.0.0.1"
    assert headers["x-custom"] == "kept"
    assert response.headers["x-storeplane-sim-runtime"] == "local"


def test_the_service_proxy_forwards_any_method_to_the_pod(lhttp: httpx.Client, shop: str) -> None:
    response = lhttp.put(
        f"/api/v1/namespaces/{shop}/services/web:http/proxy/items/7?q=1", content=b"x"
    )
    assert response.status_code == 200
    assert response.headers["x-storeplane-sim-runtime"] == "local"
    assert (response.json()["method"], response.json()["path"]) == ("PUT", "/items/7?q=1")
    stand_in = lhttp.get(f"/api/v1/namespaces/{shop}/services/blog:http/proxy/wp-json/")
    assert stand_in.headers["x-storeplane-sim-runtime"] == "simulated"
    assert stand_in.headers["x-storeplane-sim-simulated-images"] == "wordpress:6.6"
    none_ready = lhttp.get(f"/api/v1/namespaces/{shop}/services/slow:http/proxy/")
    assert none_ready.status_code == 503
    assert none_ready.json()["message"] == 'no endpoints available for service "slow"'


def test_a_pod_inside_reaches_a_service_by_name_through_its_forwarder(
    lhttp: httpx.Client, shop: str, tmp_path: Path
) -> None:
    # the echo image's python, asked to fetch http://web.echo.svc.cluster.local/ from a pod
    _post(lhttp, f"/api/v1/namespaces/{shop}/pods", {"metadata": {"name": "client"}, "spec": {
        "restartPolicy": "Never", "containers": [{"name": "c", "image": "example.com/echo:1",
        "command": ["python3", "-c", "import urllib.request,sys; print(urllib.request.urlopen(sys.argv[1]).read().decode())",
                    "http://web.echo.svc.cluster.local/inside"]}]}})  # fmt: skip
    wait_until(
        lambda: (pod(lhttp, shop, "client").get("status") or {}).get("phase") == "Succeeded",
        timeout=20,
    )
    log = lhttp.get(f"/api/v1/namespaces/{shop}/pods/client/log").text
    assert json.loads(log)["path"] == "/inside" and json.loads(log)["pod"] == "web-0"
