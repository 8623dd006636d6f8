"""Discovery documents (``/version``, ``/api``, ``/apis``, ``/api/v1``, ``/apis/{g}/{v}``),
built from a simulator's kind registry (built-in kinds and its CRDs' custom resources).

``/api`` and ``/apis`` answer in two forms, as the API server does: the aggregated
discovery document (``apidiscovery.k8s.io/v2`` ``APIGroupDiscoveryList``: every group,
version and resource in one answer) when the client's Accept asks for it first (kubectl,
client-go), else the plain ``APIVersions`` / ``APIGroupList``, after which clients read
one ``APIResourceList`` per group-version."""

from __future__ import annotations

from typing import Any

from ..kinds import KUBERNETES_VERSION, Kind, KindRegistry

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


AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"


def wants_aggregated(accept: str | None) -> bool:
    """Whether the first media range of ``accept`` this server answers is the aggregated
    discovery document (``as=APIGroupDiscoveryList`` of ``apidiscovery.k8s.io`` v2)."""
    for media_range in (accept or "").split(","):
        parts = [p.strip() for p in media_range.split(";")]
        params = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
        if parts[0].lower() not in ("application/json", "*/*", "application/*"):
            continue
        if params.get("as") == "APIGroupDiscoveryList":
            if params.get("g") == "apidiscovery.k8s.io" and params.get("v") == "v2":
                return True
            continue
        return False
    return False


def api_versions(server_address: str, kinds: KindRegistry) -> Obj:
    return {
        "kind": "APIVersions",
        "versions": kinds.group_versions().get("", ["v1"]),
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    }


def api_group(group: str, kinds: KindRegistry) -> Obj | None:
    versions = kinds.group_versions().get(group)
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


def api_group_list(kinds: KindRegistry) -> Obj:
    groups = [api_group(g, kinds) for g in kinds.group_versions() if g]
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


def resource_list(group: str, version: str, registry: KindRegistry) -> Obj | None:
    kinds = registry.kinds_in(group, version)
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


def _aggregated_resource(kind: Kind) -> Obj:
    """One resource of an aggregated discovery version, with its subresources."""
    entries: list[Obj] = _resource_entries(kind)
    main, rest = entries[0], entries[1:]
    resource: Obj = {
        "resource": kind.resource,
        "responseKind": {"group": kind.group, "version": kind.version, "kind": kind.kind},
        "scope": "Namespaced" if kind.namespaced else "Cluster",
        "singularResource": kind.singular,
        "verbs": main["verbs"],
    }
    for field in ("shortNames", "categories"):
        if field in main:
            resource[field] = main[field]
    subresources = [
        {
            "subresource": str(entry["name"]).split("/", 1)[1],
            "responseKind": {
                "group": entry.get("group", kind.group),
                "version": entry.get("version", kind.version),
                "kind": entry["kind"],
            },
            "verbs": entry["verbs"],
        }
        for entry in rest
    ]
    if subresources:
        resource["subresources"] = subresources
    return resource


def aggregated(core: bool, registry: KindRegistry) -> Obj:
    """``/api`` (``core``) or ``/apis`` as an ``APIGroupDiscoveryList``."""
    items: list[Obj] = []
    for group, versions in registry.group_versions().items():
        if (group == "") != core:
            continue
        items.append(
            {
                "metadata": {"name": group, "creationTimestamp": None},
                "versions": [
                    {
                        "version": version,
                        "resources": sorted(
                            (_aggregated_resource(k) for k in registry.kinds_in(group, version)),
                            key=lambda r: str(r["resource"]),
                        ),
                        "freshness": "Current",
                    }
                    for version in versions
                ],
            }
        )
    return {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": items,
    }
