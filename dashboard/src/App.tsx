// The dashboard shell: header, navigation and the route switch.
import { CreateStore } from "./pages/CreateStore";
import { StoreDetail } from "./pages/StoreDetail";
import { StoresList } from "./pages/StoresList";
import { Empty } from "./components/States";
import { Link, useRoute } from "./router";

export function App() {
  const route = useRoute();
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
      <main id="main" tabIndex={-1}>
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
