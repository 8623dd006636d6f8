// The dashboard shell: header, navigation and the route switch.
import { useEffect, useRef } from "react";
import { CreateStore } from "./pages/CreateStore";
import { StoreDetail } from "./pages/StoreDetail";
import { StoresList } from "./pages/StoresList";
import { Empty } from "./components/States";
import { Link, useRoute } from "./router";

export function App() {
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
          <Link to="/" aria-current={route.name === "list" ? "page" : undefined}>
            Stores
          </Link>
          <Link to="/new" aria-current={route.name === "new" ? "page" : undefined}>
            New store
          </Link>
        </nav>
      </header>
      <main id="main" tabIndex={-1} ref={mainRef}>
        {route.name === "list" && <StoresList search={route.search} />}
        {route.name === "new" && <CreateStore />}
        {route.name === "detail" && <StoreDetail key={route.id} id={route.id} />}
        {route.name === "notFound" && (
          <Empty title="Page not found.">
            <p>
              Nothing lives at <code>{route.path}</code>. <Link to="/">Go to the stores list</Link>.
            </p>
          </Empty>
        )}
      </main>
    </>
  );
}
