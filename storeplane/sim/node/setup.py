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
from .volumes import NodeFolders, node_root

logger = logging.getLogger(__name__)


@dataclass
class Node:
    agent: LocalNode
    scheduler: Scheduler
    table: RuntimeTable


def reap_abandoned(keep: Path) -> None:
    """Temporary node folders of simulators that died without cleaning up (SIGKILL, crash):
    stop their processes (identified by pid and start time) and remove the folders."""
    for folder in Path(tempfile.gettempdir()).glob("storeplane-sim-node-*"):
        if folder == keep:
            continue
        try:
            owner = json.loads((folder / "owner.json").read_text())
        except (OSError, ValueError):
            continue
        if alive(int(owner.get("pid", 0)), owner.get("started")):
            continue
        runtime = ProcessRuntime()
        for pod_dir in sorted((folder / "pods").glob("*")):
            for container_id in runtime.adopt(pod_dir.name, pod_dir):
                runtime.signal_container(container_id, kill=True)
            kill_strays(pod_dir.name)
            record = NodeFolders(folder).pod_record(pod_dir.name) or {}
            for extra in record.get("extra_dirs") or []:
                shutil.rmtree(extra, ignore_errors=True)
        logger.info(
            "removed %s, left by a simulator that is gone (pid %s)", folder, owner.get("pid")
        )
        shutil.rmtree(folder, ignore_errors=True)


def build(config: SimulatorConfig, cluster: Cluster) -> Node:
    """Everything but starting the agent (``await node.agent.start()`` in the loop).
    Raises images.TableError for a bad runtime table."""
    table = load_table(config.runtimes_file)
    root, temporary = node_root(config.node_dir, config.state_path)
    folders = NodeFolders(root)
    if temporary:
        (root / "owner.json").write_text(
            json.dumps({"pid": os.getpid(), "started": start_time(os.getpid())})
        )
    reap_abandoned(root)
    cluster.bind_pods_on_create = False
    allocatable = ensure_nodes(cluster)
    job_delay = config.ready_delays.get("Job", config.ready_delay)
    agent = LocalNode(cluster, table, folders, job_delay, temporary)
    for line in table.describe():
        logger.info("local node: %s", line)
    logger.info("local node folder: %s%s", root, " (temporary)" if temporary else "")
    return Node(agent, Scheduler(table, allocatable), table)
