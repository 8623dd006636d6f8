"""The Pod Security Standards checks (baseline and restricted), with the API server's words.

Used by :mod:`storeplane.sim.admission.pod_security`. Each check reads a pod's metadata and
spec and returns ``(reason, detail)`` when the pod breaks it, worded as the checks in
``k8s.io/pod-security-admission/policy`` word them, e.g. ``("privileged", 'container "web"
must not set securityContext.privileged=true')``. :func:`evaluate` runs the checks of a
level in the order the admission prints them: baseline checks, then restricted ones, each
sorted by check ID; a restricted check replaces the baseline check it tightens
(capabilities, seccomp, host-path volumes).

Modelled: host namespaces, privileged, baseline capabilities, host-path volumes, host
ports, baseline seccomp; restricted volume types, allowPrivilegeEscalation, restricted
capabilities, runAsNonRoot, runAsUser, restricted seccomp. Not modelled (never refused
here): AppArmor, SELinux options, procMount, sysctls, Windows host process, host probes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]
Violation = tuple[str, str]
CheckFn = Callable[[Obj, Obj], "Violation | None"]

LEVELS = ("privileged", "baseline", "restricted")
BASELINE_CAPABILITIES = frozenset({
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
    "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
})  # fmt: skip
RESTRICTED_VOLUME_TYPES = frozenset({
    "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
    "projected", "secret",
})  # fmt: skip


def _containers(spec: Obj) -> Iterator[Obj]:
    for section in ("initContainers", "containers", "ephemeralContainers"):
        for container in spec.get(section) or []:
            if isinstance(container, dict):
                yield container


def _sc(obj: Obj) -> Obj:
    value = obj.get("securityContext")
    return value if isinstance(value, dict) else {}


def _quote(names: list[str]) -> str:
    return ", ".join(f'"{n}"' for n in names)


def _plural(one: str, many: str, count: int) -> str:
    return one if count == 1 else many


def _containers_phrase(names: list[str]) -> str:
    return f"{_plural('container', 'containers', len(names))} {_quote(names)}"


def host_namespaces(meta: Obj, spec: Obj) -> Violation | None:
    used = sorted(n for n in ("hostIPC", "hostNetwork", "hostPID") if spec.get(n) is True)
    return ("host namespaces", ", ".join(used)) if used else None


def privileged(meta: Obj, spec: Obj) -> Violation | None:
    bad = [str(c.get("name")) for c in _containers(spec) if _sc(c).get("privileged") is True]
    if not bad:
        return None
    return "privileged", f"{_containers_phrase(bad)} must not set securityContext.privileged=true"


def capabilities_baseline(meta: Obj, spec: Obj) -> Violation | None:
    bad: list[str] = []
    added: set[str] = set()
    for c in _containers(spec):
        extra = {str(a) for a in (_sc(c).get("capabilities") or {}).get("add") or []}
        extra -= BASELINE_CAPABILITIES
        if extra:
            bad.append(str(c.get("name")))
            added |= extra
    if not bad:
        return None
    return "non-default capabilities", (
        f"{_containers_phrase(bad)} must not include {_quote(sorted(added))} in "
        "securityContext.capabilities.add"
    )


def host_path_volumes(meta: Obj, spec: Obj) -> Violation | None:
    bad = [str(v.get("name")) for v in spec.get("volumes") or [] if "hostPath" in v]
    if not bad:
        return None
    return "hostPath volumes", f"{_plural('volume', 'volumes', len(bad))} {_quote(bad)}"


def host_ports(meta: Obj, spec: Obj) -> Violation | None:
    bad: list[str] = []
    ports: set[int] = set()
    for c in _containers(spec):
        used = {int(p.get("hostPort") or 0) for p in c.get("ports") or []} - {0}
        if used:
            bad.append(str(c.get("name")))
            ports |= used
    if not bad:
        return None
    listed = ", ".join(sorted(str(p) for p in ports))
    return "hostPort", (
        f"{_containers_phrase(bad)} {_plural('uses', 'use', len(bad))} "
        f"{_plural('hostPort', 'hostPorts', len(ports))} {listed}"
    )


def _seccomp_type(obj: Obj) -> str | None:
    profile = _sc(obj).get("seccompProfile")
    return str(profile.get("type")) if isinstance(profile, dict) else None


def _seccomp_ok(value: str | None) -> bool:
    return value in ("RuntimeDefault", "Localhost")


def seccomp_baseline(meta: Obj, spec: Obj) -> Violation | None:
    setters: list[str] = []
    values: set[str] = set()
    pod_type = _seccomp_type(spec)
    if pod_type is not None and not _seccomp_ok(pod_type):
        setters.append("pod")
        values.add(pod_type)
    bad = []
    for c in _containers(spec):
        value = _seccomp_type(c)
        if value is not None and not _seccomp_ok(value):
            bad.append(str(c.get("name")))
            values.add(value)
    if bad:
        setters.append(_containers_phrase(bad))
    if not setters:
        return None
    return "seccompProfile", (
        f"{' and '.join(setters)} must not set securityContext.seccompProfile.type to "
        f"{_quote(sorted(values))}"
    )


def restricted_volumes(meta: Obj, spec: Obj) -> Violation | None:
    bad = sorted(
        str(v.get("name"))
        for v in spec.get("volumes") or []
        if not RESTRICTED_VOLUME_TYPES & (set(v) - {"name"})
    )
    if not bad:
        return None
    quoted = " ".join(f'"{n}"' for n in bad)  # Go's %q of a []string
    return "restricted volume types", f"volumes [{quoted}] have restricted types"


def allow_privilege_escalation(meta: Obj, spec: Obj) -> Violation | None:
    bad = [
        str(c.get("name"))
        for c in _containers(spec)
        if _sc(c).get("allowPrivilegeEscalation") is not False
    ]
    if not bad:
        return None
    return "allowPrivilegeEscalation != false", (
        f"{_containers_phrase(bad)} must set securityContext.allowPrivilegeEscalation=false"
    )


def capabilities_restricted(meta: Obj, spec: Obj) -> Violation | None:
    missing_drop: list[str] = []
    adding: list[str] = []
    forbidden: set[str] = set()
    for c in _containers(spec):
        capabilities = _sc(c).get("capabilities")
        if not isinstance(capabilities, dict):
            missing_drop.append(str(c.get("name")))
            continue
        if "ALL" not in (capabilities.get("drop") or []):
            missing_drop.append(str(c.get("name")))
        extra = {str(a) for a in capabilities.get("add") or [] if a != "NET_BIND_SERVICE"}
        if extra:
            adding.append(str(c.get("name")))
            forbidden |= extra
    details = []
    if missing_drop:
        details.append(
            f'{_containers_phrase(missing_drop)} must set securityContext.capabilities.drop=["ALL"]'
        )
    if adding:
        details.append(
            f"{_containers_phrase(adding)} must not include {_quote(sorted(forbidden))} in "
            "securityContext.capabilities.add"
        )
    return ("unrestricted capabilities", "; ".join(details)) if details else None


def run_as_non_root(meta: Obj, spec: Obj) -> Violation | None:
    setters: list[str] = []
    pod_value = _sc(spec).get("runAsNonRoot")
    if pod_value is False:
        setters.append("pod")
    explicit: list[str] = []
    implicit: list[str] = []
    for c in _containers(spec):
        value = _sc(c).get("runAsNonRoot")
        if value is None:
            if pod_value is not True:
                implicit.append(str(c.get("name")))
        elif value is False:
            explicit.append(str(c.get("name")))
    if explicit:
        setters.append(_containers_phrase(explicit))
    if setters:
        return "runAsNonRoot != true", (
            f"{' and '.join(setters)} must not set securityContext.runAsNonRoot=false"
        )
    if implicit:
        return "runAsNonRoot != true", (
            f"pod or {_containers_phrase(implicit)} must set securityContext.runAsNonRoot=true"
        )
    return None


def run_as_user(meta: Obj, spec: Obj) -> Violation | None:
    setters = ["pod"] if _sc(spec).get("runAsUser") == 0 else []
    bad = [str(c.get("name")) for c in _containers(spec) if _sc(c).get("runAsUser") == 0]
    if bad:
        setters.append(_containers_phrase(bad))
    if not setters:
        return None
    return "runAsUser=0", f"{' and '.join(setters)} must not set runAsUser=0"


def seccomp_restricted(meta: Obj, spec: Obj) -> Violation | None:
    setters: list[str] = []
    values: set[str] = set()
    pod_type = _seccomp_type(spec)
    pod_ok = False
    if pod_type is not None:
        if _seccomp_ok(pod_type):
            pod_ok = True
        else:
            setters.append("pod")
            values.add(pod_type)
    explicit: list[str] = []
    implicit: list[str] = []
    for c in _containers(spec):
        value = _seccomp_type(c)
        if value is None:
            if not pod_ok:
                implicit.append(str(c.get("name")))
        elif not _seccomp_ok(value):
            explicit.append(str(c.get("name")))
            values.add(value)
    if explicit:
        setters.append(_containers_phrase(explicit))
    if setters:
        return "seccompProfile", (
            f"{' and '.join(setters)} must not set securityContext.seccompProfile.type to "
            f"{_quote(sorted(values))}"
        )
    if implicit:
        return "seccompProfile", (
            f"pod or {_containers_phrase(implicit)} must set "
            'securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"'
        )
    return None


@dataclass(frozen=True)
class Check:
    id: str
    level: str
    since: tuple[int, int]  # the first policy version the check applies to
    run: CheckFn
    replaces: str = ""  # the baseline check a restricted one tightens


CHECKS: tuple[Check, ...] = (
    Check("capabilities_baseline", "baseline", (1, 0), capabilities_baseline),
    Check("hostNamespaces", "baseline", (1, 0), host_namespaces),
    Check("hostPathVolumes", "baseline", (1, 0), host_path_volumes),
    Check("hostPorts", "baseline", (1, 0), host_ports),
    Check("privileged", "baseline", (1, 0), privileged),
    Check("seccompProfile_baseline", "baseline", (1, 19), seccomp_baseline),
    Check("allowPrivilegeEscalation", "restricted", (1, 8), allow_privilege_escalation),
    Check("capabilities_restricted", "restricted", (1, 22), capabilities_restricted,
          "capabilities_baseline"),
    Check("restrictedVolumes", "restricted", (1, 0), restricted_volumes, "hostPathVolumes"),
    Check("runAsNonRoot", "restricted", (1, 0), run_as_non_root),
    Check("runAsUser", "restricted", (1, 23), run_as_user),
    Check("seccompProfile_restricted", "restricted", (1, 19), seccomp_restricted,
          "seccompProfile_baseline"),
)  # fmt: skip


def evaluate(level: str, version: tuple[int, int], meta: Obj, spec: Obj) -> list[Violation]:
    """Every check of ``level`` (at policy ``version``) that the pod breaks, in order."""
    if level == "privileged":
        return []
    wanted = [
        c for c in CHECKS if (c.level == "baseline" or level == "restricted") and version >= c.since
    ]
    replaced = {c.replaces for c in wanted if c.replaces}
    violations = []
    for check in wanted:
        if check.id in replaced:
            continue
        found = check.run(meta, spec)
        if found is not None:
            violations.append(found)
    return violations


def detail(violations: list[Violation]) -> str:
    """``privileged (container "x" must not ...), runAsNonRoot != true (...)``."""
    return ", ".join(f"{reason} ({text})" if text else reason for reason, text in violations)
