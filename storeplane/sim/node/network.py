"""Networking of the local node without root: loopback addresses, names and a kube-proxy stand-in.

Used by the agent (:mod:`storeplane.sim.node.agent`):

- each simulator on this machine leases a *block* number B (0-255, a lock file under
  ``/tmp/storeplane-sim-blocks``, recorded in the node folder so a restarted simulator takes
  the same one back), so simulators running side by side never share an address;
- every local pod gets its own address in 127.1.B.0/24 (never 127.0.0.x, which tests and
  the dev server use) and its processes bind there;
- every Service a local process names gets a *node address* in 127.2.B.0/24, kept in
  ``services.json`` in the node folder (stable across restarts, headless Services included),
  with a :class:`Forwarder` listening on each of its ports that connects to a ready endpoint
  (what kube-proxy does with a ClusterIP);
- there is no DNS: :func:`rewrite_hosts` replaces, at container start, Service names
  (``medusa-postgres``, ``.ns``, ``.ns.svc``, ``.ns.svc.cluster.local``), headless pod names
  (``pod.service``) and the pod's own ``localhost``/``127.0.0.1``/``0.0.0.0`` by addresses in
  env values and arguments: the host part of URLs, and words that are a host or ``host:port``.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import random
import re
import socket
from collections.abc import Callable
from pathlib import Path

logger = logging.getLogger(__name__)

POD_PREFIX = "127.1"
SERVICE_PREFIX = "127.2"
LOCAL_NAMES = ("localhost", "127.0.0.1", "0.0.0.0")

Resolver = Callable[[str], str | None]
Picker = Callable[[str, int], "tuple[str, int] | None"]  # (service uid, port) -> endpoint


BLOCKS = Path("/tmp/storeplane-sim-blocks")


class AddressesExhausted(Exception):
    pass


def lease_block(folder: Path) -> tuple[int, int]:
    """This simulator's block number and the open lock file that holds it (keep it open for
    the simulator's life). The block recorded in ``folder`` is taken back when free."""
    if not BLOCKS.is_dir():
        BLOCKS.mkdir(exist_ok=True)
        with contextlib.suppress(OSError):  # shared by every user's simulators, like /tmp
            BLOCKS.chmod(0o1777)
    record = folder / "block"
    try:
        preferred = [int(record.read_text())]
    except (OSError, ValueError):
        preferred = []
    # Random order: a block just freed by a simulator that was killed (and is about to come
    # back for it) is unlikely to be taken by another one meanwhile.
    others = random.sample(range(256), 256)
    for block in [*preferred, *others]:
        fd = os.open(BLOCKS / f"{block}.lock", os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        record.write_text(str(block))
        return block, fd
    raise AddressesExhausted("256 simulators with local runtimes run on this machine already")


class Addresses:
    """Allocates pod and Service addresses in this simulator's block. Pods' addresses live in
    their pod records (the agent reports what it found at start); Services' in
    ``services.json``."""

    def __init__(self, folder: Path) -> None:
        self.block, self._lock = lease_block(folder)
        self._file = folder / "services.json"
        self._pods: set[str] = set()
        try:
            raw = json.loads(self._file.read_text())
        except (OSError, ValueError):
            raw = {}
        prefix = f"{SERVICE_PREFIX}.{self.block}."
        # A different block than last time: the recorded addresses are not ours any more.
        self._services: dict[str, str] = {
            str(k): str(v) for k, v in raw.items() if str(v).startswith(prefix)
        }

    def claim_pod(self, ip: str) -> None:
        self._pods.add(ip)

    def _free(self, prefix: str, used: set[str]) -> str:
        for n in range(2, 255):
            ip = f"{prefix}.{self.block}.{n}"
            if ip not in used:
                return ip
        raise AddressesExhausted(f"no free address left in {prefix}.{self.block}.0/24")

    def pod(self) -> str:
        ip = self._free(POD_PREFIX, self._pods)
        self._pods.add(ip)
        return ip

    def owns(self, ip: str) -> bool:
        return ip.startswith(f"{POD_PREFIX}.{self.block}.")

    def close(self) -> None:
        os.close(self._lock)

    def release_pod(self, ip: str | None) -> None:
        self._pods.discard(ip or "")

    def service(self, uid: str) -> str:
        ip = self._services.get(uid)
        if ip is None:
            ip = self._services[uid] = self._free(SERVICE_PREFIX, set(self._services.values()))
            self._save()
        return ip

    def known_service(self, uid: str) -> str | None:
        return self._services.get(uid)

    def release_service(self, uid: str) -> None:
        if self._services.pop(uid, None) is not None:
            self._save()

    def service_uids(self) -> list[str]:
        return list(self._services)

    def _save(self) -> None:
        tmp = self._file.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._services))
        tmp.replace(self._file)


_URL_HOST = re.compile(r"(?P<scheme>[A-Za-z][\w+.-]*://)(?P<user>[^@/\s]*@)?(?P<host>[^:/\s?#,@]+)")
_WORD = re.compile(r"\S+")
_HOST_PORT = re.compile(r"^(?P<host>[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?P<port>:\d+)?$")


def rewrite_hosts(value: str, resolve: Resolver) -> str:
    """Host names in ``value`` replaced by ``resolve(name)`` (None: left as written), word by
    word: the host of each URL in a word, or a word that is a host or ``host:port``."""

    def url(match: re.Match[str]) -> str:
        host = match.group("host")
        new = resolve(host)
        return match.group(0) if new is None else match.group(0)[: -len(host)] + new

    def word(match: re.Match[str]) -> str:
        text = match.group(0)
        if "://" in text:
            return _URL_HOST.sub(url, text)
        parsed = _HOST_PORT.match(text)
        if parsed is None:
            return text
        new = resolve(parsed.group("host"))
        return text if new is None else new + (parsed.group("port") or "")

    return _WORD.sub(word, value)


class Forwarder:
    """TCP forwarders on Service node addresses, each connection to a ready endpoint
    chosen when it arrives (round robin over ready endpoints is the picker's business).
    Runs on the simulator's event loop."""

    def __init__(self, pick: Picker) -> None:
        self._pick = pick
        self._servers: dict[tuple[str, int], asyncio.AbstractServer] = {}
        self._owner: dict[tuple[str, int], str] = {}
        self._binding: set[tuple[str, int]] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def listening(self) -> list[tuple[str, int]]:
        return list(self._servers)

    def ensure(self, service_uid: str, ip: str, port: int) -> None:
        """Listen on ``ip:port`` now (synchronously: a process started right after may
        connect at once; the backlog holds it until the accept loop runs)."""
        key = (ip, port)
        if key in self._servers or key in self._binding:
            return
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((ip, port))
            sock.listen(128)
        except OSError as exc:
            sock.close()
            logger.warning("cannot forward %s:%s for service %s: %s", ip, port, service_uid, exc)
            return
        sock.setblocking(False)
        self._binding.add(key)
        self._owner[key] = service_uid

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await self._connection(service_uid, port, reader, writer)

        async def serve() -> None:
            try:
                self._servers[key] = await asyncio.start_server(handle, sock=sock)
            finally:
                self._binding.discard(key)

        task = asyncio.get_running_loop().create_task(serve())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drop(self, service_uid: str) -> None:
        for key, owner in list(self._owner.items()):
            if owner == service_uid:
                server = self._servers.pop(key, None)
                del self._owner[key]
                if server is not None:
                    server.close()

    async def close(self) -> None:
        for server in self._servers.values():
            server.close()
        self._servers.clear()
        self._owner.clear()

    async def _connection(
        self, service_uid: str, port: int, reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:  # fmt: skip
        target = self._pick(service_uid, port)
        if target is None:  # no ready endpoint: refuse, as kube-proxy's REJECT rule does
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*target)
        except OSError:
            writer.close()
            return
        await asyncio.gather(
            _pipe(reader, up_writer), _pipe(up_reader, writer), return_exceptions=True
        )
        for end in (writer, up_writer):
            with contextlib.suppress(Exception):
                end.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy one direction; at its end, half-close the other side (as TCP does)."""
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    with contextlib.suppress(Exception):
        if writer.can_write_eof():
            writer.write_eof()
