// Times shown relative ("3m ago") with the exact time on hover (title) and in <time dateTime>.
import { useSyncExternalStore } from "react";
import { formatAge, formatExact, formatRelative } from "../time";

// One shared clock for every relative time on screen: a single interval, running only
// while something is subscribed, so ages keep moving between refetches.
const TICK_MS = 1000;
let now = Date.now();
const subscribers = new Set<() => void>();
let timer: ReturnType<typeof setInterval> | undefined;

function subscribe(listener: () => void) {
  subscribers.add(listener);
  if (!timer) {
    now = Date.now();
    timer = setInterval(() => {
      now = Date.now();
      subscribers.forEach((l) => l());
    }, TICK_MS);
  }
  return () => {
    subscribers.delete(listener);
    if (subscribers.size === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  };
}

/** The current time, updated every second while any caller is mounted. */
export function useNow(): number {
  return useSyncExternalStore(subscribe, () => now);
}

export function RelativeTime({ iso, age = false }: { iso: string; age?: boolean }) {
  const current = Math.max(useNow(), Date.now() - TICK_MS);
  return (
    <time dateTime={iso} title={formatExact(iso)}>
      {age ? formatAge(iso, current) : formatRelative(iso, current)}
    </time>
  );
}
