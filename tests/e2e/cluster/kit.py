"""Helpers of the real-cluster end-to-end kit: kubectl and helm against the cluster named by
``STOREPLANE_E2E_KUBECONFIG``, the platform chart's install, a port-forward to storeplane's
API, and a small client for that API (a bearer token is sent when one is given).

Everything here talks to a real cluster; nothing runs without the variable (see
``conftest.py``). ``scripts/e2e-kind.sh`` prepares a kind or k3d cluster for it.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[3]
KUBECONFIG_ENV = "STOREPLANE_E2E_KUBECONFIG"
SKIP_REASON = (
    f"{KUBECONFIG_ENV} is not set: the real-cluster end-to-end kit needs a Kubernetes cluster "
    "(scripts/e2e-kind.sh makes one with kind or k3d and runs these tests)"
)
STORE_LABEL = "storeplane.dev/store-id"


def _tool(name: str) -> str:
    local = REPO / ".tools" / "bin" / name
    found = shutil.which(name) or (str(local) if local.exists() else None)
    if not found:
        raise RuntimeError(f"{name} not found on PATH or in .tools/bin (scripts/install-tools.sh)")
    return found


@dataclass(frozen=True)
class Settings:
    """The kit's knobs, all from the environment (defaults fit scripts/e2e-kind.sh)."""

    kubeconfig: str
    namespace: str = "storeplane-e2e"
    release: str = "storeplane"
    image: str = ""  # repository:tag of the storeplane image; default: values-local.yaml's
    storage_class: str = ""  # "" = the cluster's default StorageClass
    extra_values: str = ""  # a values file laid over values-local.yaml
    api_url: str = ""  # reach the API here instead of a port-forward
    api_token: str = ""  # sent as Authorization: Bearer; default: the bootstrap token
    ready_timeout: float = 1200.0
    keep: bool = False  # leave the platform installed afterwards

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        return cls(
            kubeconfig=env[KUBECONFIG_ENV],
            namespace=env.get("STOREPLANE_E2E_NAMESPACE", "storeplane-e2e"),
            release=env.get("STOREPLANE_E2E_RELEASE", "storeplane"),
            image=env.get("STOREPLANE_E2E_IMAGE", ""),
            storage_class=env.get("STOREPLANE_E2E_STORAGE_CLASS", ""),
            extra_values=env.get("STOREPLANE_E2E_VALUES", ""),
            api_url=env.get("STOREPLANE_E2E_API_URL", ""),
            api_token=env.get("STOREPLANE_E2E_API_TOKEN", ""),
            ready_timeout=float(env.get("STOREPLANE_E2E_READY_TIMEOUT", "1200")),
            keep=env.get("STOREPLANE_E2E_KEEP", "") not in ("", "0", "false"),
        )


class Kube:
    """kubectl and helm with the e2e kubeconfig."""

    def __init__(self, kubeconfig: str) -> None:
        self.kubeconfig = kubeconfig
        self.kubectl_bin = _tool("kubectl")
        self.helm_bin = _tool("helm")

    def kubectl(self, *args: str, check: bool = True, timeout: float = 120) -> str:
        done = subprocess.run(
            [self.kubectl_bin, "--kubeconfig", self.kubeconfig, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.kubectl(*args, "-o", "json"))

    def helm(self, *args: str, timeout: float = 600) -> str:
        done = subprocess.run(
            [self.helm_bin, "--kubeconfig", self.kubeconfig, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"helm {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def secret_value(self, namespace: str, name: str, key: str) -> str:
        data = self.json("-n", namespace, "get", "secret", name)["data"]
        return base64.b64decode(data[key]).decode()

    def labelled_leftovers(self, store_id: str) -> list[str]:
        """Every object labelled for the store, in any namespace, of the kinds stores use,
        plus PersistentVolumes still bound to its namespace."""
        kinds = (
            "namespaces,deployments,statefulsets,jobs,pods,services,ingresses,configmaps,"
            "secrets,serviceaccounts,persistentvolumeclaims,networkpolicies,resourcequotas,"
            "limitranges,roles,rolebindings,persistentvolumes,clusterroles,clusterrolebindings"
        )
        out = self.kubectl(
            "get", kinds, "-A", "-l", f"{STORE_LABEL}={store_id}", "-o", "name", check=False
        )
        left = [line for line in out.splitlines() if line.strip()]
        for pv in self.json("get", "persistentvolumes").get("items", []):
            claim = pv.get("spec", {}).get("claimRef") or {}
            if claim.get("namespace") == store_id:
                left.append(
                    f"persistentvolume/{pv['metadata']['name']} (claim {claim.get('name')})"
                )
        return left


def install_platform(kube: Kube, settings: Settings) -> None:
    """``helm upgrade --install`` of charts/platform with values-local.yaml and the kit's
    overrides, waiting for the Deployment to be available."""
    args = [
        "upgrade",
        "--install",
        settings.release,
        str(REPO / "charts" / "platform"),
        "--namespace",
        settings.namespace,
        "--create-namespace",
        "-f",
        str(REPO / "charts" / "platform" / "values-local.yaml"),
        "--set",
        f"persistence.storageClassName={settings.storage_class}",
        # Real image pulls and first starts are slow on a laptop cluster.
        "--set",
        "reconciler.provisionDeadlineSeconds=1500",
        "--set",
        "logFormat=json",
        "--wait",
        "--timeout",
        "10m",
    ]
    if settings.image:
        repository, _, tag = settings.image.rpartition(":")
        args += ["--set", f"image.repository={repository}", "--set", f"image.tag={tag}"]
    if settings.extra_values:
        args += ["-f", settings.extra_values]
    kube.helm(*args, timeout=700)


def uninstall_platform(kube: Kube, settings: Settings) -> None:
    kube.helm("uninstall", settings.release, "--namespace", settings.namespace, "--wait")
    kube.kubectl("delete", "namespace", settings.namespace, "--wait=true", check=False, timeout=300)


_BOOTSTRAP_LINE = re.compile(r"bootstrap admin token: (sp_[A-Za-z0-9_-]+)")


def bootstrap_token(kube: Kube, settings: Settings) -> str:
    """The admin token ``storeplane serve`` prints once, on its first start against an empty
    database (a fresh install of the platform chart), read from the pod's output."""
    logs = kube.kubectl(
        "-n",
        settings.namespace,
        "logs",
        "-l",
        f"app.kubernetes.io/instance={settings.release}",
        "--tail=-1",
        "--prefix=false",
        check=False,
    )
    found = _BOOTSTRAP_LINE.search(logs)
    if not found:
        raise RuntimeError(
            "no bootstrap admin token in storeplane's output (it is printed only on the first "
            "start against an empty database): set STOREPLANE_E2E_API_TOKEN to an admin token "
            "(storeplane tokens create ...)"
        )
    return found.group(1)


@contextmanager
def port_forward(kube: Kube, settings: Settings) -> Iterator[str]:
    """A local URL for storeplane's Service (``kubectl port-forward``), stopped afterwards."""
    service = kube.json(
        "-n",
        settings.namespace,
        "get",
        "service",
        "-l",
        f"app.kubernetes.io/instance={settings.release}",
    )["items"][0]["metadata"]["name"]
    process = subprocess.Popen(
        [
            kube.kubectl_bin,
            "--kubeconfig",
            kube.kubeconfig,
            "-n",
            settings.namespace,
            "port-forward",
            f"service/{service}",
            "0:80",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        found = re.search(r"127\.0\.0\.1:(\d+)", line)
        if not found:
            raise RuntimeError(f"kubectl port-forward did not start: {line.strip()}")
        yield f"http://127.0.0.1:{found.group(1)}"
    finally:
        process.terminate()
        process.wait(timeout=10)


class Api:
    """storeplane's REST API, with a bearer token when one is configured."""

    def __init__(self, base_url: str, token: str = "") -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.client = httpx.Client(base_url=f"{base_url}/api/v1", headers=headers, timeout=30)

    def close(self) -> None:
        self.client.close()

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.client.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise AssertionError(f"{method} {path}: HTTP {response.status_code} {response.text}")
        return response.json() if response.content else None

    def create(self, name: str, engine: str, plan: str = "small") -> dict[str, Any]:
        return dict(
            self._json("POST", "/stores", json={"name": name, "engine": engine, "plan": plan})
        )

    def get(self, store_id: str) -> dict[str, Any]:
        return dict(self._json("GET", f"/stores/{store_id}"))

    def delete(self, store_id: str) -> None:
        self._json("DELETE", f"/stores/{store_id}")

    def events(self, store_id: str) -> list[dict[str, Any]]:
        return list(self._json("GET", f"/stores/{store_id}/events")["items"])

    def wait_for(self, store_id: str, phases: set[str], timeout: float) -> dict[str, Any]:
        """Poll until the store's phase is one of ``phases``; fail with its conditions and
        last events if it ends ``Failed`` first or time runs out."""
        deadline = time.monotonic() + timeout
        store = self.get(store_id)
        while time.monotonic() < deadline:
            store = self.get(store_id)
            if store["phase"] in phases:
                return store
            if store["phase"] == "Failed" and "Failed" not in phases:
                break
            time.sleep(5)
        conditions = "\n".join(
            f"  {c['type']}={c['status']} {c['reason']}: {c['message']}"
            for c in store["conditions"]
        )
        last = "\n".join(
            f"  {e['type']} {e['reason']}: {e['message']}" for e in self.events(store_id)[-10:]
        )
        raise AssertionError(
            f"store {store_id} is {store['phase']}, not {' or '.join(sorted(phases))}; "
            f"last error: {store.get('last_error')}\nconditions:\n{conditions}\nlast events:\n{last}"
        )


def new_store_name(engine: str) -> str:
    return f"e2e-{engine[:4]}-{secrets.token_hex(3)}"


# A WooCommerce REST API key is made the way WooCommerce stores one (the key hashed with
# wc_api_hash, the secret in clear, the last 7 characters of the key for display), through
# WordPress's own PHP in the store's WordPress pod: the chart creates no key, and the
# WooCommerce admin UI that would is not scriptable.
_WC_KEY_PHP = """
$_SERVER['HTTP_HOST'] = '{host}';
require '/var/www/html/wp-load.php';
global $wpdb;
$user = get_user_by('login', 'admin');
if (!$user) {{ fwrite(STDERR, "no WordPress user 'admin'\\n"); exit(3); }}
$ok = $wpdb->insert($wpdb->prefix . 'woocommerce_api_keys', array(
  'user_id' => $user->ID,
  'description' => 'storeplane e2e',
  'permissions' => 'read',
  'consumer_key' => wc_api_hash('{key}'),
  'consumer_secret' => '{secret}',
  'truncated_key' => substr('{key}', -7),
));
if (!$ok) {{ fwrite(STDERR, $wpdb->last_error . "\\n"); exit(4); }}
echo "ok";
"""


def create_woocommerce_key(kube: Kube, namespace: str, host: str) -> tuple[str, str]:
    """A read-only REST API key pair for the store's admin user (``admin``)."""
    key = f"ck_{secrets.token_hex(20)}"
    secret = f"cs_{secrets.token_hex(20)}"
    php = _WC_KEY_PHP.format(host=host, key=key, secret=secret)
    out = kube.kubectl(
        "-n",
        namespace,
        "exec",
        "deploy/woocommerce-wordpress",
        "-c",
        "wordpress",
        "--",
        "php",
        "-r",
        php,
    )
    if "ok" not in out:
        raise RuntimeError(f"creating a WooCommerce API key failed: {out}")
    return key, secret
