"""The pure core of storeplane: what a store is, how its lifecycle moves, and the ports.

Nothing here does I/O or imports a framework (an import-linter contract enforces it). The
API, the database layer and the reconciler all speak in these types.
"""
