// A pod's logs (GET .../logs): pick the pod and the container, how many lines, and Follow to
// refresh every two seconds. The API's answer when it cannot (no such pod, a container not
// started yet, no cluster) is shown in its own words.
import { useQuery } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState } from "react";
import { logsQuery, storeObjectsQuery } from "../api/queries";
import { ErrorState, Loading } from "./States";

const TAILS = [100, 500, 2000];

export function Logs({ storeId, pod, onPod }: { storeId: string; pod: string | null; onPod: (pod: string) => void }) {
  const tree = useQuery(storeObjectsQuery(storeId));
  const pods = (tree.data?.items ?? []).filter((o) => o.kind === "Pod");
  const [container, setContainer] = useState<string>("");
  const [tail, setTail] = useState(500);
  const [follow, setFollow] = useState(false);
  const ids = { pod: useId(), container: useId(), tail: useId() };
  const current = pod ?? "";
  const spec = pods.find((p) => p.name === current);
  // Init containers first, as the API lists them; the main container is the usual choice.
  const all = spec?.containers ?? [];
  const containers = [...all].sort((a, b) => Number(b === all.at(-1)) - Number(a === all.at(-1)));
  useEffect(() => setContainer(""), [current]);
  const log = useQuery({
    ...logsQuery(storeId, current, container || containers[0], tail, follow),
    enabled: current !== "" && containers.length > 0,
  });
  const pre = useRef<HTMLPreElement>(null);
  useEffect(() => {
    if (follow && pre.current) pre.current.scrollTop = pre.current.scrollHeight;
  }, [log.data, follow]);
  return (
    <div className="card logs">
      <h2>Logs</h2>
      <div className="inline-form">
        <label htmlFor={ids.pod}>Pod</label>
        <select id={ids.pod} value={current} onChange={(e) => onPod(e.target.value)}>
          <option value="">choose a pod…</option>
          {pods.map((p) => (
            <option key={p.name} value={p.name}>
              {p.name}
            </option>
          ))}
        </select>
        <label htmlFor={ids.container}>Container</label>
        <select id={ids.container} value={container || containers[0] || ""} onChange={(e) => setContainer(e.target.value)} disabled={containers.length === 0}>
          {containers.map((c) => (
            <option key={c} value={c}>
              {c}
            </option>
          ))}
        </select>
        <label htmlFor={ids.tail}>Lines</label>
        <select id={ids.tail} value={tail} onChange={(e) => setTail(Number(e.target.value))}>
          {TAILS.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
        <label className="check">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} /> Follow
        </label>
      </div>
      {current === "" ? (
        <p className="muted">Choose a pod (or press Logs on one in the resource tree).</p>
      ) : spec && spec.health === "Missing" ? (
        <p className="muted">That pod is gone.</p>
      ) : log.isPending && log.fetchStatus !== "idle" ? (
        <Loading label="Reading the log…" />
      ) : log.isError ? (
        <ErrorState title="No log to show" error={log.error} />
      ) : log.data ? (
        <pre className="log" ref={pre} data-log={`${log.data.pod}/${log.data.container}`}>
          {log.data.text || "(no output: this container is simulated, or printed nothing yet)"}
        </pre>
      ) : null}
    </div>
  );
}
