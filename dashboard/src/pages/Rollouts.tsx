// Rollouts (route "/rollouts", admins): move every selected store of an engine to a version in
// waves. The list shows each rollout's phase, message, waves (done / failed of each) and its
// stores; Pause, Resume and Abort act on it, the API's refusals shown in its words.
import { useQuery } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { ApiError } from "../api/client";
import { enginesQuery, rolloutsQuery, useCreateRollout, useRolloutAction } from "../api/queries";
import type { EngineName, Rollout } from "../api/types";
import { ErrorState, Loading, errorMessage } from "../components/States";
import { RelativeTime } from "../components/Time";
import { useTitle } from "../components/useTitle";
import { Link, storePath } from "../router";

export function Rollouts() {
  useTitle("Rollouts");
  const rollouts = useQuery(rolloutsQuery());
  return (
    <section aria-labelledby="rollouts-heading">
      <div className="page-head">
        <h1 id="rollouts-heading">Rollouts</h1>
      </div>
      <CreateRollout />
      {rollouts.isPending ? (
        <Loading label="Loading rollouts…" />
      ) : rollouts.isError ? (
        <ErrorState
          title={rollouts.error instanceof ApiError && rollouts.error.status === 404 ? "Admins only" : "Could not load rollouts"}
          error={rollouts.error}
        />
      ) : rollouts.data.items.length === 0 ? (
        <p className="muted">No rollouts yet.</p>
      ) : (
        rollouts.data.items.map((r) => <RolloutCard key={r.id} rollout={r} />)
      )}
    </section>
  );
}

function CreateRollout() {
  const engines = useQuery(enginesQuery());
  const create = useCreateRollout();
  const [engine, setEngine] = useState<EngineName>("medusa");
  const [version, setVersion] = useState("");
  const [waves, setWaves] = useState("1, 50%, 100%");
  const [maxFailures, setMaxFailures] = useState("0");
  const [labels, setLabels] = useState("");
  const ids = { engine: useId(), version: useId(), waves: useId(), max: useId(), labels: useId() };
  const versions = engines.data?.find((e) => e.name === engine)?.versions ?? [];
  function submit(e: FormEvent) {
    e.preventDefault();
    const targets = waves
      .split(",")
      .map((w) => w.trim())
      .filter(Boolean)
      .map((w) => (/^\d+$/.test(w) ? Number(w) : w));
    create.mutate({
      engine,
      to_version: version || versions[0]?.version || "",
      selector: { labels: parseLabels(labels) },
      waves: targets,
      max_failures: Number(maxFailures),
      gate: "ready",
    });
  }
  return (
    <form className="card" onSubmit={submit} aria-label="Start a rollout">
      <h2>Start a rollout</h2>
      <div className="inline-form">
        <label htmlFor={ids.engine}>Engine</label>
        <select id={ids.engine} value={engine} onChange={(e) => (setEngine(e.target.value as EngineName), setVersion(""))}>
          {(engines.data ?? []).map((e) => (
            <option key={e.name} value={e.name}>
              {e.display_name}
            </option>
          ))}
        </select>
        <label htmlFor={ids.version}>To version</label>
        <select id={ids.version} value={version || versions[0]?.version || ""} onChange={(e) => setVersion(e.target.value)}>
          {versions.map((v) => (
            <option key={v.version} value={v.version}>
              {v.version}
              {v.default ? " (default)" : ""}
            </option>
          ))}
        </select>
        <label htmlFor={ids.labels}>Stores labelled</label>
        <input
          id={ids.labels}
          value={labels}
          placeholder="every store of the engine"
          onChange={(e) => setLabels(e.target.value)}
          title="key=value pairs, comma-separated: only stores with all of them (blank: every live store of the engine)"
        />
        <label htmlFor={ids.waves}>Waves</label>
        <input id={ids.waves} value={waves} onChange={(e) => setWaves(e.target.value)} title="Cumulative: a count or a percentage per wave, ending with 100%" />
        <label htmlFor={ids.max}>Max failures</label>
        <input id={ids.max} type="number" min={0} value={maxFailures} onChange={(e) => setMaxFailures(e.target.value)} />
        <button type="submit" className="btn" disabled={create.isPending}>
          {create.isPending ? "Starting…" : "Start rollout"}
        </button>
      </div>
      {create.error && (
        <p className="problem-detail" role="alert">
          {errorMessage(create.error)}
        </p>
      )}
    </form>
  );
}

/** "tier=gold, team=retail" as the selector's labels; the API checks the keys and values
 * (a pair without "=" is sent as a key with an empty value, which the API accepts). */
export function parseLabels(text: string): Record<string, string> {
  const pairs = text
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => {
      const at = p.indexOf("=");
      return at < 0 ? [p, ""] : [p.slice(0, at).trim(), p.slice(at + 1).trim()];
    });
  return Object.fromEntries(pairs);
}

function RolloutCard({ rollout: r }: { rollout: Rollout }) {
  const pause = useRolloutAction("pause");
  const resume = useRolloutAction("resume");
  const abort = useRolloutAction("abort");
  const busy = pause.isPending || resume.isPending || abort.isPending;
  const over = r.phase === "Succeeded" || r.phase === "Aborted";
  const error = pause.error ?? resume.error ?? abort.error;
  return (
    <div className="card rollout" data-rollout={r.id} data-rollout-phase={r.phase}>
      <h2>
        {r.engine} → {r.to_version} <span className="tag">{r.phase}</span>
      </h2>
      <p>
        {r.message} <span className="muted">· by {r.created_by}, <RelativeTime iso={r.created_at} /></span>
      </p>
      <ol className="waves">
        {r.waves.map((w, i) => (
          <li key={i} className={i + 1 === r.current_wave && !over ? "wave wave-current" : "wave"}>
            <strong>Wave {i + 1}</strong>: {w.done}/{w.stores.length} done{w.failed ? `, ${w.failed} failed` : ""}
            <progress max={w.stores.length || 1} value={w.done} aria-label={`wave ${i + 1} progress`} />
          </li>
        ))}
      </ol>
      <ul className="rollout-stores">
        {r.stores.map((s) => (
          <li key={s.store_id}>
            <Link to={storePath(s.store_id)}>{s.name}</Link> <span className="muted">wave {s.wave}, from {s.from_version}:</span>{" "}
            {s.status}
            {s.cause ? <span className="problem-detail"> — {s.cause}</span> : null}
          </li>
        ))}
      </ul>
      {!over && (
        <div className="action-buttons">
          {r.phase === "Running" ? (
            <button type="button" className="btn" disabled={busy} onClick={() => pause.mutate(r.id)}>
              Pause
            </button>
          ) : (
            <button type="button" className="btn" disabled={busy} onClick={() => resume.mutate(r.id)}>
              Resume
            </button>
          )}
          <button type="button" className="btn btn-danger" disabled={busy} onClick={() => abort.mutate(r.id)}>
            Abort
          </button>
        </div>
      )}
      {error && (
        <p className="problem-detail" role="alert">
          {errorMessage(error)}
        </p>
      )}
    </div>
  );
}
