#!/usr/bin/env python3
"""Generate ``storeplane/sim/api/protobuf_fields.py`` (the simulator's protobuf field tables).

The field numbers and wire types of the Kubernetes API messages are published in the
``generated.proto`` files of kubernetes/api and kubernetes/apimachinery; which JSON name a
field has, whether it is a pointer (so a zero value on the wire is meaningful), whether it is
``omitempty`` and whether it is an embedded struct whose fields JSON flattens into its parent
is in the Go ``types.go`` beside them. This script reads both from git checkouts of the two
repositories and writes one compact table per message reachable from the top-level kinds the
simulator decodes. Run it again when the simulated Kubernetes version moves:

    scripts/gen-sim-protobuf-tables.py --api DIR --apimachinery DIR [--ref HEAD]

(``DIR`` is a clone or bare git directory; files are read with ``git show REF:path``.)
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "storeplane/sim/api/protobuf_fields.py"

# (repo, proto package directory, short prefix used in the table)
PACKAGES = [
    ("api", "core/v1", "core.v1"),
    ("api", "apps/v1", "apps.v1"),
    ("api", "batch/v1", "batch.v1"),
    ("api", "networking/v1", "networking.v1"),
    ("api", "rbac/v1", "rbac.v1"),
    ("api", "coordination/v1", "coordination.v1"),
    ("api", "autoscaling/v1", "autoscaling.v1"),
    ("api", "autoscaling/v2", "autoscaling.v2"),
    ("api", "events/v1", "events.v1"),
    ("api", "policy/v1", "policy.v1"),
    ("api", "discovery/v1", "discovery.v1"),
    ("api", "authorization/v1", "authorization.v1"),
    ("api", "authentication/v1", "authentication.v1"),
    ("apimachinery", "pkg/apis/meta/v1", "meta.v1"),
]
# Messages with their own JSON form, decoded by hand in protobuf.py; not walked.
SPECIAL = {
    "meta.v1.Time", "meta.v1.MicroTime", "meta.v1.Duration", "meta.v1.FieldsV1",
    "resource.Quantity", "intstr.IntOrString", "runtime.RawExtension",
}  # fmt: skip
FULL_PREFIX = {
    "k8s.io.api.": "",
    "k8s.io.apimachinery.pkg.apis.meta.v1.": "meta.v1.",
    "k8s.io.apimachinery.pkg.api.resource.": "resource.",
    "k8s.io.apimachinery.pkg.runtime.": "runtime.",
    "k8s.io.apimachinery.pkg.util.intstr.": "intstr.",
}
# The top-level kinds: (apiVersion, kind) -> message.
ROOTS = {
    ("v1", k): f"core.v1.{k}"
    for k in (
        "Namespace", "ResourceQuota", "LimitRange", "ServiceAccount", "Secret", "ConfigMap",
        "Service", "PersistentVolumeClaim", "Event", "Pod", "Endpoints", "PodTemplate",
        "ReplicationController", "PersistentVolume", "Binding", "Node",
    )
} | {
    ("apps/v1", k): f"apps.v1.{k}"
    for k in ("Deployment", "StatefulSet", "ReplicaSet", "DaemonSet", "ControllerRevision")
} | {
    ("batch/v1", "Job"): "batch.v1.Job",
    ("batch/v1", "CronJob"): "batch.v1.CronJob",
    ("networking.k8s.io/v1", "NetworkPolicy"): "networking.v1.NetworkPolicy",
    ("networking.k8s.io/v1", "Ingress"): "networking.v1.Ingress",
    ("networking.k8s.io/v1", "IngressClass"): "networking.v1.IngressClass",
    ("coordination.k8s.io/v1", "Lease"): "coordination.v1.Lease",
    ("autoscaling/v1", "Scale"): "autoscaling.v1.Scale",
    ("autoscaling/v1", "HorizontalPodAutoscaler"): "autoscaling.v1.HorizontalPodAutoscaler",
    ("autoscaling/v2", "HorizontalPodAutoscaler"): "autoscaling.v2.HorizontalPodAutoscaler",
    ("events.k8s.io/v1", "Event"): "events.v1.Event",
    ("discovery.k8s.io/v1", "EndpointSlice"): "discovery.v1.EndpointSlice",
    ("policy/v1", "PodDisruptionBudget"): "policy.v1.PodDisruptionBudget",
    ("policy/v1", "Eviction"): "policy.v1.Eviction",
    ("authorization.k8s.io/v1", "SelfSubjectAccessReview"):
        "authorization.v1.SelfSubjectAccessReview",
    ("authorization.k8s.io/v1", "SubjectAccessReview"): "authorization.v1.SubjectAccessReview",
    ("authorization.k8s.io/v1", "SelfSubjectRulesReview"):
        "authorization.v1.SelfSubjectRulesReview",
    ("authentication.k8s.io/v1", "TokenRequest"): "authentication.v1.TokenRequest",
    ("authentication.k8s.io/v1", "TokenReview"): "authentication.v1.TokenReview",
    ("authentication.k8s.io/v1", "SelfSubjectReview"): "authentication.v1.SelfSubjectReview",
    ("meta.k8s.io/v1", "DeleteOptions"): "meta.v1.DeleteOptions",
    ("v1", "DeleteOptions"): "meta.v1.DeleteOptions",
} | {
    ("rbac.authorization.k8s.io/v1", k): f"rbac.v1.{k}"
    for k in ("Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding")
}  # fmt: skip

FIELD = re.compile(r"^\s*(optional|repeated|required)\s+([\w.]+)\s+(\w+)\s*=\s*(\d+)")
MAP = re.compile(r"^\s*map<\s*([\w.]+)\s*,\s*([\w.]+)\s*>\s+(\w+)\s*=\s*(\d+)")
GO_STRUCT = re.compile(r"^type (\w+) struct \{")
GO_FIELD = re.compile(r"^\s+(?:(\w+)\s+)?(\S+)\s+`(.*)`")


def git_show(repo: str, ref: str, path: str) -> str:
    return subprocess.run(
        ["git", f"--git-dir={repo}", "show", f"{ref}:{path}"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip


def git_dir(path: str) -> str:
    p = Path(path)
    return str(p / ".git") if (p / ".git").exists() else str(p)


def qualify(type_name: str, prefix: str) -> str:
    type_name = type_name.lstrip(".")
    for full, short in FULL_PREFIX.items():
        if type_name.startswith(full):
            return short + type_name[len(full) :]
    return type_name if "." in type_name else f"{prefix}.{type_name}"


def parse_proto(text: str, prefix: str, messages: dict[str, dict[int, tuple[str, str, bool]]]):
    current = None
    for line in text.splitlines():
        line = line.split("//")[0]
        if m := re.match(r"^message (\w+) \{", line):
            current = f"{prefix}.{m.group(1)}"
            messages[current] = {}
        elif line.startswith("}"):
            current = None
        elif current and (m := MAP.match(line)):
            key, value, name, number = m.groups()
            value = value if value in SCALARS else qualify(value, prefix)
            messages[current][int(number)] = (name, f"map:{key}:{value}", False)
        elif current and (m := FIELD.match(line)):
            label, type_name, name, number = m.groups()
            type_name = type_name if type_name in SCALARS else qualify(type_name, prefix)
            messages[current][int(number)] = (name, type_name, label == "repeated")


SCALARS = {"string", "bytes", "int32", "int64", "bool", "double", "float", "uint32", "uint64"}


def parse_go(text: str, prefix: str, go: dict[tuple[str, int], tuple[str, bool, bool, bool]]):
    """(message, number) -> (json name, pointer, omitempty, inline)."""
    current = None
    for line in text.splitlines():
        if m := GO_STRUCT.match(line):
            current = f"{prefix}.{m.group(1)}"
        elif line.startswith("}"):
            current = None
        elif current and (m := GO_FIELD.match(line)):
            field_name, go_type, tags = m.groups()
            pb = re.search(r'protobuf:"([^"]*)"', tags)
            js = re.search(r'json:"([^"]*)"', tags)
            if not pb:
                continue
            number = int(pb.group(1).split(",")[1])
            json_parts = (js.group(1) if js else "").split(",")
            json_name = json_parts[0]
            inline = (field_name is None and json_name == "") or "inline" in json_parts
            go[(current, number)] = (
                json_name,
                go_type.startswith("*"),
                "omitempty" in json_parts,
                inline,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--api", required=True)
    parser.add_argument("--apimachinery", required=True)
    parser.add_argument(
        "--ref", default="v0.35.7", help="tag of both repositories (v0.35.x is Kubernetes 1.35)"
    )
    args = parser.parse_args()
    repos = {"api": git_dir(args.api), "apimachinery": git_dir(args.apimachinery)}
    commits = {
        name: subprocess.run(
            ["git", f"--git-dir={d}", "rev-parse", args.ref], check=True, capture_output=True,
            text=True,
        ).stdout.strip()
        for name, d in repos.items()
    }  # fmt: skip
    messages: dict[str, dict[int, tuple[str, str, bool]]] = {}
    go: dict[tuple[str, int], tuple[str, bool, bool, bool]] = {}
    for repo, directory, prefix in PACKAGES:
        parse_proto(
            git_show(repos[repo], args.ref, f"{directory}/generated.proto"), prefix, messages
        )
        parse_go(git_show(repos[repo], args.ref, f"{directory}/types.go"), prefix, go)

    reachable: list[str] = []
    todo = list(dict.fromkeys(ROOTS.values()))
    while todo:
        name = todo.pop(0)
        if name in reachable or name in SPECIAL:
            continue
        if name not in messages:
            raise SystemExit(f"message {name} not found in the parsed proto files")
        reachable.append(name)
        for _, type_name, _ in messages[name].values():
            target = type_name.split(":")[-1]
            if target not in SCALARS:
                todo.append(target)

    lines = [
        '"""Protobuf field tables of the Kubernetes API messages the simulator decodes.',
        "",
        "GENERATED by scripts/gen-sim-protobuf-tables.py from the generated.proto and types.go",
        f"of kubernetes/api {commits['api'][:12]} and kubernetes/apimachinery "
        f"{commits['apimachinery'][:12]};",
        "do not edit by hand. Read by :mod:`storeplane.sim.api.protobuf`.",
        "",
        "``MESSAGES[message][number] = (json name, type, flags)``: ``type`` is a scalar",
        "(``string``, ``int32``...), another message, or ``map:KEY:VALUE``; ``flags`` is a sum of",
        "``REPEATED``, ``POINTER`` (a zero value on the wire is meaningful), ``OMITEMPTY`` (JSON",
        "drops the zero value) and ``INLINE`` (an embedded struct: JSON flattens its fields into",
        "the parent). ``ROOTS`` maps (apiVersion, kind) to the message of the object.",
        '"""',
        "",
        "REPEATED, POINTER, OMITEMPTY, INLINE = 1, 2, 4, 8",
        "",
        "ROOTS: dict[tuple[str, str], str] = {",
    ]
    for (api_version, kind), message in ROOTS.items():
        lines.append(f"    ({api_version!r}, {kind!r}): {message!r},")
    lines += ["}", "", "MESSAGES: dict[str, dict[int, tuple[str, str, int]]] = {"]
    for name in sorted(reachable):
        entries = []
        for number, (proto_name, type_name, repeated) in sorted(messages[name].items()):
            json_name, pointer, omitempty, inline = go.get(
                (name, number), (proto_name, False, True, False)
            )
            flags = repeated * 1 + pointer * 2 + omitempty * 4 + inline * 8
            entries.append(f"{number}: ({json_name or proto_name!r}, {type_name!r}, {flags})")
        lines.append(f"    {name!r}: {{")
        for entry in entries:
            lines.append(f"        {entry},")
        lines.append("    },")
    lines += ["}", ""]
    OUT.write_text("\n".join(lines))
    # The project's formatter owns the layout (quotes, wrapping), so a re-run diffs cleanly.
    subprocess.run([sys.executable, "-m", "ruff", "format", str(OUT)], check=False)
    print(f"wrote {OUT} ({len(reachable)} messages)")


if __name__ == "__main__":
    main()
