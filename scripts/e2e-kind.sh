#!/usr/bin/env bash
# Run the real-cluster end-to-end kit (tests/e2e/cluster) on a laptop cluster: kind or k3d.
#
#   scripts/e2e-kind.sh                 kind: make the cluster, build and load the images, run the kit
#   scripts/e2e-kind.sh --k3d           the same with k3d
#   scripts/e2e-kind.sh --delete        delete the cluster afterwards (default: keep it)
#   scripts/e2e-kind.sh --no-build      reuse the images already loaded into the cluster
#
# What it does, step by step (each step can be done by hand the same way):
#   1. a cluster named storeplane-e2e publishing the ingress controller on 127.0.0.1:80, so that
#      http://<store-id>.localtest.me (a public wildcard name for 127.0.0.1) reaches the stores
#   2. ingress-nginx in the namespace ingress-nginx (the class and namespace storeplane's
#      values-local.yaml expects)
#   3. the two images built with docker and loaded into the cluster's nodes:
#        storeplane:0.1.0-dev                     images/storeplane/Dockerfile (values-local.yaml)
#        ghcr.io/storeplane/medusa-store:2.21.2   images/medusa (the medusa-store chart's default)
#   4. STOREPLANE_E2E_KUBECONFIG=<the cluster's kubeconfig> .venv/bin/pytest tests/e2e/cluster
#      The kit installs charts/platform (values-local.yaml + overrides), creates a Medusa and a
#      WooCommerce store through the API, waits for Ready, places a guest order in each through
#      its own API, checks it through the admin API, deletes both and looks for leftovers.
#
# Needs: docker, kind (or k3d), and the repo's tools (scripts/setup.sh: .venv, helm, kubectl),
# internet access for the images (node, python, wordpress, mariadb, postgres, redis, ingress-nginx)
# and the WooCommerce plugin. Expect 15-30 minutes the first time. It cannot run in storeplane's
# own CI (no container engine there); the skip path of the kit is tested instead.
#
# Environment: STOREPLANE_E2E_CLUSTER (storeplane-e2e), INGRESS_NGINX_VERSION (4.11.3, the
# Helm chart), and every STOREPLANE_E2E_* knob of tests/e2e/cluster/kit.py (API token, extra
# values file, timeouts, STOREPLANE_E2E_KEEP=1 to leave the platform installed).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${REPO_ROOT}"
CLUSTER="${STOREPLANE_E2E_CLUSTER:-storeplane-e2e}"
INGRESS_NGINX_VERSION="${INGRESS_NGINX_VERSION:-4.11.3}"
STOREPLANE_IMAGE="storeplane:0.1.0-dev"
MEDUSA_IMAGE="ghcr.io/storeplane/medusa-store:2.21.2"
WORK="${TMPDIR:-/tmp}/storeplane-e2e-${CLUSTER}"
KUBECONFIG_FILE="${WORK}/kubeconfig"
export PATH="${REPO_ROOT}/.tools/bin:${PATH}"

ENGINE=kind
DELETE=0
BUILD=1
for arg in "$@"; do
    case "${arg}" in
        --k3d) ENGINE=k3d ;;
        --delete) DELETE=1 ;;
        --no-build) BUILD=0 ;;
        -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
        *) echo "unknown argument: ${arg} (see --help)" >&2; exit 2 ;;
    esac
done

log() { printf '\033[1me2e:\033[0m %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
need() { command -v "$1" >/dev/null || die "$1 is required: $2"; }

need docker "install Docker (or a docker-compatible CLI)"
need "${ENGINE}" "install ${ENGINE}"
need helm "run scripts/setup.sh (it installs helm and kubectl into .tools/bin)"
need kubectl "run scripts/setup.sh"
[[ -x .venv/bin/pytest ]] || die "no .venv: run scripts/setup.sh --test"
mkdir -p "${WORK}"

create_cluster() {
    if [[ "${ENGINE}" == kind ]]; then
        if kind get clusters 2>/dev/null | grep -qx "${CLUSTER}"; then
            log "kind cluster ${CLUSTER} exists; reusing it"
        else
            log "creating kind cluster ${CLUSTER} (ingress on 127.0.0.1:80 and :443)"
            kind create cluster --name "${CLUSTER}" --wait 120s --config - <<'EOF'
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
  - role: control-plane
    kubeadmConfigPatches:
      - |
        kind: InitConfiguration
        nodeRegistration:
          kubeletExtraArgs:
            node-labels: "ingress-ready=true"
    extraPortMappings:
      - {containerPort: 80, hostPort: 80, listenAddress: "127.0.0.1", protocol: TCP}
      - {containerPort: 443, hostPort: 443, listenAddress: "127.0.0.1", protocol: TCP}
EOF
        fi
        kind get kubeconfig --name "${CLUSTER}" >"${KUBECONFIG_FILE}"
    else
        if k3d cluster list "${CLUSTER}" >/dev/null 2>&1; then
            log "k3d cluster ${CLUSTER} exists; reusing it"
        else
            log "creating k3d cluster ${CLUSTER} (ingress on 127.0.0.1:80 and :443, Traefik off)"
            k3d cluster create "${CLUSTER}" --wait \
                -p "127.0.0.1:80:80@loadbalancer" -p "127.0.0.1:443:443@loadbalancer" \
                --k3s-arg "--disable=traefik@server:0"
        fi
        k3d kubeconfig get "${CLUSTER}" >"${KUBECONFIG_FILE}"
    fi
    chmod 600 "${KUBECONFIG_FILE}"
}

install_ingress() {
    log "ingress-nginx ${INGRESS_NGINX_VERSION} into the namespace ingress-nginx"
    local extra=()
    if [[ "${ENGINE}" == kind ]]; then
        # kind: the controller binds the node's ports 80/443, which kind maps to 127.0.0.1.
        extra=(--set controller.hostPort.enabled=true --set controller.service.type=NodePort
            --set-string 'controller.nodeSelector.ingress-ready=true'
            --set 'controller.tolerations[0].key=node-role.kubernetes.io/control-plane'
            --set 'controller.tolerations[0].operator=Exists'
            --set 'controller.tolerations[0].effect=NoSchedule')
    fi
    helm --kubeconfig "${KUBECONFIG_FILE}" upgrade --install ingress-nginx ingress-nginx \
        --repo https://kubernetes.github.io/ingress-nginx --version "${INGRESS_NGINX_VERSION}" \
        --namespace ingress-nginx --create-namespace --wait --timeout 5m \
        --set controller.ingressClassResource.default=true \
        --set controller.admissionWebhooks.enabled=false "${extra[@]}"
}

build_and_load() {
    log "building ${STOREPLANE_IMAGE} (images/storeplane/Dockerfile)"
    docker build -f images/storeplane/Dockerfile -t "${STOREPLANE_IMAGE}" .
    log "building ${MEDUSA_IMAGE} (images/medusa)"
    docker build -t "${MEDUSA_IMAGE}" images/medusa
    log "loading both images into the cluster"
    if [[ "${ENGINE}" == kind ]]; then
        kind load docker-image --name "${CLUSTER}" "${STOREPLANE_IMAGE}" "${MEDUSA_IMAGE}"
    else
        k3d image import --cluster "${CLUSTER}" "${STOREPLANE_IMAGE}" "${MEDUSA_IMAGE}"
    fi
}

delete_cluster() {
    log "deleting the ${ENGINE} cluster ${CLUSTER}"
    if [[ "${ENGINE}" == kind ]]; then kind delete cluster --name "${CLUSTER}"; else k3d cluster delete "${CLUSTER}"; fi
}

create_cluster
install_ingress
if [[ ${BUILD} -eq 1 ]]; then build_and_load; fi

log "running tests/e2e/cluster against ${KUBECONFIG_FILE}"
status=0
STOREPLANE_E2E_KUBECONFIG="${KUBECONFIG_FILE}" \
    STOREPLANE_E2E_IMAGE="${STOREPLANE_E2E_IMAGE:-${STOREPLANE_IMAGE}}" \
    .venv/bin/pytest tests/e2e/cluster -v -rs -p no:cacheprovider || status=$?

if [[ ${DELETE} -eq 1 ]]; then
    delete_cluster
else
    log "the cluster stays up: kubectl --kubeconfig ${KUBECONFIG_FILE} get ns (delete it with: $0 --delete, or ${ENGINE} delete cluster)"
fi
exit "${status}"
