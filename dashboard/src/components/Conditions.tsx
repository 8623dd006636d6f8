// The store's conditions: what a program reads, shown with reason and message for people.
import type { Condition } from "../api/types";
import { RelativeTime } from "./Time";

const STATUS_TEXT: Record<string, string> = { True: "True", False: "False", Unknown: "Unknown" };

export function Conditions({ conditions }: { conditions: Condition[] }) {
  return (
    <table className="conditions">
      <thead>
        <tr>
          <th scope="col">Condition</th>
          <th scope="col">Status</th>
          <th scope="col">Reason</th>
          <th scope="col">Message</th>
          <th scope="col">Changed</th>
        </tr>
      </thead>
      <tbody>
        {conditions.map((c) => (
          <tr key={c.type} data-condition={c.type}>
            <th scope="row" data-label="Condition">
              {c.type}
            </th>
            <td data-label="Status">
              <span className={`cond cond-${c.status.toLowerCase()}`}>
                <span aria-hidden="true">{c.status === "True" ? "✓ " : c.status === "False" ? "✕ " : "? "}</span>
                {STATUS_TEXT[c.status] ?? c.status}
              </span>
            </td>
            <td data-label="Reason">{c.reason}</td>
            <td data-label="Message" className="cond-message">
              {c.message || <span className="muted">—</span>}
            </td>
            <td data-label="Changed">
              <RelativeTime iso={c.last_transition_time} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
