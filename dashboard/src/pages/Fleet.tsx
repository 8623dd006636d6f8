// The fleet overview (route "/", the landing page): counts by phase, engine, plan and engine
// version, how long the newest stores took to provision, the failing stores and the newest
// events. An admin sees the whole fleet, a member its own stores (the API decides). Every
// figure comes from GET /api/v1/fleet, computed by the database.
import { useQuery } from "@tanstack/react-query";
import { fleetQuery } from "../api/queries";
import type { Fleet as FleetData } from "../api/types";
import { PhaseBadge } from "../components/PhaseBadge";
import { ErrorState, Loading, StaleBanner } from "../components/States";
import { RelativeTime } from "../components/Time";
import { useTitle } from "../components/useTitle";
import { Link, storePath } from "../router";

const PHASE_ORDER = ["Pending", "Provisioning", "Ready", "Updating", "Suspended", "Restoring", "Failed", "Deleting", "Deleted"];

export function Fleet() {
  useTitle("Fleet");
  const fleet = useQuery(fleetQuery());
  return (
    <section aria-labelledby="fleet-heading">
      <div className="page-head">
        <h1 id="fleet-heading">Fleet</h1>
        <Link to="/stores" className="btn btn-quiet">
          All stores
        </Link>
      </div>
      {fleet.isPending ? (
        <Loading label="Loading the fleet…" />
      ) : fleet.isError && !fleet.data ? (
        <ErrorState title="Could not load the fleet" error={fleet.error} onRetry={() => void fleet.refetch()} />
      ) : (
        <>
          {fleet.isError && <StaleBanner error={fleet.error} />}
          <FleetView fleet={fleet.data} />
        </>
      )}
    </section>
  );
}

function sorted(counts: Record<string, number>, order: string[] = []) {
  return Object.entries(counts).sort(([a], [b]) => {
    const ia = order.indexOf(a);
    const ib = order.indexOf(b);
    return ia >= 0 && ib >= 0 ? ia - ib : ia >= 0 ? -1 : ib >= 0 ? 1 : a.localeCompare(b);
  });
}

function Counts({ title, counts, dimension, order }: { title: string; counts: Record<string, number>; dimension: string; order?: string[] }) {
  const rows = sorted(counts, order);
  return (
    <div className="card counts">
      <h2>{title}</h2>
      {rows.length === 0 ? (
        <p className="muted">None.</p>
      ) : (
        <ul className="count-list">
          {rows.map(([key, n]) => (
            <li key={key} data-count={`${dimension}:${key}`}>
              {dimension === "phase" ? (
                <Link to={`/stores?phase=${encodeURIComponent(key)}`} className="count-key">
                  <PhaseBadge phase={key as never} />
                </Link>
              ) : (
                <span className="count-key">{key}</span>
              )}
              <span className="count-n">{n}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function seconds(s: number | null | undefined) {
  if (s == null) return "–";
  return s < 120 ? `${s.toFixed(s < 10 ? 1 : 0)} s` : `${(s / 60).toFixed(1)} min`;
}

function Durations({ durations }: { durations: FleetData["durations"] }) {
  const max = Math.max(1, ...durations.buckets.map((b) => b.count));
  let lower = 0;
  return (
    <div className="card durations">
      <h2>Provisioning time</h2>
      <p className="muted">
        From Created to the first Ready, over the {durations.sample} newest stores that got there.
      </p>
      <dl className="percentiles">
        <div data-percentile="p50">
          <dt>p50</dt>
          <dd>{seconds(durations.p50)}</dd>
        </div>
        <div data-percentile="p90">
          <dt>p90</dt>
          <dd>{seconds(durations.p90)}</dd>
        </div>
        <div data-percentile="p99">
          <dt>p99</dt>
          <dd>{seconds(durations.p99)}</dd>
        </div>
        <div>
          <dt>max</dt>
          <dd>{seconds(durations.max)}</dd>
        </div>
      </dl>
      <ol className="histogram" aria-label="Stores per provisioning time">
        {durations.buckets.map((b) => {
          const label = b.upper_seconds == null ? `> ${lower} s` : `${lower}–${b.upper_seconds} s`;
          lower = b.upper_seconds ?? lower;
          return (
            <li key={label} title={`${b.count} stores: ${label}`}>
              <span className="bar" style={{ height: `${(100 * b.count) / max}%` }} />
              <span className="bar-n">{b.count}</span>
              <span className="bar-label">{label}</span>
            </li>
          );
        })}
      </ol>
    </div>
  );
}

function FleetView({ fleet }: { fleet: FleetData }) {
  return (
    <>
      <p className="fleet-total">
        <strong data-fleet-total={fleet.total}>{fleet.total}</strong> live {fleet.total === 1 ? "store" : "stores"}
      </p>
      <div className="fleet-grid">
        <Counts title="By phase" counts={fleet.by_phase} dimension="phase" order={PHASE_ORDER} />
        <Counts title="By engine" counts={fleet.by_engine} dimension="engine" />
        <Counts title="By plan" counts={fleet.by_plan} dimension="plan" order={["small", "medium", "large"]} />
        {Object.keys(fleet.by_engine_version).length > 0 && (
          <Counts title="By engine version" counts={fleet.by_engine_version} dimension="engine_version" />
        )}
      </div>
      <div className="detail-grid">
        <Durations durations={fleet.durations} />
        <div className="card failing">
          <h2>
            Failing <span className="count">{fleet.failing.length}</span>
          </h2>
          {fleet.failing.length === 0 ? (
            <p className="muted">No failed stores.</p>
          ) : (
            <ul className="failing-list">
              {fleet.failing.map((f) => (
                <li key={f.id} data-failing={f.name}>
                  <Link to={storePath(f.id)}>{f.name}</Link> <span className="event-reason">{f.reason}</span>{" "}
                  <span className="muted">
                    <RelativeTime iso={f.since} />
                  </span>
                  <p className="problem-detail">{f.message}</p>
                </li>
              ))}
            </ul>
          )}
        </div>
      </div>
      <div className="card">
        <h2>Recent events</h2>
        {fleet.recent_events.length === 0 ? (
          <p className="muted">Nothing happened yet.</p>
        ) : (
          <ol className="timeline">
            {fleet.recent_events.map((e) => (
              <li key={e.id} className={e.type === "Warning" ? "event event-warning" : "event"} data-reason={e.reason}>
                <div className="event-head">
                  <Link to={storePath(e.store_id)}>{e.store_name}</Link>
                  <span className="event-reason">{e.reason}</span>
                  <span className="event-time">
                    <RelativeTime iso={e.time} />
                  </span>
                </div>
                <p className="event-message">{e.message}</p>
              </li>
            ))}
          </ol>
        )}
      </div>
    </>
  );
}
