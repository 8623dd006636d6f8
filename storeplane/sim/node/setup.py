"""Builds the local node for the app's lifespan (:func:`storeplane.sim.api.app.create_app`)
when ``SimulatorConfig.runtime_mode`` is on: the runtime table, the node folder, the agent
(:mod:`.agent`), the Node objects and the scheduler (:mod:`.scheduler`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ..config import SimulatorConfig
from ..store.cluster import Cluster
from .agent import LocalNode
from .images import RuntimeTable, load_table
from .scheduler import Scheduler, ensure_nodes
from .volumes import NodeFolders, node_root

logger = logging.getLogger(__name__)


@dataclass
class Node:
    agent: LocalNode
    scheduler: Scheduler
    table: RuntimeTable


def build(config: SimulatorConfig, cluster: Cluster) -> Node:
    """Everything but starting the agent (``await node.agent.start()`` in the loop).
    Raises images.TableError for a bad runtime table."""
    table = load_table(config.runtimes_file)
    root, temporary = node_root(config.node_dir, config.state_path)
    folders = NodeFolders(root)
    cluster.bind_pods_on_create = False
    allocatable = ensure_nodes(cluster)
    job_delay = config.ready_delays.get("Job", config.ready_delay)
    agent = LocalNode(cluster, table, folders, job_delay, temporary)
    for line in table.describe():
        logger.info("local node: %s", line)
    logger.info("local node folder: %s%s", root, " (temporary)" if temporary else "")
    return Node(agent, Scheduler(table, allocatable), table)
