"""Discovery documents (``/version``, ``/api``, ``/apis``, ``/api/v1``, ``/apis/{g}/{v}``),
built from the kind registry. Plain JSON: kubectl falls back to these when the aggregated
discovery format is not offered."""

from __future__ import annotations

from typing import Any

from ..kinds import KUBERNETES_VERSION, Kind, group_versions, kinds_in

Obj = dict[str, Any]


def version() -> Obj:
    major, minor, _ = KUBERNETES_VERSION.lstrip("v").split(".")
    return {
        "major": major,
        "minor": minor,
        "gitVersion": KUBERNETES_VERSION,
        "gitCommit": "storeplane-sim",
        "gitTreeState": "clean",
        "buildDate": "2024-08-13T00:00:00Z",
        "goVersion": "go1.22.5",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


def api_versions(server_address: str) -> Obj:
    return {
        "kind": "APIVersions",
        "versions": group_versions().get("", ["v1"]),
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    }


def api_group(group: str) -> Obj | None:
    versions = group_versions().get(group)
    if not group or not versions:
        return None
    entries = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": group,
        "versions": entries,
        "preferredVersion": entries[0],
    }


def api_group_list() -> Obj:
    groups = [api_group(g) for g in group_versions() if g]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [g for g in groups if g]}


def _resource_entries(kind: Kind) -> list[Obj]:
    entry: Obj = {
        "name": kind.resource,
        "singularName": kind.singular,
        "namespaced": kind.namespaced,
        "kind": kind.kind,
        "verbs": list(kind.verbs),
    }
    if kind.short_names:
        entry["shortNames"] = list(kind.short_names)
    if kind.categories:
        entry["categories"] = list(kind.categories)
    entries = [entry]
    if kind.has_status:
        entries.append(
            {
                "name": f"{kind.resource}/status",
                "singularName": "",
                "namespaced": kind.namespaced,
                "kind": kind.kind,
                "verbs": ["get", "patch", "update"],
            }
        )
    if kind.has_scale:
        entries.append(
            {
                "name": f"{kind.resource}/scale",
                "singularName": "",
                "namespaced": kind.namespaced,
                "group": "autoscaling",
                "version": "v1",
                "kind": "Scale",
                "verbs": ["get", "patch", "update"],
            }
        )
    if kind.resource == "serviceaccounts":
        # TokenRequest (``kubectl create token``): answered by storeplane.sim.api.reviews.
        entries.append(
            {
                "name": "serviceaccounts/token",
                "singularName": "",
                "namespaced": True,
                "group": "authentication.k8s.io",
                "version": "v1",
                "kind": "TokenRequest",
                "verbs": ["create"],
            }
        )
    return entries


def resource_list(group: str, version: str) -> Obj | None:
    kinds = kinds_in(group, version)
    if not kinds:
        return None
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        # Sorted by name as the API server lists them: kubectl expands categories in this
        # order, so `kubectl get all` prints pods before services, as on a cluster.
        "resources": sorted(
            (entry for kind in kinds for entry in _resource_entries(kind)),
            key=lambda entry: str(entry["name"]),
        ),
    }
