// An in-memory stand-in for storeplane's REST API, as a `fetch` implementation that
// returns canned Responses. Unit tests only: it models the contract's shapes, status codes
// and problem+json errors, not the reconciler (phases change only when a test says so).
// The real API is exercised by e2e/run.mjs against `storeplane dev`.
import type { Phase, Plan, SmokeCheck, Store, StoreEvent } from "../api/types";

export const PLANS: Plan[] = (["small", "medium", "large"] as const).map((name, i) => ({
  name,
  description: `${name} shop`,
  quota: {
    requests_cpu: String(i + 1),
    requests_memory: `${2 ** (i + 1)}Gi`,
    limits_cpu: String(2 * (i + 1)),
    limits_memory: `${2 ** (i + 2)}Gi`,
    pods: 10 * (i + 1),
    persistentvolumeclaims: 4,
    requests_storage: `${10 * (i + 1)}Gi`,
  },
  default_limits: { cpu: "500m", memory: "512Mi" },
  default_requests: { cpu: "100m", memory: "128Mi" },
})) as Plan[];

export function makeStore(overrides: Partial<Store> = {}): Store {
  const id = overrides.id ?? `store-${Math.random().toString(16).slice(2, 10)}`;
  const now = new Date().toISOString();
  return {
    id,
    name: "shop",
    engine: "medusa",
    plan: "small",
    namespace: id,
    phase: "Ready",
    conditions: [],
    url: `http://${overrides.name ?? "shop"}.stores.localhost`,
    generation: 1,
    observed_generation: 1,
    created_at: now,
    updated_at: now,
    deleted_at: null,
    last_error: null,
    workload_runtime: "local",
    ...overrides,
  } as Store;
}

function json(status: number, body: unknown, type = "application/json") {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": type } });
}

function problem(status: number, title: string, detail: string, errors?: unknown[]) {
  return json(status, { type: "about:blank", title, status, detail, ...(errors ? { errors } : {}) }, "application/problem+json");
}

/** The token the fake API accepts; `setup()` signs in with it unless told not to. */
export const TEST_TOKEN = "sp_test-token";

/** The tree the fake answers for every store: namespace, quota, a Secret, a Deployment and its pod. */
export function objectsOf(store: Store) {
  const base = { api_version: "v1", parent: null, drift_corrected_at: null, drift_message: null, containers: [] as string[] };
  return [
    { ...base, kind: "Namespace", name: store.namespace, health: "Healthy", status: "Active" },
    { ...base, kind: "ResourceQuota", name: "store-quota", health: "Healthy", status: "pods 3/10" },
    { ...base, kind: "NetworkPolicy", name: "default-deny", health: "Healthy", status: "Ingress/Egress, 0 allow rules", drift_corrected_at: new Date().toISOString(), drift_message: "restored NetworkPolicy default-deny" },
    { ...base, kind: "Secret", name: "store-credentials", health: "Healthy", status: "Opaque, 3 keys" },
    { ...base, api_version: "apps/v1", kind: "Deployment", name: "medusa-server", health: "Progressing", status: "0/1 ready" },
    { ...base, kind: "Pod", name: "medusa-server-abc", health: "Degraded", status: "Running, 0/1 ready, 3 restarts", parent: "Deployment/medusa-server", containers: ["migrate", "server"] },
    { ...base, api_version: "networking.k8s.io/v1", kind: "Ingress", name: "medusa", health: "Missing", status: "rendered but not in the cluster" },
  ];
}

export interface FakeUser {
  id: string;
  name: string;
  role: string;
  max_live_stores: number | null;
  store_limit: number | null;
  live_stores: number;
  active_tokens: number;
  created_at: string;
}

export interface FakeApi {
  /** Whether the token is an admin's (members get the accounts API's 404). */
  admin: boolean;
  users: FakeUser[];
  tokens: { id: string; user_id: string; label: string; created_at: string; revoked_at: string | null; active: boolean }[];
  stores: Map<string, Store>;
  events: Map<string, StoreEvent[]>;
  /** Each store's order checks, newest first; a test finishes one with finishCheck. */
  checks: Map<string, SmokeCheck[]>;
  finishCheck: (storeId: string, outcome: Partial<SmokeCheck>) => void;
  requests: { method: string; url: URL; body: unknown; authorization: string | null }[];
  /** The token it accepts; set to another value to "revoke" the current one. */
  token: string;
  /** Make the next request to a path (method + pathname) answer with this Response. */
  failNext: (method: string, pathname: string, response: () => Response) => void;
  /** Delay every answer until release() (to observe pending states). */
  hold: () => { release: () => void };
  fetch: (input: Request) => Promise<Response>;
  setPhase: (id: string, phase: Phase) => void;
}

export function createFakeApi(initial: Store[] = [], token = TEST_TOKEN): FakeApi {
  const stores = new Map(initial.map((s) => [s.id, s]));
  const events = new Map<string, StoreEvent[]>();
  const checks = new Map<string, SmokeCheck[]>();
  let nextCheck = 1;
  const requests: FakeApi["requests"] = [];
  const failures = new Map<string, () => Response>();
  let gate: Promise<void> | null = null;
  let nextEvent = 1;

  function record(id: string, reason: string, message: string, type: "Normal" | "Warning" = "Normal") {
    const s = stores.get(id)!;
    const list = events.get(id) ?? [];
    list.push({ id: nextEvent++, time: new Date().toISOString(), type, reason, message, actor: "system", generation: s.generation });
    events.set(id, list);
  }

  /** The console's endpoints: fleet, a store's objects and YAML, logs, accounts. */
  function consoleRoutes(method: string, url: URL, body: unknown): Response | null {
    const path = url.pathname;
    if (path === "/api/v1/fleet") {
      const live = [...stores.values()].filter((s) => s.phase !== "Deleted");
      const count = (key: (s: Store) => string, list = live) =>
        list.reduce<Record<string, number>>((acc, s) => ({ ...acc, [key(s)]: (acc[key(s)] ?? 0) + 1 }), {});
      return json(200, {
        total: live.length,
        by_phase: count((s) => s.phase, [...stores.values()]),
        by_engine: count((s) => s.engine),
        by_plan: count((s) => s.plan),
        by_engine_version: {},
        durations: { sample: 2, p50: 12, p90: 40, p99: 40, max: 40, buckets: [5, 10, 20, 30, 60, null].map((u, i) => ({ upper_seconds: u, count: i === 2 || i === 4 ? 1 : 0 })) },
        failing: live
          .filter((s) => s.phase === "Failed")
          .map((s) => ({ id: s.id, name: s.name, reason: "DeadlineExceeded", message: s.last_error ?? "", since: s.updated_at })),
        recent_events: [...events.entries()].flatMap(([id, list]) => list.map((e) => ({ ...e, store_id: id, store_name: stores.get(id)?.name ?? id }))).reverse(),
      });
    }
    if (/^\/api\/v1\/stores\/[^/]+\/backups$/.test(path) && method === "GET") return json(200, { items: [], count: 0 });
    const o = /^\/api\/v1\/stores\/([^/]+)\/(objects|logs)(?:\/([^/]+)\/([^/]+))?$/.exec(path);
    if (o) {
      const store = stores.get(o[1]!);
      if (!store) return problem(404, "Not Found", `no store with id "${o[1]}"`);
      const tree = objectsOf(store);
      if (o[2] === "logs") {
        const pod = url.searchParams.get("pod");
        if (!tree.some((t) => t.kind === "Pod" && t.name === pod)) return problem(404, "Not Found", `store ${store.id} has no pod '${pod}'`);
        const container = url.searchParams.get("container") ?? "server";
        return json(200, { store_id: store.id, pod, container, tail: Number(url.searchParams.get("tail")), text: `hello from ${pod}/${container}\n` });
      }
      if (!o[3]) return json(200, { store_id: store.id, items: tree, count: tree.length });
      const found = tree.find((t) => t.kind === decodeURIComponent(o[3]!) && t.name === decodeURIComponent(o[4]!));
      if (!found) return problem(404, "Not Found", `store ${store.id} has no live ${o[3]} '${o[4]}'`);
      const yaml = found.kind === "Secret" ? `kind: Secret\nmetadata:\n  name: ${found.name}\ndata:\n  password: (hidden)\n` : `kind: ${found.kind}\nmetadata:\n  name: ${found.name}\n`;
      return json(200, { ...found, yaml });
    }
    if (path === "/api/v1/users" || path.startsWith("/api/v1/users/") || path.startsWith("/api/v1/tokens")) {
      if (!fake.admin) return problem(404, "Not Found", `no such resource: ${method} ${path}; the API lives under /api/v1 (see /docs)`);
      const t = /^\/api\/v1\/tokens\/([^/]+)$/.exec(path);
      if (path === "/api/v1/users" && method === "GET") return json(200, { items: fake.users, count: fake.users.length });
      if (path === "/api/v1/users" && method === "POST") {
        const b = body as { name: string; max_live_stores: number | null };
        if (fake.users.some((u) => u.name === b.name)) return problem(409, "Conflict", `a user named "${b.name}" already exists`);
        const u = { id: `user-${b.name.padEnd(10, "0").slice(0, 10)}`, name: b.name, role: "member", max_live_stores: b.max_live_stores, store_limit: b.max_live_stores ?? 5, live_stores: 0, active_tokens: 0, created_at: new Date().toISOString() };
        fake.users.push(u);
        return json(201, u);
      }
      if (path === "/api/v1/tokens" && method === "GET") {
        const uid = url.searchParams.get("user_id");
        const items = fake.tokens.filter((x) => !uid || x.user_id === uid);
        return json(200, { items, count: items.length });
      }
      if (path === "/api/v1/tokens" && method === "POST") {
        const b = body as { user_id: string; label: string };
        const user = fake.users.find((u) => u.id === b.user_id)!;
        const record = { id: `tok-${String(fake.tokens.length + 1).padStart(10, "0")}`, user_id: b.user_id, label: b.label, created_at: new Date().toISOString(), revoked_at: null, active: true };
        fake.tokens.push(record);
        user.active_tokens += 1;
        return json(201, { ...record, value: `sp_issued-${record.id}`, user_name: user.name });
      }
      if (t && method === "DELETE") {
        const record = fake.tokens.find((x) => x.id === t[1]);
        if (!record) return problem(404, "Not Found", `no token "${t[1]}"`);
        Object.assign(record, { revoked_at: new Date().toISOString(), active: false });
        return json(200, record);
      }
    }
    return null;
  }

  async function handle(method: string, url: URL, body: unknown): Promise<Response> {
    const path = url.pathname;
    if (path === "/api/v1/plans") return json(200, { items: PLANS });
    if (path === "/api/v1/engines")
      return json(200, { items: [{ name: "medusa", display_name: "MedusaJS" }, { name: "woocommerce", display_name: "WooCommerce" }] });
    if (path === "/api/v1/stores" && method === "GET") {
      const phase = url.searchParams.get("phase");
      const q = url.searchParams.get("q");
      // As the API: without a phase, Deleted stores only with include_deleted=true.
      const withDeleted = url.searchParams.get("include_deleted") === "true";
      const all = [...stores.values()].filter(
        (s) => (phase ? s.phase === phase : withDeleted || s.phase !== "Deleted") && (!q || s.name.includes(q)),
      );
      // Cursor = offset, as a string: enough to exercise the dashboard's pager.
      const limit = Number(url.searchParams.get("limit") ?? 50);
      const offset = Number(url.searchParams.get("cursor") ?? 0);
      const items = all.slice(offset, offset + limit);
      const next = offset + limit < all.length ? String(offset + limit) : null;
      return json(200, { items, count: all.length, next_cursor: next });
    }
    if (path === "/api/v1/stores" && method === "POST") {
      const b = body as { name: string; engine: string; plan: string };
      if ([...stores.values()].some((s) => s.name === b.name && s.phase !== "Deleted"))
      {
        const detail = `a store named "${b.name}" already exists; choose another name`;
        return problem(409, "Conflict", detail, [{ field: "name", message: detail }]);
      }
      const s = makeStore({ name: b.name, engine: b.engine as Store["engine"], plan: b.plan as Store["plan"], phase: "Pending", url: null });
      stores.set(s.id, s);
      record(s.id, "Created", `store ${b.name} created`);
      return json(202, s);
    }
    const console_ = consoleRoutes(method, url, body);
    if (console_) return console_;
    const c = /^\/api\/v1\/stores\/([^/]+)\/checks(?:\/([^/]+))?$/.exec(path);
    if (c) {
      const store = stores.get(c[1]!);
      if (!store) return problem(404, "Not Found", `store "${c[1]}" not found`);
      const list = checks.get(store.id) ?? [];
      if (c[2]) {
        const found = list.find((x) => x.id === c[2]);
        return found ? json(200, found) : problem(404, "Not Found", `store "${store.id}" has no check "${c[2]}"`);
      }
      if (method === "GET") return json(200, { items: list, count: list.length });
      // As the API: nothing real to check is a 409 saying why; one running check at a time.
      if (store.workload_runtime === "simulated")
        return problem(409, "Conflict", `store ${store.id}'s workloads are simulated: there is no real store to check`);
      if (store.phase !== "Ready")
        return problem(409, "Conflict", `store ${store.id} is ${store.phase}, not Ready: there is no working store to check yet`);
      if (list[0]?.status === "Running") return json(202, list[0]);
      const check: SmokeCheck = {
        id: `check-${String(nextCheck++).padStart(10, "0")}`,
        store_id: store.id,
        status: "Running",
        step: "queued",
        message: "waiting for a check runner to pick it up",
        order_id: null,
        requested_by: "admin",
        started_at: new Date().toISOString(),
        finished_at: null,
      };
      checks.set(store.id, [check, ...list]);
      return json(202, check);
    }
    const m = /^\/api\/v1\/stores\/([^/]+)(\/events|\/retry)?$/.exec(path);
    const s = m ? stores.get(m[1]!) : undefined;
    if (!m || !s) return problem(404, "Not Found", `no store with id "${m?.[1] ?? path}"`);
    if (m[2] === "/events") {
      const items = events.get(s.id) ?? [];
      return json(200, { items, count: items.length });
    }
    if (m[2] === "/retry") {
      const next = { ...s, phase: "Provisioning" as Phase, last_error: null };
      stores.set(s.id, next);
      return json(202, next);
    }
    if (method === "GET") return json(200, s);
    if (method === "PATCH") {
      const next = { ...s, plan: (body as { plan: Store["plan"] }).plan, generation: s.generation + 1, phase: "Updating" as Phase };
      stores.set(s.id, next);
      return json(200, next);
    }
    if (method === "DELETE") {
      const next = { ...s, phase: "Deleting" as Phase };
      stores.set(s.id, next);
      return json(202, next);
    }
    return problem(405, "Method Not Allowed", `${method} ${path} is not allowed`);
  }

  const fake: FakeApi = {
    admin: true,
    users: [{ id: "user-admin00000", name: "admin", role: "admin", max_live_stores: null, store_limit: null, live_stores: 0, active_tokens: 1, created_at: new Date().toISOString() }],
    tokens: [],
    token,
    stores,
    events,
    checks,
    finishCheck(storeId, outcome) {
      const [first, ...rest] = checks.get(storeId) ?? [];
      if (!first) throw new Error(`no check of ${storeId} to finish`);
      checks.set(storeId, [{ ...first, finished_at: new Date().toISOString(), ...outcome }, ...rest]);
    },
    requests,
    failNext: (method, pathname, response) => failures.set(`${method} ${pathname}`, response),
    hold() {
      let release!: () => void;
      gate = new Promise((r) => (release = r));
      return { release: () => { gate = null; release(); } };
    },
    setPhase(id, phase) {
      stores.set(id, { ...stores.get(id)!, phase });
    },
    async fetch(input: Request) {
      const url = new URL(input.url);
      const text = input.method === "GET" || input.method === "DELETE" ? "" : await input.text();
      const body = text ? JSON.parse(text) : undefined;
      const authorization = input.headers.get("Authorization");
      requests.push({ method: input.method, url, body, authorization });
      if (gate) await gate;
      if (url.pathname.startsWith("/api/") && authorization !== `Bearer ${fake.token}`) {
        const response = problem(401, "Unauthorized", "the API token is unknown or revoked");
        response.headers.set("WWW-Authenticate", 'Bearer error="invalid_token"');
        return response;
      }
      const key = `${input.method} ${url.pathname}`;
      const fail = failures.get(key);
      if (fail) {
        failures.delete(key);
        return fail();
      }
      return handle(input.method, url, body);
    },
  };
  return fake;
}
