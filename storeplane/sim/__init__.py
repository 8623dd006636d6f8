"""storeplane simulator: a small Kubernetes API server for development, demos, tests and
benchmarks.

It speaks enough of the Kubernetes REST API that lightkube, the Python ``kubernetes`` client,
helm 4 and plain ``kubectl`` (``create``, ``get``, ``describe``, ``apply`` with its default
validation, ``apply --server-side``, ``edit``, ``diff``, ``scale``, ``delete``, ``get -w``,
``explain``) work against it, so storeplane's real HTTP code path runs without a
cluster: discovery and ``/openapi/v3``; create, get, list, update, patch (server-side
apply, merge, strategic merge with the schemas' merge keys and ``$patch``/``$retainKeys``/
``$setElementOrder``/``$deleteFromPrimitiveList`` directives, JSON patch), delete with
``propagationPolicy``, deletecollection, ``dryRun=All`` on every write, the ``status``,
``scale`` and namespace ``finalize`` subresources; Table output with the API server's
columns (``kubectl get``, ``get all``, ``get -w``); watch with
resumption, ``410 Expired`` and bookmarks; ``Status`` errors with the API server's codes
and messages; validation against the Kubernetes OpenAPI schemas; CustomResourceDefinitions (their
kinds in discovery - aggregated too - and ``/openapi/v3``, structural schemas with pruning
and defaults, the status subresource, printer columns, the CRD's conditions); JSON, YAML
and Kubernetes protobuf request bodies (what kubectl 1.35+ ``create`` and helm 4 send). It is a separate
program: it imports nothing from the rest of storeplane. ``docs/simulator.md`` is the
user's guide.

Start it with :func:`storeplane.sim.runner.start_in_thread` (tests) or
:func:`storeplane.sim.runner.serve_forever` / ``storeplane sim`` / ``python -m
storeplane.sim`` (foreground).

Layout, split the way Kubernetes itself is split:

- ``api/``: the HTTP side - ``app`` (routes), ``codec`` (request bodies), ``protobuf`` +
  ``protobuf_fields`` (protobuf bodies and their generated field tables), ``scale`` (the
  scale subresource), ``tables`` (Table output), ``discovery``,
  ``openapi``, ``watch`` (change ring and per-watch queues), ``proxy`` (service proxy),
  ``auth`` (tokens and the authorization gate, with ``rbac``), ``requestinfo`` (request ->
  verb and resource), ``reviews`` (TokenRequest, access reviews, SelfSubjectReview).
- ``store/``: ``objects`` (objects, uid and owner indexes, SQLite state file), ``cluster``
  (verb semantics, garbage collection, namespace lifecycle), ``customresources`` (what a
  stored CRD serves), ``apply`` (server-side apply,
  merge and JSON patches, managedFields), ``strategic`` (strategic merge patch), ``selectors``,
  ``conversion`` (kinds served as another version of stored objects: events.k8s.io Events).
- ``admission/``: ``validation`` + ``schemas`` + ``names`` (OpenAPI schema and API-server
  rules), ``structural`` (custom resources' schemas: pruning, defaults, checks), ``crds``
  (a CRD's own rules), ``podspec``, ``service_spec`` and ``immutable`` (field and update rules);
  ``chain`` + ``plugins`` (the admission chain) with one module per plugin:
  ``namespace_lifecycle``, ``limit_ranger``, ``service_account``, ``pod_security`` (+
  ``pod_security_checks``), ``resource_quota`` (+ ``quota``, ``quantity``); ``rbac`` (the RBAC
  authorizer) + ``rbac_policy`` (the default ClusterRoles and bindings).
- ``controllers/``: ``manager`` (the controller loop, Jobs, namespace finalizer),
  ``jobs`` and ``endpoints`` (with local runtimes on), ``crds`` (CRD conditions and
  deletion), ``events`` (the event recorder),
  ``serviceaccounts`` (a ``default`` ServiceAccount per namespace) and
  ``workloads`` (Deployments, ReplicaSets, StatefulSets, PVCs, load balancers, quota status).
- ``node/``: ``kubelet`` (the virtual node's stand-in kubelet); with local runtimes on also
  ``agent`` (the local node's kubelet), ``runtime`` (the CRI-shaped port), ``process`` and
  ``simulated`` (its two runtimes), ``images`` (the runtime table), ``envvars``, ``volumes``,
  ``network``, ``probes``, ``scheduler``, ``setup``.
- beside them: ``kinds`` (the built-in kinds, one table, and each cluster's
  ``KindRegistry`` adding its CRDs'), ``errors`` (Status builders),
  ``faults`` (failure injection, ``/sim/v1/faults``), ``config``, ``runner``, ``kubeconfig``,
  ``tls`` (the serving certificate used with ``rbac``).

What it does NOT model - test against a real cluster (kind, k3s; ``tests/e2e``) for these:

- By default no containers run: no images are pulled, nothing crashes, no probes. A
  stand-in kubelet marks pods Running and Ready after the ``Pod`` ready delay (or never,
  for an image tagged ``fail``); there is one pretend node and no scheduling. Jobs create no
  pods; they simply complete after their delay.
- With local runtimes on (``SimulatorConfig.local_runtimes``; :mod:`storeplane.sim.node`),
  only images in the runtime table run, as plain processes: no isolation (namespaces,
  cgroups, seccomp), ``securityContext`` not applied (but PostgreSQL's switch to the
  ``postgres`` user as root), resource limits not enforced (requests are used for fitting
  on the local node only), no ``exec``/``port-forward``/``attach``, no sidecar containers,
  no lifecycle hooks, no graceful deletion in the API (the pod object goes at once, its
  processes get their grace period after), no DNS (names are rewritten in env and
  arguments at container start), only TCP forwarded for Services, no affinity, taints or
  preemption; log lines carry no timestamps and log files are not rotated.
- Controllers are simplified: a Deployment replaces its old ReplicaSet at once (no
  surge/unavailable arithmetic, no ``progressDeadlineSeconds``), a StatefulSet creates and
  replaces its pods in parallel; HorizontalPodAutoscalers are stored but nothing scales on
  them; no DaemonSets, CronJobs, PodDisruptionBudgets.
- No apps behind Services: the ``services/NAME:PORT/proxy`` subresource answers *as a
  healthy app would* on well-known health paths once a matching workload is ready (see
  :mod:`storeplane.sim.api.proxy`) and says so with ``X-Storeplane-Sim-Runtime: simulated``
  and the images it stands in for; the real engine's health needs a real cluster.
- By default no networking: Services get a ClusterIP but no endpoints, Ingresses and
  LoadBalancer Services get ``127.0.0.1`` as their address and nothing listens there
  (with local runtimes on, Endpoints/EndpointSlices follow ready pods and Services forward
  to them); NetworkPolicies are stored, never enforced. PVCs are Bound without PersistentVolumes or storage classes (a PersistentVolume is stored,
  never bound by a controller; only a hostPath/local one named by a claim's volumeName is used,
  by the local node, and such a claim stays Pending until that volume exists); access modes
  and ``readOnly`` mounts are not enforced.
- ResourceQuota admission covers pods, PVCs and object counts, not scopes or
  storage-class quotas; LimitRange only fills in container defaults (no min/max/ratio
  checks). PodSecurity (:mod:`storeplane.sim.admission.pod_security`) does not check
  AppArmor, SELinux, procMount, sysctls, Windows host process or host probes, has no
  exemptions and no audit log. The ServiceAccount plugin mounts no token volume; no
  ``kube-root-ca.crt`` ConfigMap is published.
- Authentication and RBAC only with ``rbac`` (``--rbac``; then HTTPS, the admin token and
  TokenRequest ServiceAccount tokens, Kubernetes RBAC, see :mod:`storeplane.sim.api.auth`;
  impersonation as the API server checks it); even then no RBAC escalation checks
  (``bind``/``escalate``), anonymous requests, client certificates, OIDC/webhook authn or
  authz, Node authorizer, default ``admin``/``edit``/``view`` roles, legacy token Secrets,
  (Local)SubjectAccessReview or TokenReview. Without ``rbac`` any token (or none) may do
  anything. No admission webhooks, few server-side defaults (no port protocols, rollout
  strategies or probe defaults are filled in).
- Server-side apply is an approximation (see :mod:`storeplane.sim.store.apply`): lists of maps
  with a ``name`` are merged by name, all other lists are atomic; no per-type merge keys
  (e.g. Service ports by port/protocol). Strategic merge patch does use them
  (:mod:`storeplane.sim.store.strategic`).
- Validation uses the published OpenAPI schemas plus names, labels, selector/template
  agreement, a few enums, the pod spec and Service rules in
  :mod:`storeplane.sim.admission.podspec` / ``service_spec`` and the immutable fields in
  :mod:`storeplane.sim.admission.immutable`; not every cross-field rule of the API server.
  The objects the built-in controllers make (ReplicaSets, Pods, Events) skip the schema part
  (they are made from templates that passed it); admission and the other rules still apply.
- Protobuf only for request bodies (answers are always JSON; a client accepting only
  protobuf gets 406), no ``/openapi/v2``, no ``resourceVersion`` semantics on reads (always
  the latest; but every page of a ``limit``/``continue`` list is from its first page's
  snapshot, :mod:`storeplane.sim.store.paging`); watch history is a bounded ring per
  resource and starts empty after a restart (older versions get 410), and so do the kept
  list snapshots (a continue token from before is served only if nothing was written since,
  else 410 Expired).
- Events are written by the controllers as theirs are (see
  :mod:`storeplane.sim.controllers.events`), without the recorder's folding of *similar*
  events, its rate limit or the one-hour TTL; ``events.k8s.io/v1`` serves the same Events
  converted (:mod:`storeplane.sim.store.conversion`), but not through server-side apply.
- Garbage collection runs synchronously within the deleting request; only the kinds in
  :mod:`storeplane.sim.kinds` and those of stored CustomResourceDefinitions.
- Custom resources (:mod:`storeplane.sim.store.customresources`,
  :mod:`storeplane.sim.admission.structural`, :mod:`storeplane.sim.controllers.crds`): no
  conversion between a CRD's versions, no CEL ``x-kubernetes-validations``, no
  ``allOf``/``anyOf``/``oneOf``/``not``, no ``x-kubernetes-list-type`` checks, no ``scale``
  subresource, no protobuf bodies; server-side apply merges their lists by ``name`` only.
"""
