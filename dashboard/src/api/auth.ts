// The dashboard's API token: kept in sessionStorage (this tab only, gone when it closes),
// sent as `Authorization: Bearer` on every request by client.ts, and dropped when the API
// answers 401 (revoked or unknown), which brings the login screen back.
//
// `storeplane dev` tells you where its admin token is; you can paste it on the login screen,
// or open `/#token=<token>`: the fragment never reaches a server, and it is taken out of the
// address (and the history entry) at once.
import { useSyncExternalStore } from "react";

const KEY = "storeplane.token";
const listeners = new Set<() => void>();
let notice: string | null = null;

function storage(): Storage | null {
  try {
    return globalThis.sessionStorage ?? null;
  } catch {
    return null; // storage disabled: the token lives only as long as this page
  }
}

let memory: string | null = null;

export function getToken(): string | null {
  return storage()?.getItem(KEY) ?? memory;
}

function emit() {
  listeners.forEach((l) => l());
}

export function signIn(token: string) {
  const value = token.trim();
  memory = value;
  storage()?.setItem(KEY, value);
  notice = null;
  emit();
}

/** Forget the token; `why` is shown on the login screen (e.g. "the token was revoked"). */
export function signOut(why: string | null = null) {
  memory = null;
  storage()?.removeItem(KEY);
  notice = why;
  emit();
}

/** Why the last session ended, if it ended by itself. */
export function signOutNotice(): string | null {
  return notice;
}

/** Takes a `#token=...` fragment into the session and removes it from the address. */
export function takeTokenFromLocation() {
  const hash = globalThis.location?.hash ?? "";
  const m = /^#token=([^&]+)/.exec(hash);
  if (!m?.[1]) return;
  signIn(decodeURIComponent(m[1]));
  const { pathname, search } = window.location;
  window.history.replaceState(null, "", pathname + search);
}

function subscribe(listener: () => void) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The current token (re-renders on sign-in and sign-out). */
export function useToken(): string | null {
  return useSyncExternalStore(subscribe, getToken);
}
