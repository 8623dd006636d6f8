"""storeplane simulator: a small Kubernetes API server for development, demos, tests and
benchmarks.

It speaks enough of the Kubernetes REST API (discovery; create, get, list, update, patch,
server-side apply, delete, deletecollection; the status subresource; Status errors with
the API server's codes and messages) that lightkube and ``kubectl --validate=false`` work
against it, so storeplane's real HTTP code path runs without a cluster. It is a separate
program: it imports nothing from the rest of storeplane.

Start it with :func:`storeplane.sim.runner.start_in_thread` (tests) or
:func:`storeplane.sim.runner.serve_forever` / ``python -m storeplane.sim`` (foreground).

Modules: ``kinds`` (the served kinds, one table), ``store`` (objects + SQLite state file),
``cluster`` (verb semantics), ``apply`` (server-side apply, merge patches, managedFields),
``selectors``, ``validation``, ``errors`` (Status builders), ``codec`` (request bodies),
``discovery``, ``controllers``, ``proxy`` (service proxy stand-in), ``app`` (routes), ``runner``, ``kubeconfig``.

What it does NOT model - test against a real cluster (kind, k3s) for these:

- No Pods, containers, images, nodes or scheduling. Deployments/StatefulSets/ReplicaSets
  simply report all replicas ready ``ready_delay`` seconds after each new generation; Jobs
  simply succeed. No ReplicaSets or Pods are created, nothing crashes or fails to pull.
- No apps behind Services: the ``services/NAME:PORT/proxy`` subresource answers *as a healthy
  app would* on well-known health paths once a matching workload is ready (see
  :mod:`storeplane.sim.proxy`); the real engine's health needs a real cluster.
- No networking: Services get no ClusterIP or endpoints, Ingresses no address,
  NetworkPolicies and ResourceQuotas/LimitRanges are stored but never enforced, PVCs never
  bind.
- No authentication or authorization (any token is accepted, RBAC objects are inert), no
  admission webhooks, no Pod Security admission.
- Validation is basic (names, labels, a few required fields, selector vs template labels),
  not the OpenAPI schemas; unknown fields are kept; ``/openapi/v2|v3`` are not served, so
  ``kubectl apply`` needs ``--validate=false``.
- Server-side apply is an approximation (see :mod:`storeplane.sim.apply`): lists of maps
  with a ``name`` are merged by name, all other lists are atomic; no per-type merge keys
  (e.g. Service ports by port/protocol), no ``$patch`` directives in strategic merge patch;
  JSON patch is refused (415).
- No watch (``?watch=true`` is answered 405), no ``dryRun`` (400), no server-side Table
  output, no protobuf, no ``resourceVersion`` semantics on reads (always the latest).
- Garbage collection: ownerReferences are stored but never cascade; namespace deletion
  removes the namespace's contents without waiting for their finalizers. Finalizers on
  other objects are honoured (deletion waits until an update removes them).
- Only the kinds in :mod:`storeplane.sim.kinds`; no CRDs, no aggregated discovery.
"""
