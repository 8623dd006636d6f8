"""Everything a reconcile pass needs besides the store: the cluster, the renderer, the
platform configuration and the timing knobs. Built once per process by the CLI."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from storeplane.domain.events import Event
from storeplane.domain.ports import ClusterPort, Manifest, StepJournal
from storeplane.domain.store import Engine
from storeplane.engines import Exposure
from storeplane.engines.catalogue import Catalogue, shipped_catalogue
from storeplane.reconciler.backup_jobs import BackupTargetConfig
from storeplane.reconciler.converged import ConvergedMemo
from storeplane.reconciler.manifests import PlatformConfig
from storeplane.reconciler.steps import PassSteps


class Renderer(Protocol):
    """Turns an engine chart and values into manifests (``storeplane.render`` implements it)."""

    async def render(
        self, chart_dir: Path, release: str, namespace: str, values: Mapping[str, Any]
    ) -> list[Manifest]: ...


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Timing:
    poll: timedelta = timedelta(seconds=1)
    resync: timedelta = timedelta(minutes=10)
    deadline: timedelta = timedelta(minutes=10)
    backoff_base: float = 1.0
    backoff_cap: float = 300.0


@dataclass(frozen=True)
class ReconcileContext:
    cluster: ClusterPort
    renderer: Renderer
    charts_dir: Path
    exposure: Exposure = field(default_factory=Exposure)
    platform: PlatformConfig = field(default_factory=PlatformConfig)
    timing: Timing = field(default_factory=Timing)
    # Where backups go; without a target no backup claim is made and backups are refused.
    backups: BackupTargetConfig = field(default_factory=BackupTargetConfig)
    # Why a store's teardown must wait (its final backup runs), or None: go ahead.
    teardown_hold: Callable[[str], Awaitable[str | None]] | None = None
    clock: Callable[[], datetime] = utcnow
    # Where steps are recorded before their cluster writes (None: in memory, for unit tests).
    journal: StepJournal | None = None
    # Bound by reconcile_store for the pass it runs; read it as ``ctx.steps``.
    pass_steps: PassSteps | None = None
    # Stores last seen converged, by digest of intent and live objects (reconciler/converged.py);
    # one per process, shared by every pass (replace() keeps the same object).
    converged: ConvergedMemo = field(default_factory=ConvergedMemo)

    def steps_for_pass(self, events: list[Event]) -> PassSteps:
        """Steps bound to one pass's event list and this process's journal."""
        return PassSteps(self.journal, self.cluster, self.clock, events)

    @property
    def steps(self) -> PassSteps:
        """The gateway every action's cluster write goes through (``reconciler/steps.py``)."""
        if self.pass_steps is not None:
            return self.pass_steps
        return PassSteps(None, self.cluster, self.clock, [])

    # The engine versions stores render with (settings.engine_catalogue, else the shipped one)
    # and the platform's image repository per engine (missing: the engine profile's default).
    catalogue: Catalogue = field(default_factory=shipped_catalogue)
    image_repositories: Mapping[Engine, str] = field(default_factory=dict)
