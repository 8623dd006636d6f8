// The store page's order check: a "Run check" action that places a real guest order in the
// store (through the API's checks endpoint) and the newest check's outcome, live while it
// runs. The server decides whether there is anything real to check; the button is greyed
// out with the reason when the dashboard can already tell (simulated, not Ready, deleting),
// and a refusal the server still sends (409) is shown verbatim.
import { useQuery } from "@tanstack/react-query";
import { useId } from "react";
import { storeChecksQuery, useRunCheck } from "../api/queries";
import type { SmokeCheck, Store } from "../api/types";
import { errorMessage } from "./States";
import { RelativeTime } from "./Time";

/** Why an order check cannot run now (undefined: it can). Mirrors the API's 409 reasons. */
export function checkUnavailable(store: Store, running: boolean): string | undefined {
  if (store.phase === "Deleted" || store.phase === "Deleting")
    return "The store is being deleted or is deleted: there is no store to check.";
  if (store.workload_runtime === "simulated")
    return "Nothing runs behind this store (its workloads are simulated): there is no real shop to place an order in.";
  if (store.phase !== "Ready") return `The store is ${store.phase}, not Ready: there is no working store to check yet.`;
  if (running) return "A check of this store is running; wait for its outcome.";
  return undefined;
}

function Outcome({ check }: { check: SmokeCheck }) {
  if (check.status === "Running")
    return (
      <p className="check-outcome check-running" role="status">
        <span className="spinner" aria-hidden="true" /> Running{check.step ? `: ${check.step}` : ""}…
      </p>
    );
  if (check.status === "Passed")
    return (
      <div className="check-outcome check-passed" role="status">
        <p>
          <strong>Passed</strong> — order <span className="mono">{check.order_id}</span>
        </p>
        <p className="muted">{check.message}</p>
      </div>
    );
  return (
    <div className="check-outcome check-failed" role="alert">
      <p>
        <strong>Failed</strong> at step <span className="mono">{check.step}</span>
      </p>
      <p className="problem-detail">{check.message}</p>
    </div>
  );
}

export function OrderCheck({ store }: { store: Store }) {
  const checks = useQuery(storeChecksQuery(store.id));
  const run = useRunCheck(store.id);
  const latest = checks.data?.items[0];
  const running = latest?.status === "Running" || run.isPending;
  const why = checkUnavailable(store, running);
  const whyId = useId();
  return (
    <div className="card order-check">
      <h2>Order check</h2>
      <p className="muted">
        Places a real guest order through the store's own API and finds it again in its admin.
        The order is real: cancel it in the store's admin afterwards.
      </p>
      <button
        type="button"
        className="btn"
        disabled={why !== undefined}
        title={why}
        aria-describedby={why ? whyId : undefined}
        onClick={() => run.mutate()}
      >
        {run.isPending ? "Starting check…" : "Run check"}
      </button>
      {why && (
        <span id={whyId} className="visually-hidden">
          {why}
        </span>
      )}
      {run.error && (
        <p className="problem-detail action-error" role="alert">
          {errorMessage(run.error)}
        </p>
      )}
      {latest && (
        <>
          <Outcome check={latest} />
          <p className="muted check-when">
            {latest.id}, asked by {latest.requested_by} <RelativeTime iso={latest.started_at} />
          </p>
        </>
      )}
    </div>
  );
}

const RUNTIME_WORDS: Record<string, string> = {
  cluster: "cluster — a real Kubernetes cluster",
  local: "local — processes on this machine",
  simulated: "simulated — nothing runs behind it",
};

/** What runs the store's workloads, in words (null: not known until it first answered). */
export function runtimeWords(runtime: Store["workload_runtime"]): string {
  return runtime ? (RUNTIME_WORDS[runtime] ?? runtime) : "not known yet";
}
