"""Wake-ups across processes: API processes tell the reconciler's process which store changed.

``storeplane serve --api-processes N`` (runtime.py) runs the reconciler once, in the parent,
and the API in N processes. In one process an API write calls ``on_change(store_id)``, which
wakes the reconcile loop, the check runner, the rollout driver and the backup runner at once;
across processes the same call goes through one pipe whose write end every API child
inherits. Each wake-up is one line (the store id and a newline), written in one ``write()``
far below ``PIPE_BUF``, so lines from several children never interleave.

A wake-up only makes the parent look *now* instead of at its next tick (every runner also
polls the database), so a child never blocks on a full pipe: the line is dropped and counted.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import Callable

log = logging.getLogger(__name__)
# Store ids are short lowercase tokens (domain.store.new_store_id); anything else on the pipe
# is a bug in a writer, ignored rather than handed to the runners.
_STORE_ID = re.compile(r"[a-z0-9-]{1,64}")


class WakePipe:
    """One pipe: ``send`` in the API children, ``listen`` in the parent."""

    def __init__(self) -> None:
        self._read, self._write = os.pipe()
        os.set_blocking(self._write, False)
        self.dropped = 0  # wake-ups lost to a full pipe (the parent's next tick covers them)

    def send(self, store_id: str) -> None:
        """Tell the parent that ``store_id`` changed (called by an API child's ``on_change``)."""
        try:
            os.write(self._write, f"{store_id}\n".encode())
        except BlockingIOError:
            self.dropped += 1

    def for_child(self) -> WakePipe:
        """In a forked API child: close the read end (only the parent reads)."""
        os.close(self._read)
        self._read = -1
        return self

    def listen(self, on_change: Callable[[str], None]) -> Callable[[], None]:
        """In the parent, on its running event loop: call ``on_change(store_id)`` for every
        wake-up a child sends. Returns the function that stops listening."""
        loop = asyncio.get_running_loop()
        os.set_blocking(self._read, False)
        pending = b""

        def readable() -> None:
            nonlocal pending
            try:
                chunk = os.read(self._read, 65536)
            except BlockingIOError:
                return
            if not chunk:  # every writer closed: the children are gone
                loop.remove_reader(self._read)
                return
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                store_id = line.decode(errors="replace")
                if _STORE_ID.fullmatch(store_id):
                    log.debug("woken by an API process", extra={"store_id": store_id})
                    on_change(store_id)

        def stop() -> None:
            loop.remove_reader(self._read)

        loop.add_reader(self._read, readable)
        return stop

    def close_write(self) -> None:
        """In the parent after forking: only the children write."""
        os.close(self._write)
        self._write = -1
