"""Standalone ``storeplane sim`` and ``storeplane serve`` processes for multi-process scenarios."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.scenarios.dev_process import REPO, STOREPLANE


@dataclass
class Process:
    name: str
    args: list[str]
    log_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def out_path(self) -> Path:
        return self.log_dir / f"{self.name}.out"

    @property
    def err_path(self) -> Path:
        return self.log_dir / f"{self.name}.err"

    def start(self, ready: str, timeout: float = 30) -> re.Match[str]:
        """Start and wait until stdout matches ``ready`` (a regex); returns the match."""
        env = {**os.environ, "PATH": f"{REPO / '.tools' / 'bin'}:{os.environ['PATH']}", **self.env}
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with self.out_path.open("ab") as out, self.err_path.open("ab") as err:
            self.proc = subprocess.Popen(
                [str(STOREPLANE), *self.args], stdout=out, stderr=err, env=env, cwd=REPO
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(ready, self.out_path.read_text())
            if found:
                return found
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.err_path.read_text()[-3000:]}")
            time.sleep(0.05)
        raise TimeoutError(f"{self.name} did not start:\n{self.err_path.read_text()[-3000:]}")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def json_logs(self) -> list[dict[str, Any]]:
        return [
            json.loads(line)
            for line in self.err_path.read_text().splitlines()
            if line.startswith("{")
        ]


def pass_intervals(
    proc: Process, killed_at: datetime | None = None
) -> dict[str, list[tuple[datetime, datetime]]]:
    """Per store, the [started, finished] times of the passes a serve process logged (with -v).
    A pass cut short by SIGKILL ends at ``killed_at``."""
    open_: dict[str, datetime] = {}
    spans: dict[str, list[tuple[datetime, datetime]]] = {}
    for entry in proc.json_logs():
        store, message = entry.get("store_id"), entry.get("message", "")
        if not store:
            continue
        when = datetime.fromisoformat(entry["time"])
        if message.startswith("pass started"):
            open_[store] = when
        elif message.startswith("pass finished") and store in open_:
            spans.setdefault(store, []).append((open_.pop(store), when))
    for store, started in open_.items():
        assert killed_at is not None, f"{proc.name}: pass of {store} never finished"
        spans.setdefault(store, []).append((started, killed_at))
    return spans
