// A tiny history router: a handful of routes do not need a routing library. storeplane serves
// index.html for every non-API path (SPA fallback), so deep links and reloads work.
import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from "react";

export type Route =
  | { name: "fleet" }
  | { name: "accounts" }
  | { name: "rollouts" }
  | { name: "list"; search: URLSearchParams }
  | { name: "new" }
  | { name: "detail"; id: string }
  | { name: "notFound"; path: string };

const listeners = new Set<() => void>();

function subscribe(listener: () => void) {
  listeners.add(listener);
  window.addEventListener("popstate", listener);
  return () => {
    listeners.delete(listener);
    window.removeEventListener("popstate", listener);
  };
}

const snapshot = () => window.location.pathname + window.location.search;

/** Navigates without a page load; `replace` keeps the back button from filling up. */
export function navigate(to: string, { replace = false } = {}) {
  if (to === snapshot()) return;
  if (replace) window.history.replaceState(null, "", to);
  else window.history.pushState(null, "", to);
  listeners.forEach((l) => l());
}

export function matchRoute(pathname: string, search: string): Route {
  if (pathname === "/" || pathname === "") return { name: "fleet" };
  if (pathname === "/stores" || pathname === "/stores/") return { name: "list", search: new URLSearchParams(search) };
  if (pathname === "/accounts" || pathname === "/accounts/") return { name: "accounts" };
  if (pathname === "/rollouts" || pathname === "/rollouts/") return { name: "rollouts" };
  if (pathname === "/new" || pathname === "/new/") return { name: "new" };
  const m = /^\/stores\/([^/]+)\/?$/.exec(pathname);
  if (m?.[1]) return { name: "detail", id: decodeURIComponent(m[1]) };
  return { name: "notFound", path: pathname };
}

export function useRoute(): Route {
  const current = useSyncExternalStore(subscribe, snapshot);
  const q = current.indexOf("?");
  return q < 0 ? matchRoute(current, "") : matchRoute(current.slice(0, q), current.slice(q));
}

export const storePath = (id: string) => `/stores/${encodeURIComponent(id)}`;

type LinkProps = AnchorHTMLAttributes<HTMLAnchorElement> & { to: string };

/** A real link (keyboard, middle-click, copy address all work) that navigates in-app. */
export function Link({ to, onClick, ...rest }: LinkProps) {
  function handle(e: MouseEvent<HTMLAnchorElement>) {
    onClick?.(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
    window.scrollTo?.(0, 0);
  }
  return <a href={to} onClick={handle} {...rest} />;
}
