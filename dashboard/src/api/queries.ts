// The query layer: one TanStack `queryOptions` factory per resource, the query keys they
// share, and one mutation hook per action. Components never call the client directly.
//
// Keys are hierarchical so a mutation can invalidate exactly what it changed:
//   ["stores"]                         everything about stores
//   ["stores", "list", filters]        one filtered page of the list
//   ["stores", "detail", id]           one store
//   ["stores", "detail", id, "events"] its timeline
//   ["stores", "detail", id, "checks"] its order checks
import {
  keepPreviousData,
  queryOptions,
  useMutation,
  useQueryClient,
  type QueryClient,
} from "@tanstack/react-query";
import { api, ApiError, request } from "./client";
import { liveInterval } from "./live";
import type {
  Phase,
  PlanName,
  SmokeCheck,
  SmokeChecks,
  Store,
  StoreCreate,
  StoreEvent,
  Rollout,
  RolloutCreate,
  TokenIssued,
  User,
} from "./types";

/** How often live views poll the API (the issue asks for about two seconds). */
export const LIVE_INTERVAL_MS = 2000;

export interface StoreFilters {
  phase?: Phase;
  /** Without a phase: list Deleted stores too (the API leaves them out by default). */
  include_deleted?: boolean;
  q?: string;
  cursor?: string;
  limit?: number;
}

export const storeKeys = {
  all: ["stores"] as const,
  lists: () => [...storeKeys.all, "list"] as const,
  list: (filters: StoreFilters) => [...storeKeys.lists(), filters] as const,
  details: () => [...storeKeys.all, "detail"] as const,
  detail: (id: string) => [...storeKeys.details(), id] as const,
  events: (id: string) => [...storeKeys.detail(id), "events"] as const,
  checks: (id: string) => [...storeKeys.detail(id), "checks"] as const,
};

/** How often a running order check is polled (its steps take a second or two each). */
export const CHECK_INTERVAL_MS = 1000;

/** Drops empty filter values so `{q: ""}` and `{}` share one cache entry and one URL. */
export function normalizeFilters(filters: StoreFilters): StoreFilters {
  const out: StoreFilters = {};
  if (filters.phase) out.phase = filters.phase;
  else if (filters.include_deleted) out.include_deleted = true;
  const q = filters.q?.trim();
  if (q) out.q = q;
  if (filters.cursor) out.cursor = filters.cursor;
  if (filters.limit) out.limit = filters.limit;
  return out;
}

/** One page of the stores list, polled while it is on screen. */
export function storesQuery(filters: StoreFilters = {}) {
  const f = normalizeFilters(filters);
  return queryOptions({
    queryKey: storeKeys.list(f),
    queryFn: ({ signal }) =>
      request(api.GET("/api/v1/stores", { params: { query: { limit: 50, ...f } }, signal })),
    refetchInterval: () => liveInterval(LIVE_INTERVAL_MS),
    // Typing in the search box must not blank the table while the next page loads.
    placeholderData: keepPreviousData,
  });
}

const isGone = (error: unknown) => error instanceof ApiError && error.status === 404;
/** No point asking again: the store is gone, or the token is (the login screen takes over). */
const isFinal = (error: unknown) => isGone(error) || (error instanceof ApiError && error.status === 401);

/** One store, polled until it is a tombstone (Deleted) or unknown (404). */
export function storeQuery(id: string) {
  return queryOptions({
    queryKey: storeKeys.detail(id),
    queryFn: ({ signal }) =>
      request(api.GET("/api/v1/stores/{store_id}", { params: { path: { store_id: id } }, signal })),
    refetchInterval: (query) =>
      query.state.data?.phase === "Deleted" || isGone(query.state.error) ? false : liveInterval(LIVE_INTERVAL_MS),
    retry: (failures, error) => !isFinal(error) && failures < 2,
  });
}

/** Sorts events newest first; ties (same timestamp) fall back to the id, higher first. */
export function newestFirst(events: readonly StoreEvent[]): StoreEvent[] {
  return [...events].sort((a, b) => {
    const dt = Date.parse(b.time) - Date.parse(a.time);
    return dt !== 0 && !Number.isNaN(dt) ? dt : b.id - a.id;
  });
}

/** A store's events timeline, newest first (the API returns oldest first). */
export function storeEventsQuery(id: string) {
  return queryOptions({
    queryKey: storeKeys.events(id),
    queryFn: ({ signal }) =>
      request(api.GET("/api/v1/stores/{store_id}/events", { params: { path: { store_id: id } }, signal })),
    select: (data) => ({ count: data.count, items: newestFirst(data.items) }),
    refetchInterval: (query) => (isGone(query.state.error) ? false : liveInterval(LIVE_INTERVAL_MS)),
    retry: (failures, error) => !isFinal(error) && failures < 2,
  });
}

/** A store's order checks, newest first; polled while the newest one is still Running. */
export function storeChecksQuery(id: string) {
  return queryOptions({
    queryKey: storeKeys.checks(id),
    queryFn: ({ signal }) =>
      request(api.GET("/api/v1/stores/{store_id}/checks", { params: { path: { store_id: id } }, signal })),
    refetchInterval: (query) =>
      query.state.data?.items[0]?.status === "Running" ? CHECK_INTERVAL_MS : false,
    retry: (failures, error) => !isFinal(error) && failures < 2,
  });
}

/** Ask for an order check; the answer (the Running check) goes at the top of the list. */
export function useRunCheck(id: string) {
  const client = useQueryClient();
  return useMutation<SmokeCheck, ApiError, void>({
    mutationFn: () =>
      request(api.POST("/api/v1/stores/{store_id}/checks", { params: { path: { store_id: id } } })),
    onSuccess: (check) => {
      client.setQueryData<SmokeChecks>(storeKeys.checks(id), (old) => {
        const rest = (old?.items ?? []).filter((c) => c.id !== check.id);
        return { items: [check, ...rest], count: rest.length + 1 };
      });
      return client.invalidateQueries({ queryKey: storeKeys.checks(id) });
    },
  });
}

/** The plans a store can be created with or moved to; they change only on redeploy. */
export function plansQuery() {
  return queryOptions({
    queryKey: ["plans"] as const,
    queryFn: ({ signal }) => request(api.GET("/api/v1/plans", { signal })),
    staleTime: 5 * 60_000,
    select: (data) => data.items,
  });
}

/** The engines a store can run; they change only on redeploy. */
export function enginesQuery() {
  return queryOptions({
    queryKey: ["engines"] as const,
    queryFn: ({ signal }) => request(api.GET("/api/v1/engines", { signal })),
    staleTime: 5 * 60_000,
    select: (data) => data.items,
  });
}

/** After any write: put the fresh store in the cache, then refetch everything about stores. */
function settle(client: QueryClient, store: Store) {
  client.setQueryData(storeKeys.detail(store.id), store);
  return client.invalidateQueries({ queryKey: storeKeys.all });
}

export function useCreateStore() {
  const client = useQueryClient();
  return useMutation<Store, ApiError, StoreCreate>({
    mutationFn: (body) => request(api.POST("/api/v1/stores", { body })),
    onSuccess: (store) => settle(client, store),
  });
}

export function useChangePlan(id: string) {
  const client = useQueryClient();
  return useMutation<Store, ApiError, PlanName>({
    mutationFn: (plan) =>
      request(api.PATCH("/api/v1/stores/{store_id}", { params: { path: { store_id: id } }, body: { plan } })),
    onSuccess: (store) => settle(client, store),
  });
}

export function useDeleteStore(id: string) {
  const client = useQueryClient();
  return useMutation<Store, ApiError, void>({
    mutationFn: () => request(api.DELETE("/api/v1/stores/{store_id}", { params: { path: { store_id: id } } })),
    onSuccess: (store) => settle(client, store),
  });
}

export function useRetryStore(id: string) {
  const client = useQueryClient();
  return useMutation<Store, ApiError, void>({
    mutationFn: () => request(api.POST("/api/v1/stores/{store_id}/retry", { params: { path: { store_id: id } } })),
    onSuccess: (store) => settle(client, store),
  });
}

export function useSuspendStore(id: string) {
  const client = useQueryClient();
  return useMutation<Store, ApiError, void>({
    mutationFn: () => request(api.POST("/api/v1/stores/{store_id}/suspend", { params: { path: { store_id: id } } })),
    onSuccess: (store) => settle(client, store),
  });
}

export function useResumeStore(id: string) {
  const client = useQueryClient();
  return useMutation<Store, ApiError, void>({
    mutationFn: () => request(api.POST("/api/v1/stores/{store_id}/resume", { params: { path: { store_id: id } } })),
    onSuccess: (store) => settle(client, store),
  });
}

// ---- the console's own endpoints ----

/** The fleet overview: counts, durations, failing stores, recent events (live). */
export function fleetQuery() {
  return queryOptions({
    queryKey: ["fleet"] as const,
    queryFn: ({ signal }) => request(api.GET("/api/v1/fleet", { params: { query: { sample: 100, events: 15 } }, signal })),
    refetchInterval: () => liveInterval(LIVE_INTERVAL_MS),
    retry: (failures, error) => !isFinal(error) && failures < 2,
  });
}

/** A store's resource tree; events of the store invalidate it (its key is under the store's). */
export function storeObjectsQuery(id: string) {
  return queryOptions({
    queryKey: [...storeKeys.detail(id), "objects"] as const,
    queryFn: ({ signal }) =>
      request(api.GET("/api/v1/stores/{store_id}/objects", { params: { path: { store_id: id } }, signal })),
    // Pods change without store events (a restart): poll the tree gently even when live.
    refetchInterval: (query) => (isFinal(query.state.error) ? false : 10_000),
    retry: (failures, error) => !isFinal(error) && failures < 1,
  });
}

export function objectYamlQuery(id: string, kind: string, name: string) {
  return queryOptions({
    queryKey: [...storeKeys.detail(id), "objects", kind, name] as const,
    queryFn: ({ signal }) =>
      request(
        api.GET("/api/v1/stores/{store_id}/objects/{kind}/{name}", {
          params: { path: { store_id: id, kind, name } },
          signal,
        }),
      ),
    retry: false,
  });
}

/** One container's last lines; `follow` polls it every two seconds. */
export function logsQuery(id: string, pod: string, container: string | undefined, tail: number, follow: boolean) {
  return queryOptions({
    queryKey: ["logs", id, pod, container ?? "", tail] as const,
    queryFn: ({ signal }) =>
      request(
        api.GET("/api/v1/stores/{store_id}/logs", {
          params: { path: { store_id: id }, query: { pod, tail, ...(container ? { container } : {}) } },
          signal,
        }),
      ),
    refetchInterval: follow ? LIVE_INTERVAL_MS : false,
    retry: false,
  });
}

/** Accounts (admins only; a member's 404 means "not an admin": no retries). */
export function usersQuery() {
  return queryOptions({
    queryKey: ["users"] as const,
    queryFn: ({ signal }) => request(api.GET("/api/v1/users", { signal })),
    retry: false,
    staleTime: 30_000,
  });
}

export function tokensQuery(userId?: string) {
  return queryOptions({
    queryKey: ["tokens", userId ?? ""] as const,
    queryFn: ({ signal }) =>
      request(api.GET("/api/v1/tokens", { params: { query: userId ? { user_id: userId } : {} }, signal })),
    retry: false,
  });
}

export function useCreateUser() {
  const client = useQueryClient();
  return useMutation<User, ApiError, { name: string; max_live_stores: number | null }>({
    mutationFn: (body) => request(api.POST("/api/v1/users", { body })),
    onSuccess: () => client.invalidateQueries({ queryKey: ["users"] }),
  });
}

export function useSetStoreLimit(userId: string) {
  const client = useQueryClient();
  return useMutation<User, ApiError, number | null>({
    mutationFn: (max) =>
      request(api.PATCH("/api/v1/users/{user_id}", { params: { path: { user_id: userId } }, body: { max_live_stores: max } })),
    onSuccess: () => client.invalidateQueries({ queryKey: ["users"] }),
  });
}

export function useIssueToken() {
  const client = useQueryClient();
  return useMutation<TokenIssued, ApiError, { user_id: string; label: string }>({
    mutationFn: (body) => request(api.POST("/api/v1/tokens", { body })),
    onSuccess: () => Promise.all([client.invalidateQueries({ queryKey: ["tokens"] }), client.invalidateQueries({ queryKey: ["users"] })]),
  });
}

export function useRevokeToken() {
  const client = useQueryClient();
  return useMutation<unknown, ApiError, string>({
    mutationFn: (tokenId) => request(api.DELETE("/api/v1/tokens/{token_id}", { params: { path: { token_id: tokenId } } })),
    onSuccess: () => Promise.all([client.invalidateQueries({ queryKey: ["tokens"] }), client.invalidateQueries({ queryKey: ["users"] })]),
  });
}

/** Move a store to another engine version (PATCH engine_version); the API names the allowed ones. */
export function useUpgradeStore(id: string) {
  const client = useQueryClient();
  return useMutation<Store, ApiError, string>({
    mutationFn: (engine_version) =>
      request(api.PATCH("/api/v1/stores/{store_id}", { params: { path: { store_id: id } }, body: { engine_version } })),
    onSuccess: (store) => settle(client, store),
  });
}

/** Rollouts (admins), newest first; live while one runs. */
export function rolloutsQuery() {
  return queryOptions({
    queryKey: ["rollouts"] as const,
    queryFn: ({ signal }) => request(api.GET("/api/v1/rollouts", { signal })),
    refetchInterval: (query) =>
      query.state.data?.items.some((r) => r.phase === "Running") ? LIVE_INTERVAL_MS : liveInterval(10_000),
    retry: false,
  });
}

export function useCreateRollout() {
  const client = useQueryClient();
  return useMutation<Rollout, ApiError, RolloutCreate>({
    mutationFn: (body) => request(api.POST("/api/v1/rollouts", { body })),
    onSuccess: () => client.invalidateQueries({ queryKey: ["rollouts"] }),
  });
}

export function useRolloutAction(action: "pause" | "resume" | "abort") {
  const client = useQueryClient();
  return useMutation<Rollout, ApiError, string>({
    mutationFn: (rolloutId) =>
      request(api.POST(`/api/v1/rollouts/{rollout_id}/${action}`, { params: { path: { rollout_id: rolloutId } } })),
    onSuccess: () => client.invalidateQueries({ queryKey: ["rollouts"] }),
  });
}
