// The live feed: one server-sent event stream (GET /api/v1/stream) per tab. Each event names
// the store it is about; the queries that show that store (and the lists and the fleet) are
// invalidated, so a page refetches only what changed. While the stream is up, live queries
// stop polling (see liveInterval); while it is down, they poll every LIVE_INTERVAL_MS as before.
//
// fetch() rather than EventSource: EventSource cannot send the Authorization header, and the
// token must not travel in a URL.
import { useSyncExternalStore } from "react";
import type { QueryClient } from "@tanstack/react-query";
import { getToken } from "./auth";

export type LiveState = "connecting" | "live" | "down";

let state: LiveState = "down";
const listeners = new Set<() => void>();

function setState(next: LiveState) {
  if (next === state) return;
  state = next;
  listeners.forEach((l) => l());
}

export function liveState(): LiveState {
  return state;
}

export function useLiveState(): LiveState {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => state,
  );
}

/** A live query's refetch interval: none while the stream pushes changes, `ms` otherwise. */
export function liveInterval(ms: number): number | false {
  return state === "live" ? false : ms;
}

export interface StreamEvent {
  id: number;
  store_id: string;
  store_name: string;
  reason: string;
  type: string;
  message: string;
  time: string;
}

/** Splits a text/event-stream body into messages; returns the unfinished tail. */
export function parseSse(buffer: string, onMessage: (event: string, data: string, id: string | null) => void): string {
  const blocks = buffer.split("\n\n");
  const rest = blocks.pop() ?? "";
  for (const block of blocks) {
    let event = "message";
    let id: string | null = null;
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") event = value;
      else if (field === "data") data.push(value);
      else if (field === "id") id = value;
    }
    if (data.length > 0) onMessage(event, data.join("\n"), id);
  }
  return rest;
}

const settling = new Map<string, ReturnType<typeof setTimeout>>();
/** How long after a store's last event its queries are read once more: the reconciler records
 * a step's event and then saves the store's status, so the first read can still see the old
 * status; one more read after things went quiet catches it. */
export const SETTLE_MS = 1500;

function invalidateNow(client: QueryClient, storeId: string) {
  void client.invalidateQueries({ queryKey: ["stores", "detail", storeId] });
  // The fleet-wide reads are not restarted while one is in flight (cancelRefetch: false):
  // in a busy fleet events come faster than a 10,000-store overview answers (~75 ms), and
  // restarting it on each one would never let it finish. The settle pass reads it again.
  void client.invalidateQueries({ queryKey: ["stores", "list"] }, { cancelRefetch: false });
  void client.invalidateQueries({ queryKey: ["fleet"] }, { cancelRefetch: false });
}

/** What a store event makes stale: that store's queries, every list, the fleet; now and once
 * more SETTLE_MS after the store's last event. */
export function invalidateFor(client: QueryClient, event: StreamEvent) {
  invalidateNow(client, event.store_id);
  clearTimeout(settling.get(event.store_id));
  settling.set(
    event.store_id,
    setTimeout(() => {
      settling.delete(event.store_id);
      invalidateNow(client, event.store_id);
    }, SETTLE_MS),
  );
}

/**
 * Keeps one stream open while `signal` is not aborted; reconnects after a failure (waiting
 * longer each time, at most 30 s) with Last-Event-ID, and invalidates everything after a
 * reconnect (events may have been missed beyond the server's backlog).
 */
export async function runStream(client: QueryClient, signal: AbortSignal, origin = globalThis.location?.origin ?? "") {
  let lastId: string | null = null;
  let failures = 0;
  while (!signal.aborted) {
    const token = getToken();
    if (!token) return;
    setState("connecting");
    try {
      const headers: Record<string, string> = { Authorization: `Bearer ${token}`, Accept: "text/event-stream" };
      if (lastId) headers["Last-Event-ID"] = lastId;
      const response = await fetch(`${origin}/api/v1/stream`, { headers, signal });
      if (!response.ok || !response.body) throw new Error(`stream answered ${response.status}`);
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      let reconnected = lastId !== null || failures > 0;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer = parseSse(buffer + value, (event, data, id) => {
          if (id) lastId = id;
          if (event === "hello") {
            setState("live");
            failures = 0;
            if (reconnected) void client.invalidateQueries();
            reconnected = false;
          } else if (event === "store-event") {
            invalidateFor(client, JSON.parse(data) as StreamEvent);
          }
        });
      }
    } catch {
      if (signal.aborted) break;
    }
    setState("down");
    // Refetch now: queries re-read liveInterval() and poll again until the stream is back.
    void client.invalidateQueries();
    failures += 1;
    // Polling covers the gap; the stream comes back when the server does.
    await sleep(Math.min(30_000, 1000 * 2 ** Math.min(failures, 5)), signal);
  }
  setState("down");
}

function sleep(ms: number, signal: AbortSignal) {
  return new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(t);
      resolve();
    });
  });
}
