"""Persistence: SQLAlchemy tables, the SQL store repository and Alembic migrations.

Entry points call :func:`migrate` once at start, then build a :class:`SqlStoreRepository` on
:func:`create_engine_for`.
"""

from storeplane.db.backups import SqlBackupRepository
from storeplane.db.checks import SqlCheckRepository
from storeplane.db.engine import create_engine_for, migrate
from storeplane.db.repository import SqlStoreRepository
from storeplane.db.rollouts import SqlRolloutRepository
from storeplane.db.users import SqlUserRepository

__all__ = [
    "SqlBackupRepository",
    "SqlCheckRepository",
    "SqlRolloutRepository",
    "SqlStoreRepository",
    "SqlUserRepository",
    "create_engine_for",
    "migrate",
]
