"""Folders on this machine for the local node: pods, their volumes, claims, image overlays.

Used by the agent (:mod:`storeplane.sim.node.agent`). Layout under the node folder
(``SimulatorConfig.node_dir``, else beside the state file, else a temporary folder):

    pods/<pod uid>/pod.json          namespace, name, address (found again after a restart)
    pods/<pod uid>/volumes/<name>/   emptyDir, Secret and ConfigMap volumes (removed with the pod)
    pods/<pod uid>/rootfs/<image>/   the per-pod overlay of an image's root (symlinks)
    pods/<pod uid>/containers/       the runtime's per-container state (conmon)
    pods/<pod uid>/logs/<container>/<restart count>.log
    claims/<namespace>/<claim>/      a PersistentVolumeClaim's data (kept while the claim exists)

:class:`PodPaths` maps container paths (volume mounts, the image's root) to host folders;
:func:`rewrite_paths` applies the mapping to command, args, env and workingDir.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import re
import shutil
import stat
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .images import LocalImage

Obj = dict[str, Any]


class VolumeError(Exception):
    """A volume cannot be set up; ``str()`` is the kubelet's FailedMount message."""


def traversable(path: Path) -> bool:
    """Whether other users can reach ``path`` (every ancestor has the x bit for others):
    a server running as ``postgres`` needs it when the simulator runs as root."""
    for parent in [path, *path.parents]:
        try:
            mode = parent.stat().st_mode
        except OSError:
            continue  # not created yet: we create it world-traversable
        if not mode & stat.S_IXOTH:
            return False
    return True


ORIGIN = "origin"  # in a stand-in folder under /tmp: the folder it stands in for


def node_root(configured: Path | None, state_path: Path | None) -> tuple[Path, bool]:
    """The node folder and whether it is temporary (removed when the simulator stops).
    As root, a folder that other users cannot reach is replaced by one under /tmp named
    after it (its ``origin`` file says which), so that PostgreSQL (run as ``postgres``)
    can use its volumes."""
    if configured is not None:
        root, temporary = configured, False
    elif state_path is not None:
        root, temporary = state_path.with_name(state_path.name + ".node"), False
    else:
        return Path(tempfile.mkdtemp(prefix="storeplane-sim-node-")), True
    root = root.absolute()
    if os.geteuid() == 0 and not traversable(root):
        import hashlib

        digest = hashlib.sha256(str(root).encode()).hexdigest()[:12]
        stand_in = Path(tempfile.gettempdir()) / f"storeplane-sim-node-{digest}"
        _mkdir(stand_in)
        (stand_in / ORIGIN).write_text(str(root))
        root = stand_in
    return root, temporary


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o755)
    return path


class NodeFolderInUse(RuntimeError):
    pass


@dataclass
class NodeFolders:
    root: Path

    def __post_init__(self) -> None:
        _mkdir(self.root)
        _mkdir(self.root / "pods")
        _mkdir(self.root / "claims")

    def lock(self) -> int:
        """Hold the folder for this simulator (two simulators on one folder would fight over
        its processes); returns the open lock file, to keep for the simulator's life."""
        fd = os.open(self.root / "lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            raise NodeFolderInUse(
                f"the node folder {self.root} is used by another simulator: stop it, or give "
                "this one its own (SimulatorConfig.node_dir, --node-dir)"
            ) from exc
        return fd

    def pod_dir(self, uid: str) -> Path:
        return self.root / "pods" / uid

    def claim_dir(self, namespace: str, claim: str) -> Path:
        return self.root / "claims" / namespace / claim

    def pod_dirs(self) -> list[Path]:
        return sorted(p for p in (self.root / "pods").iterdir() if p.is_dir())

    def claim_dirs(self, namespace: str | None = None) -> list[Path]:
        base = self.root / "claims"
        spaces = [base / namespace] if namespace else sorted(base.iterdir())
        return [c for s in spaces if s.is_dir() for c in sorted(s.iterdir()) if c.is_dir()]

    def write_pod_record(self, uid: str, record: Obj) -> None:
        directory = _mkdir(self.pod_dir(uid))
        (directory / "pod.json").write_text(json.dumps(record))

    def pod_record(self, uid: str) -> Obj | None:
        try:
            data = json.loads((self.pod_dir(uid) / "pod.json").read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def remove_pod(self, uid: str) -> None:
        record = self.pod_record(uid) or {}
        for extra in record.get("extra_dirs") or []:
            _remove_tree(Path(extra))
        _remove_tree(self.pod_dir(uid))

    def remove_claim(self, namespace: str, claim: str) -> None:
        _remove_tree(self.claim_dir(namespace, claim))
        space = self.root / "claims" / namespace
        if space.is_dir() and not any(space.iterdir()):
            space.rmdir()


def _remove_tree(path: Path) -> None:
    """rmtree, again if something wrote into the tree meanwhile (a process's last words)."""
    for _ in range(5):
        shutil.rmtree(path, ignore_errors=True)
        if not path.exists():
            return
        time.sleep(0.05)


def _write_items(directory: Path, data: dict[str, bytes], source: Obj) -> None:
    """Secret/ConfigMap keys as files (``items`` picks and renames keys)."""
    mode = int(source.get("defaultMode", 0o644))
    items = source.get("items")
    chosen = (
        [(str(i["key"]), str(i["path"]), int(i.get("mode", mode))) for i in items]
        if items
        else [(k, k, mode) for k in data]
    )
    for key, rel, file_mode in chosen:
        if key not in data:
            raise VolumeError(f"configmap references non-existent config key: {key}")
        target = directory / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data[key])
        target.chmod(file_mode)


def _host_path_of(claim: Obj, lookup: Any) -> Path | None:
    """The host folder of the hostPath (or local) PersistentVolume ``claim`` names in
    ``spec.volumeName``; None for a claim the node provides a folder for. Raises VolumeError
    when the named volume does not exist (a kubelet's pod would wait for the binding)."""
    volume_name = str((claim.get("spec") or {}).get("volumeName") or "")
    if not volume_name:
        return None
    volume = lookup("persistentvolumes", volume_name)
    if volume is None:
        raise VolumeError(f'persistentvolume "{volume_name}" not found')
    spec = volume.get("spec") or {}
    source = spec.get("hostPath") or spec.get("local") or {}
    path = str(source.get("path") or "")
    return Path(path) if path.startswith("/") else None


def _mkdir_all(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def setup_volumes(folders: NodeFolders, pod: Obj, lookup: Any) -> dict[str, Path]:
    """Create the pod's volume folders; returns volume name -> host folder. Secret and
    ConfigMap volumes are (re)written from the objects. Raises VolumeError."""
    meta = pod["metadata"]
    namespace = meta.get("namespace", "")
    base = _mkdir(folders.pod_dir(meta["uid"]) / "volumes")
    result: dict[str, Path] = {}
    for volume in (pod.get("spec") or {}).get("volumes") or []:
        name = str(volume.get("name"))
        if "persistentVolumeClaim" in volume:
            claim = str(volume["persistentVolumeClaim"].get("claimName", ""))
            found = lookup("persistentvolumeclaims", claim)
            if found is None:
                raise VolumeError(f'persistentvolumeclaim "{claim}" not found')
            # As a kubelet: a claim being deleted is not mounted by a new pod, and an unbound
            # one is waited for (the pod starts once the binder bound it; the node's workers
            # wake on the claim's change).
            if (found.get("metadata") or {}).get("deletionTimestamp"):
                raise VolumeError(f'persistentvolumeclaim "{claim}" is being deleted')
            if (found.get("status") or {}).get("phase") != "Bound":
                raise VolumeError(f"error processing PVC {namespace}/{claim}: PVC is not bound")
            host = _host_path_of(found, lookup)
            if host is not None:
                # Bound to a hostPath PersistentVolume: the PV's folder itself (kept when the
                # claim goes, as with reclaim policy Retain), not a folder of the node's own.
                result[name] = _mkdir_all(host)
                continue
            _mkdir(folders.claim_dir(namespace, claim).parent)
            result[name] = _mkdir(folders.claim_dir(namespace, claim))
            continue
        directory = _mkdir(base / name)
        result[name] = directory
        if "secret" in volume:
            source = volume["secret"]
            secret = lookup("secrets", str(source.get("secretName", "")))
            if secret is None:
                if source.get("optional"):
                    continue
                raise VolumeError(
                    f'MountVolume.SetUp failed for volume "{name}" : secret '
                    f'"{source.get("secretName")}" not found'
                )
            data = {k: base64.b64decode(v) for k, v in (secret.get("data") or {}).items()}
            _write_items(directory, data, source)
        elif "configMap" in volume:
            source = volume["configMap"]
            config_map = lookup("configmaps", str(source.get("name", "")))
            if config_map is None:
                if source.get("optional"):
                    continue
                raise VolumeError(
                    f'MountVolume.SetUp failed for volume "{name}" : configmap '
                    f'"{source.get("name")}" not found'
                )
            data = {k: str(v).encode() for k, v in (config_map.get("data") or {}).items()}
            for k, v in (config_map.get("binaryData") or {}).items():
                data[k] = base64.b64decode(v)
            _write_items(directory, data, source)
    return result


@dataclass
class PodPaths:
    """Container path -> host path for one container (longest container path first)."""

    mapping: list[tuple[str, Path]] = field(default_factory=list)

    def host(self, container_path: str) -> Path:
        for prefix, host in self.mapping:
            if container_path == prefix or container_path.startswith(prefix.rstrip("/") + "/"):
                rest = container_path[len(prefix) :].lstrip("/")
                return host / rest if rest else host
        return Path(container_path)


def overlay(pod_dir: Path, image: LocalImage, mounts: dict[str, Path]) -> Path | None:
    """The pod's own view of an image's root: a folder with a symlink per top-level entry
    of the image's build (plus ``links``), where a mounted path below the root (e.g.
    ``/app/static``) is the volume's folder instead. Two pods never write into one build."""
    if image.root is None:
        return None
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", image.image)
    top = pod_dir / "rootfs" / name
    if top.exists():  # made for an earlier start of the pod (the spec cannot change)
        return top
    _mkdir(top)
    entries = {p.name: p for p in sorted(image.root.iterdir())} if image.root.is_dir() else {}
    entries.update(image.links)
    root_prefix = image.root_path.rstrip("/") + "/"
    below = {
        path[len(root_prefix) :]: host
        for path, host in mounts.items()
        if path.startswith(root_prefix)
    }
    for rel, host in below.items():  # e.g. "static" -> the uploads volume
        parts = rel.split("/")
        if len(parts) == 1:
            entries[parts[0]] = host
        else:  # a nested mount: a real folder for its first part, its entries linked
            first = parts[0]
            original = entries.pop(first, None)
            real = _mkdir(top / first)
            if original is not None and original.is_dir():
                for child in original.iterdir():
                    (real / child.name).symlink_to(child)
            (real / "/".join(parts[1:])).parent.mkdir(parents=True, exist_ok=True)
            link = real / "/".join(parts[1:])
            if link.is_symlink() or link.exists():
                link.unlink()
            link.symlink_to(host)
    for entry, target in entries.items():
        link = top / entry
        if not link.exists() and not link.is_symlink():
            link.symlink_to(target)
    return top


_PATH_START = r"(?:^|(?<=[\s=:'\"(,;]))"


def rewrite_paths(value: str, paths: PodPaths) -> str:
    """Replace container paths in a command-line word or env value by their host paths, in
    one pass (a host path is never rewritten again). A path counts only at the start of the
    value or after a space, ``=``, ``:``, a quote, ``(``, ``,`` or ``;`` (so ``/data``
    inside ``redis://host:6379/data`` stays)."""
    prefixes = {p.rstrip("/"): h for p, h in paths.mapping if p != "/"}
    if not prefixes:
        return value
    alternatives = "|".join(re.escape(p) for p in sorted(prefixes, key=len, reverse=True))
    pattern = _PATH_START + f"({alternatives})" + r"(?=/|$|[\s'\":;,)])"
    return re.sub(pattern, lambda m: str(prefixes[m.group(1)]), value)
