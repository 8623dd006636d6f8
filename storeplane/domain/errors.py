"""The one error tree of storeplane.

::

    StoreplaneError                    root: everything storeplane raises on purpose
    ├── InvalidRequestError            the caller asked for something invalid (HTTP 422)
    │   └── InvalidTransitionError     valid input, wrong moment (HTTP 409), e.g. patching a deleted store
    │   └── IdempotencyKeyReusedError  an Idempotency-Key sent again with another body (HTTP 422)
    │   └── ChoiceRequiredError        a required choice left out (which pod?), naming the options (HTTP 400)
    ├── StoreNotFoundError             no such store, or not one the caller may see (HTTP 404)
    ├── CheckNotFoundError             no such smoke check for this store (HTTP 404)
    ├── PodNotFoundError               no such pod or container in the store (HTTP 404, names the real ones)
    │   └── ObjectNotFoundError        no such live object in the store (HTTP 404, names the real ones)
    ├── FeatureUnavailableError        this server cannot do that (no cluster for logs, no database) (HTTP 503)
    ├── DatabaseUnavailableError       the database cannot be reached right now (HTTP 503 + Retry-After)
    ├── NameTakenError                 another live store has this name (HTTP 409)
    ├── DomainTakenError               another live store has this custom domain (HTTP 409)
    ├── StoreLimitError                the owner already has as many live stores as allowed (HTTP 403)
    ├── AuthenticationError            no token, or one that is unknown or revoked (HTTP 401)
    ├── RateLimitedError               too many requests; try after ``retry_after`` seconds (HTTP 429)
    ├── UserExistsError / UserNotFoundError / TokenNotFoundError   operator commands, accounts API
    ├── AdminOnlyError                 a member asked for the accounts API (answered as 404)
    ├── RolloutNotFoundError           no such rollout (HTTP 404)
    └── ReconcileError                 a reconcile step could not finish
        ├── RetryableError             try again after ``retry_after`` seconds (5xx, 429, conflicts, timeouts)
        │   └── LeaseLostError         the pass lost its lease before a cluster write
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


class ChoiceRequiredError(InvalidRequestError):
    """The request leaves out a choice it must make (a pod, a container); the message lists
    the valid ones."""


class InvalidTransitionError(InvalidRequestError):
    """The request is well formed but the store's current phase does not allow it."""


class ManagedByObjectError(InvalidTransitionError):
    """A change through the API of a store that a Kubernetes Store object owns (409)."""

    def __init__(self, store_id: str, managed_by: str) -> None:
        self.managed_by = managed_by
        super().__init__(
            f"store {store_id} is managed by the Kubernetes object {managed_by}: change it "
            "there (edit its manifest and kubectl apply it, or commit it to the repository "
            "your GitOps tool applies), not through the API"
        )


class StoreNotFoundError(StoreplaneError):
    def __init__(self, store_id: str) -> None:
        super().__init__(f'store "{store_id}" not found')
        self.store_id = store_id


class CheckNotFoundError(StoreplaneError):
    def __init__(self, store_id: str, check_id: str) -> None:
        super().__init__(
            f'store "{store_id}" has no check "{check_id}"; list them with '
            f"GET /api/v1/stores/{store_id}/checks"
        )
        self.store_id = store_id
        self.check_id = check_id


class BackupNotFoundError(StoreplaneError):
    def __init__(self, store_id: str, backup_id: str) -> None:
        super().__init__(
            f'store "{store_id}" has no backup "{backup_id}"; list them with '
            f"GET /api/v1/stores/{store_id}/backups"
        )
        self.store_id = store_id
        self.backup_id = backup_id


class PodNotFoundError(StoreplaneError):
    """A pod or container of a store that does not exist; the message names the real ones."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ObjectNotFoundError(PodNotFoundError):
    """An object of a store that the cluster does not have (HTTP 404, as for a pod); the
    message names the store's objects of that kind."""


class FeatureUnavailableError(StoreplaneError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class DatabaseUnavailableError(StoreplaneError):
    """The database did not answer: connection refused or lost, or no pooled connection came
    free in time. An outage, not a bug: callers answer 503 / retry later. The db adapter raises
    it in place of the driver's error (``storeplane.db.outage``); ``cause`` is that error in a
    few words."""

    def __init__(self, cause: str) -> None:
        super().__init__(f"the database is unavailable ({cause}); try again shortly")
        self.cause = cause
        self.message = str(self)


class NameTakenError(StoreplaneError):
    def __init__(self, name: str) -> None:
        super().__init__(
            f'a store named "{name}" already exists; choose another name '
            "(names are unique among stores that are not deleted)"
        )
        self.name = name


class DomainTakenError(StoreplaneError):
    """A custom domain is already claimed by another store that is not deleted."""

    def __init__(self, domain: str) -> None:
        super().__init__(
            f'the domain "{domain}" is already used by another store; a domain serves one '
            "store at a time: remove it from that store first, or choose another domain"
        )
        self.domain = domain


class IdempotencyKeyReusedError(InvalidRequestError):
    """The same Idempotency-Key came with a different request."""

    def __init__(self, key: str) -> None:
        super().__init__(
            f"the Idempotency-Key {key!r} was already used for a different request; send a new "
            "key for a new request, or the same body to get the store it created",
            field="Idempotency-Key",
        )


class StoreLimitError(StoreplaneError):
    def __init__(self, limit: int) -> None:
        super().__init__(
            f"you already have {limit} live stores, the most allowed for your account; delete "
            "one first (a store stops counting once it is Deleted), or ask an operator to "
            "raise your limit"
        )
        self.limit = limit


class AuthenticationError(StoreplaneError):
    """The request carries no usable credentials. ``reason`` is ``missing`` or ``invalid``."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason


class RateLimitedError(StoreplaneError):
    def __init__(self, retry_after: float, *, caller: str = "this user") -> None:
        super().__init__(
            f"too many requests from {caller}; try again in {max(1, round(retry_after))} s"
        )
        self.retry_after = retry_after


class UserExistsError(StoreplaneError):
    def __init__(self, name: str) -> None:
        super().__init__(f'a user named "{name}" already exists')
        self.name = name


class UserNotFoundError(StoreplaneError):
    def __init__(self, name: str) -> None:
        super().__init__(f'no user named "{name}"; list users with: storeplane users list')
        self.name = name


class TokenNotFoundError(StoreplaneError):
    def __init__(self, token_id: str) -> None:
        super().__init__(f'no token "{token_id}"; list tokens with: storeplane tokens list')
        self.token_id = token_id


class AdminOnlyError(StoreplaneError):
    """A member asked for an admin-only resource (accounts). The API answers exactly as for a
    path that does not exist (404), so a member learns nothing about other accounts."""

    def __init__(self) -> None:
        super().__init__("this resource is for admins only")


class RolloutNotFoundError(StoreplaneError):
    def __init__(self, rollout_id: str) -> None:
        super().__init__(
            f'rollout "{rollout_id}" not found; list rollouts with GET /api/v1/rollouts '
            "(storeplane rollouts list)"
        )
        self.rollout_id = rollout_id


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


class LeaseLostError(RetryableError):
    """This process no longer holds the store's lease (it ran out and another replica may have
    taken the store): the pass stops before writing anything more to the cluster."""

    def __init__(self, store_id: str) -> None:
        super().__init__(
            f"the lease on {store_id} was lost before a cluster write; another replica may hold "
            "it now, so this pass stops without writing",
            reason="LeaseLost",
        )


class TerminalError(ReconcileError):
    """Retrying the same step will not help until the input or the environment changes."""
