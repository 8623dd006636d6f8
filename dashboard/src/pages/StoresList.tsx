// The stores list (route "/stores"): filter by phase, search by name, live every ~2 s.
// Filters live in the URL (?phase=Ready&q=shop, ?deleted=1 for "include deleted") so a
// filtered view can be shared or reloaded. "All phases" leaves Deleted stores out, as the API
// does, and says so next to a switch that brings them in.
import { useQuery } from "@tanstack/react-query";
import { useEffect, useId, useState } from "react";
import { enginesQuery, storesQuery } from "../api/queries";
import { PHASES, type Phase, type Store } from "../api/types";
import { PhaseBadge } from "../components/PhaseBadge";
import { Empty, ErrorState, Loading, StaleBanner } from "../components/States";
import { RelativeTime } from "../components/Time";
import { useTitle } from "../components/useTitle";
import { Link, navigate, storePath } from "../router";

/** Phases in which a store's URL no longer leads to a live shop. */
const GONE: ReadonlySet<Phase> = new Set<Phase>(["Deleting", "Deleted"]);

function isPhase(value: string | null): value is Phase {
  return value !== null && (PHASES as readonly string[]).includes(value);
}

function listUrl(phase: Phase | undefined, q: string, withDeleted = false) {
  const params = new URLSearchParams();
  if (phase) params.set("phase", phase);
  else if (withDeleted) params.set("deleted", "1");
  if (q.trim()) params.set("q", q.trim());
  const s = params.toString();
  return s ? `/stores?${s}` : "/stores";
}

export function StoresList({ search }: { search: URLSearchParams }) {
  const phaseParam = search.get("phase");
  const phase = isPhase(phaseParam) ? phaseParam : undefined;
  const q = search.get("q") ?? "";
  const withDeleted = !phase && search.get("deleted") === "1";
  const [draft, setDraft] = useState(q);
  // Cursors of the pages before the current one; the last entry is the current page's.
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors[cursors.length - 1];
  const ids = { phase: useId(), search: useId(), deleted: useId(), deletedWhy: useId() };

  // Debounce typing into the URL (and so into the query key).
  useEffect(() => {
    if (draft === q) return;
    const t = setTimeout(() => navigate(listUrl(phase, draft, withDeleted), { replace: true }), 250);
    return () => clearTimeout(t);
  }, [draft, q, phase, withDeleted]);
  // A changed filter starts from the first page again.
  useEffect(() => setCursors([]), [phase, q, withDeleted]);

  useTitle("Stores");
  const stores = useQuery(storesQuery({ phase, q, cursor, include_deleted: withDeleted }));
  const engines = useQuery(enginesQuery());
  const engineName = (name: string) =>
    engines.data?.find((e) => e.name === name)?.display_name ?? name;
  const filtered = Boolean(phase || q || withDeleted);
  const deletedWhy = phase
    ? `The phase filter shows only ${phase} stores${phase === "Deleted" ? "" : "; choose All phases to add deleted ones"}.`
    : withDeleted
      ? "Deleted stores are listed with the others."
      : "All phases leaves deleted stores out; tick this to list them too.";

  return (
    <section aria-labelledby="stores-heading">
      <div className="page-head">
        <h1 id="stores-heading">Stores</h1>
        <Link to="/new" className="btn btn-primary">
          New store
        </Link>
      </div>

      <form className="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor={ids.search}>Search by name</label>
          <input
            id={ids.search}
            type="search"
            value={draft}
            placeholder="e.g. shop"
            autoComplete="off"
            spellCheck={false}
            onChange={(e) => setDraft(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor={ids.phase}>Phase</label>
          <select
            id={ids.phase}
            value={phase ?? ""}
            onChange={(e) =>
              navigate(listUrl(isPhase(e.target.value) ? e.target.value : undefined, draft, withDeleted), { replace: true })
            }
          >
            <option value="">{withDeleted ? "All phases" : "All phases but Deleted"}</option>
            {PHASES.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </div>
        <div className="field field-check">
          <label htmlFor={ids.deleted} title={deletedWhy}>
            <input
              id={ids.deleted}
              type="checkbox"
              checked={withDeleted || phase === "Deleted"}
              disabled={Boolean(phase)}
              aria-describedby={ids.deletedWhy}
              onChange={(e) => navigate(listUrl(undefined, draft, e.target.checked), { replace: true })}
            />{" "}
            Include deleted
          </label>
          <span id={ids.deletedWhy} className="visually-hidden">
            {deletedWhy}
          </span>
        </div>
        {filtered && (
          <button
            type="button"
            className="btn btn-quiet"
            onClick={() => {
              setDraft("");
              navigate("/stores", { replace: true });
            }}
          >
            Clear filters
          </button>
        )}
      </form>

      {stores.isPending ? (
        <Loading label="Loading stores…" />
      ) : stores.isError && !stores.data ? (
        <ErrorState title="Could not load stores" error={stores.error} onRetry={() => void stores.refetch()} />
      ) : stores.data.items.length === 0 ? (
        filtered ? (
          <Empty title="No stores match these filters.">
            <p>Try another phase or name, or clear the filters.</p>
          </Empty>
        ) : (
          <Empty title="No stores yet.">
            <p>
              <Link to="/new">Create your first store</Link> — it is ready in a few moments.
            </p>
          </Empty>
        )
      ) : (
        <>
          {stores.isError && <StaleBanner error={stores.error} />}
          <p className="list-meta" aria-live="polite">
            {stores.data.count === 1 ? "1 store" : `${stores.data.count} stores`}
            {filtered ? (stores.data.count === 1 ? " matches" : " match") : ""}
            <span className="live-dot" title="Updates every 2 seconds">
              live
            </span>
          </p>
          <StoresTable stores={stores.data.items} engineName={engineName} />
          {(cursors.length > 0 || stores.data.next_cursor) && (
            <nav className="pager" aria-label="Pages">
              <button
                type="button"
                className="btn"
                disabled={cursors.length === 0}
                onClick={() => setCursors((c) => c.slice(0, -1))}
              >
                Previous
              </button>
              <button
                type="button"
                className="btn"
                disabled={!stores.data.next_cursor || stores.isPlaceholderData}
                onClick={() => {
                  const next = stores.data.next_cursor;
                  if (next) setCursors((c) => [...c, next]);
                }}
              >
                Next
              </button>
            </nav>
          )}
        </>
      )}
    </section>
  );
}

function StoresTable({ stores, engineName }: { stores: Store[]; engineName: (n: string) => string }) {
  return (
    <table className="stores">
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Engine</th>
          <th scope="col">Plan</th>
          <th scope="col">Phase</th>
          <th scope="col">Age</th>
          <th scope="col">URL</th>
        </tr>
      </thead>
      <tbody>
        {stores.map((s) => (
          <tr key={s.id} data-store={s.name}>
            <th scope="row" data-label="Name">
              <Link to={storePath(s.id)} className="store-name">
                {s.name}
              </Link>
              {s.managed_by && (
                <span className="tag managed-tag" title={`Managed by the Kubernetes object ${s.managed_by}: change it there`}>
                  {s.managed_by}
                </span>
              )}
            </th>
            <td data-label="Engine">{engineName(s.engine)}</td>
            <td data-label="Plan">{s.plan}</td>
            <td data-label="Phase">
              <PhaseBadge phase={s.phase} />
            </td>
            <td data-label="Age">
              <RelativeTime iso={s.created_at} age />
            </td>
            <td data-label="URL" className="url-cell">
              {s.url && !GONE.has(s.phase) ? (
                <a href={s.url} target="_blank" rel="noreferrer">
                  {s.url.replace(/^https?:\/\//, "")}
                </a>
              ) : s.url ? (
                // Not a link: the shop is going away or gone, nothing live answers there.
                <span className="muted" title={s.phase === "Deleted" ? "removed with the store" : "the store is being deleted"}>
                  {s.phase === "Deleted" ? "removed" : "being deleted"}
                </span>
              ) : (
                <span className="muted">—</span>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
