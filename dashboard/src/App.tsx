// The dashboard shell: header, navigation and the route switch; the login screen while the
// tab has no API token.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef } from "react";
import { signOut, takeTokenFromLocation, useToken } from "./api/auth";
import { runStream, useLiveState } from "./api/live";
import { usersQuery } from "./api/queries";
import { Accounts } from "./pages/Accounts";
import { Fleet } from "./pages/Fleet";
import { Rollouts } from "./pages/Rollouts";
import { Login } from "./pages/Login";
import { CreateStore } from "./pages/CreateStore";
import { StoreDetail } from "./pages/StoreDetail";
import { StoresList } from "./pages/StoresList";
import { Empty } from "./components/States";
import { Link, useRoute } from "./router";

// A `#token=...` link signs in before the first render (and leaves the address bar clean).
takeTokenFromLocation();

export function App() {
  const token = useToken();
  const queryClient = useQueryClient();
  const route = useRoute();
  const mainRef = useRef<HTMLElement>(null);
  const page = route.name === "detail" ? `detail:${route.id}` : route.name;
  const firstPage = useRef(page);
  // After in-app navigation, put keyboard and screen-reader focus at the top of the new
  // page (the clicked link is gone); not on first load, and not when only filters change.
  useEffect(() => {
    if (page === firstPage.current) return;
    firstPage.current = "";
    mainRef.current?.focus({ preventScroll: true });
  }, [page]);
  // Nothing cached under one token may show under another.
  useEffect(() => {
    if (!token) queryClient.clear();
  }, [token, queryClient]);
  // One event stream per signed-in tab; live views poll only while it is down.
  useEffect(() => {
    if (!token || typeof TextDecoderStream === "undefined") return;
    const stop = new AbortController();
    void runStream(queryClient, stop.signal);
    return () => stop.abort();
  }, [token, queryClient]);
  const live = useLiveState();
  // The accounts API answers members with a 404: then there is no Accounts page to offer.
  const admin = useQuery({ ...usersQuery(), enabled: Boolean(token) }).isSuccess;
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/" className="brand">
          <span className="brand-mark" aria-hidden="true" />
          storeplane
        </Link>
        <nav aria-label="Main">
          {token && (
            <>
              <Link to="/" aria-current={route.name === "fleet" ? "page" : undefined}>
                Fleet
              </Link>
              <Link to="/stores" aria-current={route.name === "list" ? "page" : undefined}>
                Stores
              </Link>
              {admin && (
                <>
                  <Link to="/rollouts" aria-current={route.name === "rollouts" ? "page" : undefined}>
                    Rollouts
                  </Link>
                  <Link to="/accounts" aria-current={route.name === "accounts" ? "page" : undefined}>
                    Accounts
                  </Link>
                </>
              )}
              <Link to="/new" aria-current={route.name === "new" ? "page" : undefined}>
                New store
              </Link>
              <span
                className={`live live-${live}`}
                data-live={live}
                title={live === "live" ? "Changes arrive as they happen (event stream)" : "Event stream down: polling every 2 s"}
              >
                {live === "live" ? "Live" : "Polling"}
              </span>
              <button type="button" className="btn-link" onClick={() => signOut()}>
                Sign out
              </button>
            </>
          )}
        </nav>
      </header>
      <main id="main" tabIndex={-1} ref={mainRef}>
        {!token && <Login />}
        {token && route.name === "fleet" && <Fleet />}
        {token && route.name === "accounts" && <Accounts />}
        {token && route.name === "rollouts" && <Rollouts />}
        {token && route.name === "list" && <StoresList search={route.search} />}
        {token && route.name === "new" && <CreateStore />}
        {token && route.name === "detail" && <StoreDetail key={route.id} id={route.id} />}
        {token && route.name === "notFound" && (
          <Empty title="Page not found.">
            <p>
              Nothing lives at <code>{route.path}</code>. <Link to="/stores">Go to the stores list</Link>.
            </p>
          </Empty>
        )}
      </main>
    </>
  );
}
