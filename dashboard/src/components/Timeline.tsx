// A store's events, newest first. Warning events stand out (colour, icon and the word
// "Warning"); times are relative with the exact time in the tooltip.
import type { StoreEvent } from "../api/types";
import { RelativeTime } from "./Time";

export function Timeline({ events }: { events: StoreEvent[] }) {
  return (
    <ol className="timeline">
      {events.map((e) => {
        const warning = e.type === "Warning";
        return (
          <li key={e.id} className={warning ? "event event-warning" : "event"} data-reason={e.reason}>
            <div className="event-head">
              {warning && (
                <span className="event-type">
                  <span aria-hidden="true">⚠ </span>Warning
                </span>
              )}
              <span className="event-reason">{e.reason}</span>
              <span className="event-time">
                <RelativeTime iso={e.time} />
              </span>
            </div>
            <p className="event-message">{e.message}</p>
            <p className="event-meta">
              by {e.actor} · generation {e.generation}
            </p>
          </li>
        );
      })}
    </ol>
  );
}
