"""The one error tree of storeplane.

::

    StoreplaneError                    root: everything storeplane raises on purpose
    ├── InvalidRequestError            the caller asked for something invalid (HTTP 422)
    │   └── InvalidTransitionError     valid input, wrong moment (HTTP 409), e.g. patching a deleted store
    ├── StoreNotFoundError             no such store (HTTP 404)
    ├── NameTakenError                 another live store has this name (HTTP 409)
    └── ReconcileError                 a reconcile step could not finish
        ├── RetryableError             try again after ``retry_after`` seconds (5xx, 429, conflicts, timeouts)
        └── TerminalError              retrying will not help until something changes (invalid object,
                                       missing helm, deadline passed)

Adapters translate library errors into this tree at their boundary; nothing above an adapter
sees a client library's exception. Every message says what went wrong and how to fix it.
"""

from __future__ import annotations


class StoreplaneError(Exception):
    """Root of every error storeplane raises on purpose."""


class InvalidRequestError(StoreplaneError):
    """The request is invalid; ``field`` names the offending input when there is one."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidTransitionError(InvalidRequestError):
    """The request is well formed but the store's current phase does not allow it."""


class StoreNotFoundError(StoreplaneError):
    def __init__(self, store_id: str) -> None:
        super().__init__(f'store "{store_id}" not found')
        self.store_id = store_id


class NameTakenError(StoreplaneError):
    def __init__(self, name: str) -> None:
        super().__init__(
            f'a store named "{name}" already exists; choose another name '
            "(names are unique among stores that are not deleted)"
        )
        self.name = name


class ReconcileError(StoreplaneError):
    """A reconcile step failed; ``reason`` is a CamelCase word for conditions and events."""

    def __init__(self, message: str, *, reason: str = "ReconcileError") -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason


class RetryableError(ReconcileError):
    """Transient: the same step may succeed later. ``retry_after`` is a hint in seconds."""

    def __init__(
        self, message: str, *, reason: str = "ClusterUnavailable", retry_after: float | None = None
    ) -> None:
        super().__init__(message, reason=reason)
        self.retry_after = retry_after


class TerminalError(ReconcileError):
    """Retrying the same step will not help until the input or the environment changes."""
