"""Observability: Prometheus metrics and structured logs.

Imported by the reconciler (to count and time passes), the API (request latency, the
``/metrics`` endpoint) and the CLI (log setup). It imports nothing from those layers.
"""
