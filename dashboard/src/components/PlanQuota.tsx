// A plan's quota in words a store owner reads: CPU, memory, storage, pods.
import type { Plan } from "../api/types";

export function PlanQuota({ plan }: { plan: Plan }) {
  const q = plan.quota;
  return (
    <dl className="quota">
      <div>
        <dt>CPU</dt>
        <dd>
          {q.requests_cpu} (max {q.limits_cpu})
        </dd>
      </div>
      <div>
        <dt>Memory</dt>
        <dd>
          {q.requests_memory} (max {q.limits_memory})
        </dd>
      </div>
      <div>
        <dt>Storage</dt>
        <dd>
          {q.requests_storage} in {q.persistentvolumeclaims} volumes
        </dd>
      </div>
      <div>
        <dt>Pods</dt>
        <dd>{q.pods}</dd>
      </div>
    </dl>
  );
}
