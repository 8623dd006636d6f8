"""``storeplane dev`` ends cleanly on SIGTERM as on Ctrl-C: the same shutdown, the same
``finally`` (the reconciler stops, ``api.url`` is forgotten, the simulator stops and with it
every process its node runs). Before the fix uvicorn's re-raise of SIGTERM killed the process
on the spot (exit 143), and a real store's Medusa, PostgreSQL and Redis were left running.
The processes themselves need the real-store runtime; ``dashboard/e2e/run.mjs`` stops its
real-Medusa dev this way and checks nothing is left (see dashboard/README.md)."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.cli.run import READY_DELAY
from tests.scenarios.dev_process import DevProcess


@pytest.mark.parametrize(
    ("signum", "exit_code"),
    [(signal.SIGTERM, 0)],
    ids=["SIGTERM runs the same shutdown as Ctrl-C and exits 0"],
)
def test_dev_stops_cleanly(tmp_path: Path, signum: signal.Signals, exit_code: int) -> None:
    # Ctrl-C (SIGINT, exit 130) is how every other test stops dev (DevProcess.stop).
    dev = DevProcess(tmp_path, None, ready_delay=READY_DELAY).start()
    assert dev.proc is not None
    assert (tmp_path / "api.url").exists()
    try:
        dev.proc.send_signal(signum)
        code = dev.proc.wait(30)
    finally:
        dev.stop()
    log = dev.log_path.read_text()
    assert code == exit_code, f"dev exited with {code}:\n{log[-2000:]}"
    assert not (tmp_path / "api.url").exists(), "api.url kept: the dev's finally did not run"
    assert "reconciler" in log and "stopped" in log.rsplit("reconciler", 1)[1], log[-2000:]
