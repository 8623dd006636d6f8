"""One module per move the lifecycle can make. Each is idempotent and returns the events that
describe what it did; the pass in :mod:`storeplane.reconciler.reconcile` picks which to run."""
