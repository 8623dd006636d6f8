"""The runner and kubeconfig helpers the CLI calls."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest
import yaml

from storeplane.sim.kubeconfig import write_kubeconfig
from storeplane.sim.runner import SimulatorConfig, start_in_thread


def test_port_zero_resolves_to_a_real_port_and_stop_closes_it() -> None:
    sim = start_in_thread(SimulatorConfig())
    assert sim.port > 0
    assert sim.url == f"http://127.0.0.1:{sim.port}"
    assert httpx.get(f"{sim.url}/healthz").text == "ok"
    sim.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{sim.url}/healthz", timeout=1)


def test_a_busy_port_fails_to_start_with_an_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError):
            start_in_thread(SimulatorConfig(port=port))


def test_an_unreadable_state_file_fails_to_start(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    state.write_text("this is not a database")
    with pytest.raises(RuntimeError, match="did not start"):
        start_in_thread(SimulatorConfig(state_path=state))


def test_kubeconfig_points_at_the_server_with_a_private_mode(tmp_path: Path) -> None:
    path = write_kubeconfig(tmp_path / "dir" / "config", "http://127.0.0.1:1234", context="dev")
    assert path.stat().st_mode & 0o777 == 0o600
    config = yaml.safe_load(path.read_text())
    assert config["current-context"] == "dev"
    assert config["clusters"][0]["cluster"]["server"] == "http://127.0.0.1:1234"
    assert config["users"][0]["user"]["token"]
    write_kubeconfig(path, "http://127.0.0.1:9999", context="dev")  # overwrite in place
    assert "9999" in path.read_text()
    assert path.stat().st_mode & 0o777 == 0o600
