"""The HTTP API (FastAPI): thin routers over :mod:`storeplane.services`.

Build the app with :func:`storeplane.api.app.create_app`. The API writes intent to the
database and never talks to the cluster (an import-linter contract checks that).
"""
