"""The reconciler: level-triggered convergence of each store towards its spec.

``loop`` claims due stores through database leases and runs ``reconcile_store`` (in
``reconcile``) on each: observe the cluster, decide with the pure
:func:`storeplane.domain.state.determine_state`, run the one action the state maps to (one
module per move in ``actions/``), and repeat within the pass while progress is immediate.
The reconciler is the only writer to the cluster.
"""
