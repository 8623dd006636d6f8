// The query layer against a fetch that returns canned Responses (test/fakeApi.ts);
// the real API is exercised by e2e/run.mjs.
import { QueryClient } from "@tanstack/react-query";
import { renderHook, waitFor } from "@testing-library/react";
import { createElement, type ReactNode } from "react";
import { QueryClientProvider } from "@tanstack/react-query";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { createFakeApi, makeStore, TEST_TOKEN, type FakeApi } from "../test/fakeApi";
import { getToken, signIn } from "./auth";
import { ApiError } from "./client";
import {
  newestFirst,
  plansQuery,
  storeEventsQuery,
  storeKeys,
  storeQuery,
  storesQuery,
  useCreateStore,
} from "./queries";
import type { StoreEvent } from "./types";

let fake: FakeApi;
let client: QueryClient;

beforeEach(() => {
  fake = createFakeApi([makeStore({ id: "store-1", name: "shop" }), makeStore({ id: "store-2", name: "other", phase: "Failed" })]);
  vi.stubGlobal("fetch", vi.fn(fake.fetch));
  signIn(TEST_TOKEN);
  client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
});

describe("the API token", () => {
  it("goes with every request as a Bearer token", async () => {
    await client.fetchQuery(plansQuery());
    expect(fake.requests[0]!.authorization).toBe(`Bearer ${TEST_TOKEN}`);
  });

  it("is dropped when the API answers 401, so the login screen comes back", async () => {
    fake.token = "sp_another";
    const error = await client.fetchQuery(storeQuery("store-1")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(401);
    expect(getToken()).toBeNull();
  });
});

describe("queryOptions factories", () => {
  it("storesQuery sends phase and search and keys by the normalized filters", async () => {
    const opts = storesQuery({ phase: "Failed", q: " oth ", cursor: "" });
    expect(opts.queryKey).toEqual(["stores", "list", { phase: "Failed", q: "oth" }]);
    // Polls every 2 s while the event stream is down (it is, in tests).
    expect((opts.refetchInterval as () => number | false)()).toBe(2000);
    const data = await client.fetchQuery(opts);
    expect(data.items.map((s) => s.name)).toEqual(["other"]);
    const url = fake.requests[0]!.url;
    expect(url.pathname).toBe("/api/v1/stores");
    expect(url.searchParams.get("phase")).toBe("Failed");
    expect(url.searchParams.get("q")).toBe("oth");
  });

  it("empty filters share one key", () => {
    expect(storesQuery({ q: "" }).queryKey).toEqual(storesQuery().queryKey);
  });

  it("storeQuery stops polling once the store is Deleted", () => {
    const opts = storeQuery("store-1");
    const interval = opts.refetchInterval as (q: unknown) => number | false;
    expect(interval({ state: { data: makeStore({ phase: "Provisioning" }), error: null } })).toBe(2000);
    expect(interval({ state: { data: makeStore({ phase: "Deleted" }), error: null } })).toBe(false);
  });

  it("storeQuery turns a 404 problem into an ApiError with the server's detail", async () => {
    const error = await client.fetchQuery(storeQuery("store-missing")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(404);
    expect((error as ApiError).message).toBe('no store with id "store-missing"');
  });

  it("storeEventsQuery returns events newest first", async () => {
    const e = (id: number, time: string): StoreEvent => ({
      id, time, type: "Normal", reason: `R${id}`, message: "", actor: "system", generation: 1,
    });
    fake.events.set("store-1", [e(1, "2026-01-01T00:00:00Z"), e(2, "2026-01-01T00:00:05Z"), e(3, "2026-01-01T00:00:05Z")]);
    const opts = storeEventsQuery("store-1");
    const raw = await client.fetchQuery(opts);
    expect(opts.select!(raw).items.map((x) => x.id)).toEqual([3, 2, 1]);
    expect(newestFirst([]).length).toBe(0);
  });

  it("plansQuery selects the items", async () => {
    const opts = plansQuery();
    const raw = await client.fetchQuery(opts);
    expect(opts.select!(raw).map((p) => p.name)).toEqual(["small", "medium", "large"]);
  });

  it("a network failure becomes an ApiError with status 0", async () => {
    vi.stubGlobal("fetch", vi.fn(() => Promise.reject(new TypeError("fetch failed"))));
    const error = await client.fetchQuery(plansQuery()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(0);
    expect((error as ApiError).message).toContain("Could not reach storeplane");
  });

  it("a non-JSON 502 still yields a readable message", async () => {
    fake.failNext("GET", "/api/v1/plans", () => new Response("Bad Gateway", { status: 502, statusText: "Bad Gateway" }));
    const error = (await client.fetchQuery(plansQuery()).catch((e: unknown) => e)) as ApiError;
    expect(error.status).toBe(502);
    expect(error.message).toBe("Bad Gateway");
  });
});

describe("mutations", () => {
  const wrapper = ({ children }: { children: ReactNode }) => createElement(QueryClientProvider, { client }, children);

  it("create invalidates the stores lists and caches the new store", async () => {
    await client.fetchQuery(storesQuery());
    expect(client.getQueryState(storesQuery().queryKey)?.isInvalidated).toBe(false);
    const { result } = renderHook(() => useCreateStore(), { wrapper });
    result.current.mutate({ name: "new-shop", engine: "woocommerce", plan: "medium" });
    await waitFor(() => expect(result.current.isSuccess).toBe(true));
    const created = result.current.data!;
    expect(client.getQueryData(storeKeys.detail(created.id))).toEqual(created);
    expect(client.getQueryState(storesQuery().queryKey)?.isInvalidated).toBe(true);
    expect(fake.requests.find((r) => r.method === "POST")!.body).toEqual({ name: "new-shop", engine: "woocommerce", plan: "medium" });
  });

  it("a refused create exposes the problem detail verbatim", async () => {
    const { result } = renderHook(() => useCreateStore(), { wrapper });
    result.current.mutate({ name: "shop", engine: "medusa", plan: "small" });
    await waitFor(() => expect(result.current.isError).toBe(true));
    expect(result.current.error?.status).toBe(409);
    expect(result.current.error?.message).toBe('a store named "shop" already exists; choose another name');
  });
});

describe("invalidateFor (a store event from the stream)", () => {
  it("lets an overview read in flight finish instead of restarting it on every event", async () => {
    const { invalidateFor } = await import("./live");
    const { QueryObserver } = await import("@tanstack/react-query");
    const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    let started = 0;
    let finished = 0;
    const fetchFleet = async ({ signal }: { signal: AbortSignal }) => {
      started += 1;
      await new Promise((resolve) => setTimeout(resolve, 40));
      if (!signal.aborted) finished += 1;
      return { total: started };
    };
    const observer = new QueryObserver(client, { queryKey: ["fleet"], queryFn: fetchFleet });
    const unsubscribe = observer.subscribe(() => {});
    try {
      await waitFor(() => expect(finished).toBe(1));
      void observer.refetch();
      for (let i = 0; i < 5; i++) invalidateFor(client, { store_id: "store-x" } as Parameters<typeof invalidateFor>[1]);
      await waitFor(() => expect(observer.getCurrentResult().isFetching).toBe(false));
      // The read in flight was not cancelled and no new one was started per event.
      expect({ started, finished }).toEqual({ started: 2, finished: 2 });
    } finally {
      unsubscribe();
      client.clear();
    }
  });
});
