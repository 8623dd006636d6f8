"""Tell a database outage from a bug, at the adapter's edge.

:func:`install` hooks an engine so that a driver error meaning "the database cannot be reached"
(connection refused or lost, a server shutting down) leaves the adapter as the domain's
:class:`~storeplane.domain.errors.DatabaseUnavailableError` instead of SQLAlchemy's error; the
API answers it 503 and the reconciler waits it out quietly. :func:`as_outage` does the same
for the errors that never pass through that hook (the pool's checkout timeout). Everything
else (a constraint, a syntax error, a type) stays what it is: a bug, answered 500 and logged
with its traceback.
"""

from __future__ import annotations

from sqlalchemy import Engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import ExceptionContext

from storeplane.domain.errors import DatabaseUnavailableError
from storeplane.observability.outages import DATABASE


def _cause(exc: BaseException) -> str:
    """The driver's first line, which names the cause (``connection refused``, ``terminating
    connection due to administrator command``...), without SQLAlchemy's statement dump."""
    original = getattr(exc, "orig", None) or exc
    text = str(original).strip().splitlines()
    first = text[0] if text else type(original).__name__
    return first[:200]


def as_outage(exc: BaseException) -> DatabaseUnavailableError | None:
    """The outage ``exc`` stands for (looking through its causes), or None for anything else."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return None
        if isinstance(seen, DatabaseUnavailableError):
            return seen
        if isinstance(seen, sa_exc.TimeoutError):  # QueuePool: no connection came free in time
            return DatabaseUnavailableError("no database connection came free in time")
        if isinstance(seen, sa_exc.DBAPIError) and (
            seen.connection_invalidated
            or isinstance(seen, sa_exc.OperationalError | sa_exc.InterfaceError)
        ):
            return DatabaseUnavailableError(_cause(seen))
        seen = seen.__cause__ or seen.__context__
    return None


def install(engine: Engine) -> None:
    """Raise DatabaseUnavailableError in place of the driver's outage errors on ``engine``
    (statements and connects alike; the original stays chained as ``__cause__``)."""

    @event.listens_for(engine, "handle_error")
    def _translate(context: ExceptionContext) -> None:
        error = context.sqlalchemy_exception or context.original_exception
        outage = as_outage(error) if error is not None else None
        if outage is not None or context.is_disconnect:
            raise (outage or DatabaseUnavailableError(_cause(error))) from error


def note_outage(exc: BaseException) -> bool:
    """True if ``exc`` is a database outage, which is then reported to ``DATABASE`` (it logs
    once per change of state). Background loops call it before logging a traceback: an outage
    gets no traceback, a bug keeps its own."""
    outage = as_outage(exc)
    if outage is None:
        return False
    DATABASE.failed(outage.cause)
    return True
