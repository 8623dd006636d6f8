"""Builds the local node for the app's lifespan (:func:`storeplane.sim.api.app.create_app`)
when ``SimulatorConfig.runtime_mode`` is on: the runtime table, the node folder, the agent
(:mod:`.agent`), the Node objects and the scheduler (:mod:`.scheduler`)."""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..config import SimulatorConfig
from ..store.cluster import Cluster
from .agent import LocalNode
from .images import RuntimeTable, load_table
from .process import ProcessRuntime, alive, kill_strays, start_time
from .scheduler import Scheduler, ensure_nodes
from .volumes import ORIGIN, NodeFolderInUse, NodeFolders, node_root

logger = logging.getLogger(__name__)


@dataclass
class Node:
    agent: LocalNode
    scheduler: Scheduler
    table: RuntimeTable


def _abandoned(folder: Path) -> str | None:
    """Why ``folder`` (a node folder under /tmp) belongs to no simulator any more, or None:
    a temporary one whose simulator died, or a stand-in whose state file's folder is gone
    and that no simulator holds."""
    try:
        owner = json.loads((folder / "owner.json").read_text())
    except (OSError, ValueError):
        owner = None
    if owner is not None:
        if alive(int(owner.get("pid", 0)), owner.get("started")):
            return None
        return f"left by a simulator that is gone (pid {owner.get('pid')})"
    try:
        origin: Path | None = Path((folder / ORIGIN).read_text())
    except OSError:
        origin = None
    # (a folder still being set up has no lock file yet: never "empty")
    empty = (
        (folder / "lock").exists()
        and not any((folder / "pods").glob("*"))
        and not any((folder / "claims").glob("*"))
    )
    if origin is not None and origin.parent.exists() and not empty:
        return None  # its state file may come back: a restart finds its processes here
    if origin is None and not empty:
        return None
    try:
        os.close(NodeFolders(folder).lock())  # a simulator using it holds this lock
    except NodeFolderInUse:
        return None
    if empty:
        return "unused and empty"
    return f"standing in for {origin}, whose folder is gone"


def reap_abandoned(keep: Path) -> None:
    """Node folders under /tmp that no simulator will come back for (a temporary one of a
    simulator that died: SIGKILL, crash; a stand-in whose state folder was deleted): stop
    their processes (identified by pid and start time, or their pod's mark) and remove them."""
    for folder in Path(tempfile.gettempdir()).glob("storeplane-sim-node-*"):
        if folder == keep:
            continue
        why = _abandoned(folder)
        if why is None:
            continue
        runtime = ProcessRuntime()
        for pod_dir in sorted((folder / "pods").glob("*")):
            for container_id in runtime.adopt(pod_dir.name, pod_dir):
                runtime.signal_container(container_id, kill=True)
            kill_strays(pod_dir.name)
            record = NodeFolders(folder).pod_record(pod_dir.name) or {}
            for extra in record.get("extra_dirs") or []:
                shutil.rmtree(extra, ignore_errors=True)
        logger.info("removed %s, %s", folder, why)
        shutil.rmtree(folder, ignore_errors=True)


def build(config: SimulatorConfig, cluster: Cluster) -> Node:
    """Everything but starting the agent (``await node.agent.start()`` in the loop).
    Raises images.TableError for a bad runtime table."""
    table = load_table(config.runtimes_file)
    root, temporary = node_root(config.node_dir, config.state_path)
    folders = NodeFolders(root)
    folder_lock = folders.lock()  # before looking at others' folders: ours is taken
    if temporary:
        (root / "owner.json").write_text(
            json.dumps({"pid": os.getpid(), "started": start_time(os.getpid())})
        )
    reap_abandoned(root)
    cluster.bind_pods_on_create = False
    allocatable = ensure_nodes(cluster)
    job_delay = config.ready_delays.get("Job", config.ready_delay)
    agent = LocalNode(cluster, table, folders, job_delay, temporary, folder_lock)
    for line in table.describe():
        logger.info("local node: %s", line)
    logger.info("local node folder: %s%s", root, " (temporary)" if temporary else "")
    return Node(agent, Scheduler(table, allocatable), table)
