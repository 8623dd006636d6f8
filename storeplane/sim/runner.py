"""Run the simulator: in a background thread (tests, ``storeplane dev``) or in the
foreground (``storeplane sim``). Called by the CLI and the test fixtures.

The listening socket is bound here, before uvicorn starts, so port 0 resolves to a real
port that callers know as soon as :func:`start_in_thread` returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import socket
import threading
import time
from dataclasses import replace
from pathlib import Path
from types import TracebackType

import uvicorn

from .api.app import create_app
from .api.auth import admin_token_for
from .config import SimulatorConfig
from .kubeconfig import write_kubeconfig
from .store.objects import write_meta
from .tls import TLS_META, ServingCert, serving_cert_for, temp_dir

__all__ = ["RunningSimulator", "SimulatorConfig", "serve_forever", "start_in_thread"]

logger = logging.getLogger(__name__)

START_TIMEOUT = 15.0


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets whose proto
    # says TCP, and without it every keep-alive response waits ~40 ms on Nagle/delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(512)
    except OSError:
        sock.close()
        raise
    return sock


def _url(host: str, port: int, scheme: str = "http") -> str:
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"


class _Server(uvicorn.Server):
    """uvicorn's server, but ``request_stop()`` ends it at once instead of at the next
    0.1 s tick, which keeps test suites that start many simulators fast."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None

    async def main_loop(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop_event = asyncio.Event()
        counter = 0
        while not self.should_exit:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop_event.wait(), 0.1)
            counter = (counter + 1) % 864000
            if await self.on_tick(counter):
                return

    def request_stop(self) -> None:
        """Thread-safe: ask the server to shut down gracefully."""
        self.should_exit = True
        loop, event = self._loop, self._stop_event
        if loop is not None and event is not None:
            with contextlib.suppress(RuntimeError):  # the loop already closed
                loop.call_soon_threadsafe(event.set)


def _server(
    config: SimulatorConfig,
    tls_files: tuple[Path, Path, Path] | None,
    ingress_port: int | None = None,
) -> _Server:
    uv_config = uvicorn.Config(
        create_app(config, ingress_port),
        log_config=None,  # leave logging to the host program
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=2,
        ssl_certfile=str(tls_files[1]) if tls_files else None,
        ssl_keyfile=str(tls_files[2]) if tls_files else None,
    )
    return _Server(uv_config)


def _prepare(config: SimulatorConfig) -> tuple[SimulatorConfig, ServingCert | None]:
    """With RBAC: settle the admin token and the serving certificate before start (so a
    kubeconfig can carry them), keeping the certificate in the state file."""
    if not config.rbac:
        return config, None
    if config.admin_token is None:
        config = replace(config, admin_token=admin_token_for(config.state_path))
    cert = serving_cert_for(config.state_path, config.host)
    if config.state_path is not None:
        write_meta(config.state_path, TLS_META, cert.to_json())
    return config, cert


class RunningSimulator:
    """A simulator serving on a daemon thread; ``stop()`` (or leaving the ``with`` block)
    shuts it down gracefully and joins the thread."""

    def __init__(
        self,
        server: _Server,
        thread: threading.Thread,
        sock: socket.socket,
        url: str,
        admin_token: str | None = None,
        serving_cert: ServingCert | None = None,
        ingress_sock: socket.socket | None = None,
    ) -> None:
        self._server = server
        self._thread = thread
        self._sock = sock
        self._ingress_sock = ingress_sock
        self.url = url
        self.port: int = sock.getsockname()[1]
        # With RBAC: the bearer token of user admin (system:masters) and the TLS pair the
        # simulator serves (https); both None without RBAC (plain http, no authentication).
        self.admin_token = admin_token
        self.serving_cert = serving_cert
        # The ingress listener (CONTRACTS B), when SimulatorConfig.ingress_port is set.
        # (https like the API when RBAC serves TLS: uvicorn serves both sockets alike)
        self.ingress_url: str | None = (
            _url(
                sock.getsockname()[0],
                ingress_sock.getsockname()[1],
                "https" if serving_cert else "http",
            )
            if ingress_sock
            else None
        )

    @property
    def ca_pem(self) -> str | None:
        """The CA certificate clients must trust (https only), PEM."""
        return self.serving_cert.ca_pem if self.serving_cert else None

    def write_kubeconfig(self, path: Path, token: str | None = None) -> Path:
        """A kubeconfig for this simulator, as admin unless ``token`` is given."""
        return write_kubeconfig(path, self.url, token=token or self.admin_token, ca_pem=self.ca_pem)

    def stop(self, timeout: float = 10.0) -> None:
        self._server.request_stop()
        self._thread.join(timeout)
        if self._thread.is_alive():
            logger.warning("simulator thread did not stop within %.1fs", timeout)
        self._sock.close()
        if self._ingress_sock is not None:
            self._ingress_sock.close()

    def __enter__(self) -> RunningSimulator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_in_thread(config: SimulatorConfig) -> RunningSimulator:
    """Start a simulator on a daemon thread with its own event loop; returns once it
    accepts connections. Raises RuntimeError if it fails to start (the log says why)."""
    config, cert = _prepare(config)
    sock = _bind(config.host, config.port)
    port = sock.getsockname()[1]
    tls_dir = temp_dir() if cert else None
    ingress_sock = (
        _bind(config.host, config.ingress_port) if config.ingress_port is not None else None
    )
    server = _server(
        config,
        cert.write_files(tls_dir) if cert and tls_dir else None,
        ingress_sock.getsockname()[1] if ingress_sock else None,
    )
    failure: list[BaseException] = []
    sockets = [sock, *([ingress_sock] if ingress_sock else [])]

    def run() -> None:
        try:
            asyncio.run(server.serve(sockets=sockets))
        except BaseException as exc:  # reported to the starting thread
            failure.append(exc)

    thread = threading.Thread(target=run, name=f"storeplane-sim-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            thread.join(5)
            sock.close()
            if ingress_sock is not None:
                ingress_sock.close()
            raise RuntimeError(
                f"the simulator did not start on port {port}"
                + (f": {failure[0]!r}" if failure else "; see the log for the reason")
            )
        time.sleep(0.005)
    if tls_dir is not None:  # uvicorn has loaded the pair; the key need not stay on disk
        shutil.rmtree(tls_dir, ignore_errors=True)
    url = _url(config.host, port, "https" if cert else "http")
    logger.info("simulator listening on %s", url)
    return RunningSimulator(
        server, thread, sock, url, config.admin_token if cert else None, cert, ingress_sock
    )


def serve_forever(config: SimulatorConfig, kubeconfig_path: Path | None) -> None:
    """Serve in the foreground until Ctrl-C / SIGTERM. Writes a kubeconfig pointing at the
    simulator when ``kubeconfig_path`` is given, and prints the URL (and the path)."""
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
    config, cert = _prepare(config)
    sock = _bind(config.host, config.port)
    url = _url(config.host, sock.getsockname()[1], "https" if cert else "http")
    print(f"storeplane simulator listening on {url}", flush=True)
    if config.rbac:
        print("RBAC on: requests need a bearer token (the kubeconfig has the admin's)", flush=True)
    ingress_sock = (
        _bind(config.host, config.ingress_port) if config.ingress_port is not None else None
    )
    if ingress_sock is not None:
        ingress_url = _url(config.host, ingress_sock.getsockname()[1], "https" if cert else "http")
        print(f"ingress listener on {ingress_url} (routes by Host)", flush=True)
    if kubeconfig_path is not None:
        write_kubeconfig(
            kubeconfig_path,
            url,
            token=config.admin_token if cert else None,
            ca_pem=cert.ca_pem if cert else None,
        )
        print(f"kubeconfig written to {kubeconfig_path} (export KUBECONFIG={kubeconfig_path})",
              flush=True)  # fmt: skip
    tls_dir = temp_dir() if cert else None
    try:
        _server(
            config,
            cert.write_files(tls_dir) if cert and tls_dir else None,
            ingress_sock.getsockname()[1] if ingress_sock else None,
        ).run(sockets=[sock, *([ingress_sock] if ingress_sock else [])])
    finally:
        sock.close()
        if ingress_sock is not None:
            ingress_sock.close()
        if tls_dir is not None:
            shutil.rmtree(tls_dir, ignore_errors=True)
