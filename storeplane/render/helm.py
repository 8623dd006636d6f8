"""Run the official helm binary: ``helm template`` to render a chart, ``helm lint`` to check one.

Called by the render cache (``storeplane.render.cache``), which the reconciler uses, and by the
chart tests. Values go to helm as JSON (a subset of YAML) on standard input (``-f -``), so
no temporary file is left behind and nothing secret touches the disk. The output is parsed
into plain, JSON-compatible dicts: YAML timestamps stay strings, as the API server reads
them.

Errors follow the domain tree: ``HelmNotFoundError`` and ``RenderError`` are terminal (they
need a person to install helm or fix the values or the chart; the message carries helm's own
words), ``RenderTimeoutError`` is retryable.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from storeplane.domain.errors import RetryableError, TerminalError
from storeplane.render.charts import REPO_ROOT

INSTALL_HINT = "run scripts/install-tools.sh (installs helm into .tools/bin) or set HELM_BIN"
LOCAL_HELM = REPO_ROOT / ".tools" / "bin" / "helm"


class HelmNotFoundError(TerminalError):
    """No usable helm binary."""

    def __init__(self, message: str) -> None:
        super().__init__(message, reason="HelmNotFound")


class RenderError(TerminalError):
    """helm exited with an error, or printed something that is not Kubernetes objects.

    ``chart`` is the chart folder, ``stderr`` helm's own message (e.g. which value broke the
    chart's ``values.schema.json``), which the message repeats so a person can act on it.
    """

    def __init__(self, chart: str | Path, stderr: str, *, action: str = "render") -> None:
        self.chart = str(chart)
        self.stderr = stderr.strip()
        super().__init__(
            f"helm could not {action} chart {self.chart}: {self.stderr or '(no output)'}",
            reason="RenderFailed",
        )


class RenderTimeoutError(RetryableError):
    """helm did not finish in time (a loaded machine); trying again may work."""

    def __init__(self, chart: str | Path, timeout: float) -> None:
        self.chart = str(chart)
        super().__init__(
            f"helm did not finish with chart {chart} within {timeout:g} s; it was stopped",
            reason="RenderTimeout",
            retry_after=5.0,
        )


def _check_executable(path: str, source: str) -> str:
    resolved = shutil.which(path) if os.sep not in path else path
    if resolved is None or not os.path.isfile(resolved) or not os.access(resolved, os.X_OK):
        raise HelmNotFoundError(f"{source} {path!r} is not an executable file: {INSTALL_HINT}")
    return resolved


def find_helm() -> str:
    """Return the path of the helm binary to use.

    Order: the ``HELM_BIN`` environment variable (which must then point at an executable:
    a wrong ``HELM_BIN`` is an error, not a reason to fall back silently), ``helm`` on
    ``PATH``, then ``<repo>/.tools/bin/helm``. Raises ``HelmNotFoundError`` saying how to
    install it.
    """
    from_env = os.environ.get("HELM_BIN")
    if from_env:
        return _check_executable(from_env, "HELM_BIN")
    on_path = shutil.which("helm")
    if on_path:
        return on_path
    if LOCAL_HELM.is_file() and os.access(LOCAL_HELM, os.X_OK):
        return str(LOCAL_HELM)
    raise HelmNotFoundError(f"helm not found (not on PATH, not at {LOCAL_HELM}): {INSTALL_HINT}")


# libyaml's parser when PyYAML was built with it (several times faster on helm's output).
_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _PlainLoader(_BaseLoader):  # type: ignore[valid-type,misc]
    """SafeLoader that leaves timestamps as strings, like the API server does."""


_PlainLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_manifests(text: str, chart: str | Path) -> list[dict[str, Any]]:
    """Parse helm's multi-document output into objects, dropping empty documents.

    Raises ``RenderError`` when a document is not a mapping with ``apiVersion`` and ``kind``.
    """
    objects: list[dict[str, Any]] = []
    try:
        documents = list(yaml.load_all(text, Loader=_PlainLoader))
    except yaml.YAMLError as exc:
        raise RenderError(chart, f"helm printed invalid YAML: {exc}") from exc
    for document in documents:
        if document is None:
            continue
        if not isinstance(document, dict) or not {"apiVersion", "kind"} <= document.keys():
            raise RenderError(
                chart, f"helm printed a document that is not a Kubernetes object: {document!r:.200}"
            )
        objects.append(document)
    return objects


def _helm_env() -> dict[str, str]:
    """helm's environment: ours, with Go's garbage collector held off until the heap nears
    512 MiB (``GOGC=off`` + ``GOMEMLIMIT``). A render lives ~50 ms and peaks near 60 MB, so
    collecting during it is pure cost: a quarter of helm's CPU per render (57 → 44 ms measured
    on the medusa chart). It changes nothing in what helm prints. A GOGC or GOMEMLIMIT set by
    the operator wins."""
    env = dict(os.environ)
    if "GOGC" not in env and "GOMEMLIMIT" not in env:
        env["GOGC"] = "off"
        env["GOMEMLIMIT"] = "512MiB"
    return env


async def _run_helm(
    helm: str, args: Sequence[str], stdin: bytes, chart: Path, timeout: float
) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        helm,
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=_helm_env(),
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(stdin), timeout)
    except TimeoutError as exc:
        raise RenderTimeoutError(chart, timeout) from exc
    finally:
        # Timed out or cancelled: never leave a helm process behind.
        if process.returncode is None:
            process.kill()
            await process.wait()
    code = process.returncode if process.returncode is not None else await process.wait()
    return code, stdout.decode(errors="replace"), stderr.decode(errors="replace")


def _values_bytes(values: Mapping[str, Any]) -> bytes:
    # JSON is YAML; it sidesteps YAML's surprises ("no" read as false, and so on).
    return json.dumps(values).encode()


async def render_chart(
    chart_dir: Path,
    release: str,
    namespace: str,
    values: Mapping[str, Any],
    *,
    helm_bin: str | None = None,
    timeout: float = 60,
) -> list[dict[str, Any]]:
    """Render ``chart_dir`` with ``values`` as release ``release`` in ``namespace``.

    Returns the rendered objects in helm's order (plain dicts, empty documents dropped); the
    caller owns them. Raises ``HelmNotFoundError``, ``RenderError`` (helm's stderr in the
    message) or ``RenderTimeoutError``. Does not use the cache: call
    ``storeplane.render.render`` for that.
    """
    helm = _check_executable(helm_bin, "helm binary") if helm_bin else find_helm()
    args = ["template", release, str(chart_dir), "--namespace", namespace, "--values", "-"]
    code, stdout, stderr = await _run_helm(helm, args, _values_bytes(values), chart_dir, timeout)
    if code != 0:
        raise RenderError(chart_dir, stderr)
    return parse_manifests(stdout, chart_dir)


async def lint_chart(
    chart_dir: Path,
    values: Mapping[str, Any],
    *,
    namespace: str = "default",
    helm_bin: str | None = None,
    timeout: float = 60,
) -> None:
    """Run ``helm lint --strict`` on ``chart_dir`` with ``values``; return quietly when clean.

    Raises ``RenderError`` with helm's report (stdout and stderr: lint prints its findings
    on stdout) when helm finds an error or, with ``--strict``, a warning.
    """
    helm = _check_executable(helm_bin, "helm binary") if helm_bin else find_helm()
    args = ["lint", str(chart_dir), "--strict", "--namespace", namespace, "--values", "-"]
    code, stdout, stderr = await _run_helm(helm, args, _values_bytes(values), chart_dir, timeout)
    if code != 0:
        raise RenderError(chart_dir, f"{stdout}\n{stderr}", action="lint")
