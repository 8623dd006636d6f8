// A store's live resource tree (GET .../objects): the namespace, then each object with its
// health (Healthy / Progressing / Degraded / Missing, by the reconciler's readiness rules), a
// one-line status and, where the reconciler restored it, when. Pods hang under the workload
// that owns them. Clicking an object shows its live YAML, read-only (Secret values never
// reach the browser: the API sends "(hidden)"). "Logs" on a pod opens it in the logs card.
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { objectYamlQuery, storeObjectsQuery } from "../api/queries";
import type { StoreObject } from "../api/types";
import { ErrorState, Loading } from "./States";
import { RelativeTime } from "./Time";

const HEALTH_GLYPH: Record<string, string> = { Healthy: "✓", Progressing: "◔", Degraded: "✕", Missing: "?" };

export function HealthBadge({ health }: { health: string }) {
  return (
    <span className={`health health-${health.toLowerCase()}`} data-health={health}>
      <span aria-hidden="true">{HEALTH_GLYPH[health] ?? "•"} </span>
      {health}
    </span>
  );
}

export function Resources({ storeId, onLogs }: { storeId: string; onLogs: (pod: string) => void }) {
  const tree = useQuery(storeObjectsQuery(storeId));
  const [selected, setSelected] = useState<{ kind: string; name: string } | null>(null);
  return (
    <div className="card resources">
      <h2>
        Resources {tree.data && <span className="count">{tree.data.count}</span>}
      </h2>
      {tree.isPending ? (
        <Loading label="Reading the store's objects…" />
      ) : tree.isError && !tree.data ? (
        <ErrorState title="Could not read the store's objects" error={tree.error} onRetry={() => void tree.refetch()} />
      ) : (
        <div className="resources-body">
          <ul className="tree" aria-label="The store's objects">
            {tree.data.items
              .filter((o) => o.kind !== "Pod" || !o.parent)
              .map((o) => (
                <TreeItem
                  key={`${o.kind}/${o.name}`}
                  object={o}
                  pods={tree.data.items.filter((p) => p.kind === "Pod" && p.parent === `${o.kind}/${o.name}`)}
                  selected={selected}
                  onSelect={setSelected}
                  onLogs={onLogs}
                />
              ))}
          </ul>
          {selected && <YamlView storeId={storeId} kind={selected.kind} name={selected.name} onClose={() => setSelected(null)} />}
        </div>
      )}
    </div>
  );
}

function TreeItem({
  object,
  pods,
  selected,
  onSelect,
  onLogs,
}: {
  object: StoreObject;
  pods: StoreObject[];
  selected: { kind: string; name: string } | null;
  onSelect: (s: { kind: string; name: string }) => void;
  onLogs: (pod: string) => void;
}) {
  const isSelected = selected?.kind === object.kind && selected.name === object.name;
  return (
    <li className="tree-item" data-object={`${object.kind}/${object.name}`} data-health={object.health}>
      <div className="tree-row">
        <span className="kind">{object.kind}</span>
        {object.health === "Missing" ? (
          <span className="mono">{object.name}</span>
        ) : (
          <button
            type="button"
            className="btn-link mono"
            aria-pressed={isSelected}
            onClick={() => onSelect({ kind: object.kind, name: object.name })}
          >
            {object.name}
          </button>
        )}
        <HealthBadge health={object.health} />
        <span className="object-status">{object.status}</span>
        {object.kind === "Pod" && (
          <button type="button" className="btn btn-quiet btn-small" onClick={() => onLogs(object.name)}>
            Logs
          </button>
        )}
        {object.drift_corrected_at && (
          <span className="drift" title={object.drift_message ?? ""}>
            drift corrected <RelativeTime iso={object.drift_corrected_at} />
          </span>
        )}
      </div>
      {pods.length > 0 && (
        <ul className="tree tree-children">
          {pods.map((p) => (
            <TreeItem key={p.name} object={p} pods={[]} selected={selected} onSelect={onSelect} onLogs={onLogs} />
          ))}
        </ul>
      )}
    </li>
  );
}

function YamlView({ storeId, kind, name, onClose }: { storeId: string; kind: string; name: string; onClose: () => void }) {
  const yaml = useQuery(objectYamlQuery(storeId, kind, name));
  return (
    <div className="yaml-view" role="region" aria-label={`${kind} ${name} YAML`}>
      <div className="yaml-head">
        <h3>
          {kind} <span className="mono">{name}</span>
        </h3>
        <span className="muted">live, read-only{kind === "Secret" ? "; values are never sent" : ""}</span>
        <button type="button" className="btn btn-quiet btn-small" onClick={onClose}>
          Close
        </button>
      </div>
      {yaml.isPending ? (
        <Loading label="Reading the object…" />
      ) : yaml.isError ? (
        <ErrorState title="Could not read the object" error={yaml.error} />
      ) : (
        <pre className="yaml" data-yaml={`${kind}/${name}`}>
          {yaml.data.yaml}
        </pre>
      )}
    </div>
  );
}
