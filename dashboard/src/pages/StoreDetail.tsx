// One store (route "/stores/:id"): its status, conditions and events timeline, live while
// it changes, plus the actions a person can take (change plan, retry, delete). A store made
// from a Kubernetes Store object says which object owns it: its actions stay offered, and
// the API's 409 (naming the object) is shown in its own words when one is tried.
import { useQuery } from "@tanstack/react-query";
import { useEffect, useId, useState, type FormEvent } from "react";
import { ApiError } from "../api/client";
import {
  enginesQuery,
  plansQuery,
  storeEventsQuery,
  storeQuery,
  useChangePlan,
  useDeleteStore,
  useResumeStore,
  useRetryStore,
  useSuspendStore,
  useUpgradeStore,
} from "../api/queries";
import type { PlanName, Store } from "../api/types";
import { Conditions } from "../components/Conditions";
import { ConfirmDeleteDialog } from "../components/ConfirmDeleteDialog";
import { OrderCheck, runtimeWords } from "../components/OrderCheck";
import { IN_PROGRESS, PhaseBadge } from "../components/PhaseBadge";
import { Empty, ErrorState, Loading, StaleBanner, errorMessage } from "../components/States";
import { RelativeTime } from "../components/Time";
import { useTitle } from "../components/useTitle";
import { Timeline } from "../components/Timeline";
import { Link } from "../router";
import { Logs } from "../components/Logs";
import { Resources } from "../components/Resources";
import { Backups, Domains } from "../components/DomainsAndBackups";

export function StoreDetail({ id }: { id: string }) {
  const store = useQuery(storeQuery(id));
  useTitle(store.data?.name ?? "Store");

  if (store.isPending) return <Loading label="Loading store…" />;
  if (store.isError && !store.data) {
    const notFound = store.error instanceof ApiError && store.error.status === 404;
    return (
      <section>
        <p className="crumbs">
          <Link to="/stores">← Stores</Link>
        </p>
        <ErrorState
          title={notFound ? "No such store" : "Could not load this store"}
          error={store.error}
          onRetry={notFound ? undefined : () => void store.refetch()}
        />
      </section>
    );
  }
  return <StoreView store={store.data} refreshError={store.isError ? store.error : null} />;
}

function StoreView({ store, refreshError }: { store: Store; refreshError: unknown }) {
  const headingId = useId();
  const engines = useQuery(enginesQuery());
  const engineName = engines.data?.find((e) => e.name === store.engine)?.display_name ?? store.engine;
  const gone = store.phase === "Deleting" || store.phase === "Deleted";
  return (
    <section aria-labelledby={headingId} className="detail">
      <p className="crumbs">
        <Link to="/stores">← Stores</Link>
      </p>
      <div className="page-head">
        <h1 id={headingId}>
          {store.name} <PhaseBadge phase={store.phase} />
        </h1>
      </div>
      {/* Announces phase changes to screen readers as they arrive by polling. */}
      <p className="visually-hidden" aria-live="polite">
        {`${store.name} is ${store.phase}`}
      </p>
      {refreshError != null && <StaleBanner error={refreshError} />}

      {store.last_error && (
        <div className="problem" role="status">
          <p className="problem-title">Last error</p>
          <p className="problem-detail">{store.last_error}</p>
        </div>
      )}

      {store.managed_by && <ManagedBy owner={store.managed_by} />}
      <Actions store={store} disabled={gone} />
      {!gone && <EngineVersion store={store} />}

      <div className="detail-grid">
        <div className="card overview">
          <h2>Overview</h2>
          <dl className="facts">
            <div className="fact-wide">
              <dt>URL</dt>
              <dd>
                {store.url && store.phase === "Deleted" ? (
                  <span className="muted break">{store.url} (removed)</span>
                ) : store.url && store.phase === "Deleting" ? (
                  // Not a link: the shop is being torn down, nothing live answers there.
                  <span className="muted break">{store.url} (being deleted)</span>
                ) : store.url ? (
                  <a href={store.url} target="_blank" rel="noreferrer" className="break">
                    {store.url}
                  </a>
                ) : (
                  <span className="muted">not yet assigned</span>
                )}
              </dd>
            </div>
            <div>
              <dt>ID</dt>
              <dd className="mono">{store.id}</dd>
            </div>
            <div>
              <dt>Namespace</dt>
              <dd className="mono">{store.namespace}</dd>
            </div>
            <div>
              <dt>Engine</dt>
              <dd>{engineName}</dd>
            </div>
            <div>
              <dt>Plan</dt>
              <dd>{store.plan}</dd>
            </div>
            {store.managed_by && (
              <div>
                <dt>Managed by</dt>
                <dd className="mono" data-managed-by={store.managed_by}>
                  {store.managed_by}
                </dd>
              </div>
            )}
            <div>
              <dt>Runtime</dt>
              <dd data-runtime={store.workload_runtime ?? ""}>{runtimeWords(store.workload_runtime)}</dd>
            </div>
            <div>
              <dt>Generation</dt>
              <dd>
                {store.generation} <span className="muted">(observed {store.observed_generation})</span>
                {store.observed_generation < store.generation && IN_PROGRESS.has(store.phase) && (
                  <span className="pending-note"> — change in progress</span>
                )}
              </dd>
            </div>
            <div>
              <dt>Created</dt>
              <dd>
                <RelativeTime iso={store.created_at} />
              </dd>
            </div>
            <div>
              <dt>Updated</dt>
              <dd>
                <RelativeTime iso={store.updated_at} />
              </dd>
            </div>
            {store.deleted_at && (
              <div>
                <dt>Deleted</dt>
                <dd>
                  <RelativeTime iso={store.deleted_at} />
                </dd>
              </div>
            )}
          </dl>
        </div>

        <div className="card">
          <h2>Conditions</h2>
          {store.conditions.length === 0 ? (
            <p className="muted">No conditions reported yet.</p>
          ) : (
            <Conditions conditions={store.conditions} />
          )}
        </div>
      </div>

      <OrderCheck store={store} />

      {!gone && (
        <div className="detail-grid">
          <Domains store={store} />
          <Backups store={store} />
        </div>
      )}

      {store.phase !== "Deleted" && <StoreObjectsAndLogs id={store.id} />}

      <EventsCard id={store.id} />
    </section>
  );
}

/** The Kubernetes object that owns the store (``Store <namespace>/<name>``): changes go
 * through it, and the API refuses them here with a 409 that the actions show verbatim. */
function ManagedBy({ owner }: { owner: string }) {
  const [, ref] = owner.split(" ");
  return (
    <div className="notice managed-by" role="note" data-owner={owner}>
      <p>
        <strong>Managed by the Kubernetes object {owner}.</strong> Changes go through that
        object: edit its manifest and <span className="mono">kubectl apply</span> it (or commit it
        to the repository your GitOps tool applies). The API refuses changes made here (plan,
        engine version, domains, suspend, retry, delete) and the actions below show its answer;
        backups and order checks still run.
      </p>
      {ref && (
        <p className="muted mono">
          kubectl get store {ref.split("/")[1]} -n {ref.split("/")[0]} -o yaml
        </p>
      )}
    </div>
  );
}

/** The engine version: what the store asks for, what it runs, and an upgrade to one the
 * catalogue allows from here (the API's 422 names the allowed ones when it refuses). */
function EngineVersion({ store }: { store: Store }) {
  const engines = useQuery(enginesQuery());
  const upgrade = useUpgradeStore(store.id);
  const asked = store.engine_version;
  const versions = engines.data?.find((e) => e.name === store.engine)?.versions ?? [];
  const targets = versions.filter((v) => v.version !== asked && v.upgrades_from.includes(asked));
  const [to, setTo] = useState("");
  const selectId = useId();
  const chosen = to || targets[0]?.version || "";
  return (
    <div className="card engine-version">
      <h2 className="visually-hidden">Engine version</h2>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (chosen) upgrade.mutate(chosen);
        }}
      >
        <span>
          Engine version <strong data-engine-version={asked}>{asked}</strong>
          {store.running_engine_version && store.running_engine_version !== asked ? (
            <span className="pending-note"> (running {store.running_engine_version})</span>
          ) : null}
        </span>
        <label htmlFor={selectId}>Upgrade to</label>
        <select id={selectId} value={chosen} onChange={(e) => setTo(e.target.value)} disabled={targets.length === 0}>
          {targets.length === 0 && <option value="">no newer version</option>}
          {targets.map((v) => (
            <option key={v.version} value={v.version}>
              {v.version}
            </option>
          ))}
        </select>
        <button type="submit" className="btn" disabled={!chosen || upgrade.isPending}>
          {upgrade.isPending ? "Upgrading…" : "Upgrade"}
        </button>
      </form>
      {upgrade.error && (
        <p className="problem-detail" role="alert">
          {errorMessage(upgrade.error)}
        </p>
      )}
    </div>
  );
}

function StoreObjectsAndLogs({ id }: { id: string }) {
  const [pod, setPod] = useState<string | null>(null);
  return (
    <>
      <Resources
        storeId={id}
        onLogs={(name) => {
          setPod(name);
          document.getElementById(`logs-${id}`)?.scrollIntoView?.({ block: "start" });
        }}
      />
      <div id={`logs-${id}`}>
        <Logs storeId={id} pod={pod} onPod={(name) => setPod(name || null)} />
      </div>
    </>
  );
}

function EventsCard({ id }: { id: string }) {
  const events = useQuery(storeEventsQuery(id));
  return (
    <div className="card">
      <h2>
        Events{" "}
        {events.data && <span className="count">{events.data.count}</span>}
      </h2>
      {events.isPending ? (
        <Loading label="Loading events…" />
      ) : events.isError && !events.data ? (
        <ErrorState title="Could not load events" error={events.error} onRetry={() => void events.refetch()} />
      ) : events.data.items.length === 0 ? (
        <Empty title="No events yet." />
      ) : (
        <>
          {events.isError && <StaleBanner error={events.error} />}
          <Timeline events={events.data.items} />
        </>
      )}
    </div>
  );
}

/** Why each action is unavailable right now (undefined: it is available). Shown as the
 * control's hover text and read as its accessible description. */
export function unavailableReasons(
  store: Store,
  { busy, plansLoaded, samePlan }: { busy: boolean; plansLoaded: boolean; samePlan: boolean },
) {
  const gone =
    store.phase === "Deleted"
      ? "The store is deleted: nothing about it can change any more."
      : store.phase === "Deleting"
        ? "The store is being deleted: it can no longer change."
        : undefined;
  const wait = busy ? "Wait: another action on this store is in progress." : undefined;
  const plan = gone ?? wait ?? (plansLoaded ? undefined : "Loading the plans…");
  return {
    gone,
    plan,
    changePlan: plan ?? (samePlan ? `The store is already on plan ${store.plan}; choose another plan first.` : undefined),
    remove:
      store.phase === "Deleted"
        ? "The store is already deleted."
        : store.phase === "Deleting"
          ? "The store is already being deleted."
          : wait,
  };
}

function Actions({ store, disabled }: { store: Store; disabled: boolean }) {
  const plans = useQuery(plansQuery());
  const changePlan = useChangePlan(store.id);
  const retry = useRetryStore(store.id);
  const remove = useDeleteStore(store.id);
  const suspend = useSuspendStore(store.id);
  const resume = useResumeStore(store.id);
  const [plan, setPlan] = useState<PlanName>(store.plan);
  const [confirming, setConfirming] = useState(false);
  const planId = useId();
  const busy = changePlan.isPending || retry.isPending || remove.isPending || suspend.isPending || resume.isPending;
  const why = unavailableReasons(store, { busy, plansLoaded: Boolean(plans.data), samePlan: plan === store.plan });
  const whyId = { plan: useId(), changePlan: useId(), remove: useId() };

  // Follow the server's plan when it changes underneath (another tab, the CLI).
  useEffect(() => setPlan(store.plan), [store.plan]);

  function submitPlan(e: FormEvent) {
    e.preventDefault();
    if (plan !== store.plan) changePlan.mutate(plan);
  }

  const actionError = changePlan.error ?? retry.error ?? suspend.error ?? resume.error;
  return (
    <div className="actions card">
      <h2 className="visually-hidden">Actions</h2>
      <form className="plan-form" onSubmit={submitPlan}>
        <label htmlFor={planId}>Plan</label>
        <select
          id={planId}
          value={plan}
          disabled={disabled || busy || !plans.data}
          title={why.plan}
          aria-describedby={why.plan ? whyId.plan : undefined}
          onChange={(e) => {
            setPlan(e.target.value as PlanName);
            changePlan.reset();
          }}
        >
          {(plans.data ?? [{ name: store.plan }]).map((p) => (
            <option key={p.name} value={p.name}>
              {p.name}
            </option>
          ))}
        </select>
        <button
          type="submit"
          className="btn"
          disabled={disabled || busy || plan === store.plan}
          title={why.changePlan}
          aria-describedby={why.changePlan ? whyId.changePlan : undefined}
        >
          {changePlan.isPending ? "Changing plan…" : "Change plan"}
        </button>
        <Why id={whyId.plan} text={why.plan} />
        <Why id={whyId.changePlan} text={why.changePlan} />
      </form>
      <div className="action-buttons">
        {store.phase === "Failed" && (
          <button
            type="button"
            className="btn"
            disabled={busy}
            onClick={() => {
              suspend.reset();
              resume.reset();
              retry.mutate();
            }}
          >
            {retry.isPending ? "Retrying…" : "Retry"}
          </button>
        )}
        {store.phase === "Suspended" ? (
          <button
            type="button"
            className="btn"
            disabled={busy}
            onClick={() => {
              retry.reset();
              resume.mutate();
            }}
          >
            {resume.isPending ? "Resuming…" : "Resume"}
          </button>
        ) : (
          <button
            type="button"
            className="btn"
            disabled={disabled || busy}
            title="Scale the store to zero and keep its data; Resume brings it back"
            onClick={() => {
              retry.reset();
              suspend.mutate();
            }}
          >
            {suspend.isPending ? "Suspending…" : "Suspend"}
          </button>
        )}
        <button
          type="button"
          className="btn btn-danger"
          disabled={disabled || busy}
          title={why.remove}
          aria-describedby={why.remove ? whyId.remove : undefined}
          onClick={() => {
            remove.reset();
            setConfirming(true);
          }}
        >
          Delete…
        </button>
        <Why id={whyId.remove} text={why.remove} />
      </div>
      {why.gone && <p className="unavailable">{why.gone}</p>}
      {actionError && (
        <p className="problem-detail action-error" role="alert">
          {errorMessage(actionError)}
        </p>
      )}
      {confirming && (
        <ConfirmDeleteDialog
          storeName={store.name}
          pending={remove.isPending}
          error={remove.error ? errorMessage(remove.error) : undefined}
          onCancel={() => setConfirming(false)}
          onConfirm={() => remove.mutate(undefined, { onSuccess: () => setConfirming(false) })}
        />
      )}
    </div>
  );
}

/** The words behind a disabled control's aria-describedby (hidden: the title shows them). */
function Why({ id, text }: { id: string; text: string | undefined }) {
  return text ? (
    <span id={id} className="visually-hidden">
      {text}
    </span>
  ) : null;
}
