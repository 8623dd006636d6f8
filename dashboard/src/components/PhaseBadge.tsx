// A store's phase as a coloured pill that always carries the phase's name as text
// (colour is never the only signal) and a shape that differs per family of phases.
import type { Phase } from "../api/types";

const GLYPH: Record<Phase, string> = {
  Pending: "○",
  Provisioning: "◔",
  Ready: "✓",
  Updating: "◔",
  Suspended: "⏸",
  Restoring: "◔",
  Failed: "✕",
  Deleting: "◌",
  Deleted: "⊘",
};

export const IN_PROGRESS: ReadonlySet<Phase> = new Set([
  "Pending",
  "Provisioning",
  "Updating",
  "Restoring",
  "Deleting",
]);

export function PhaseBadge({ phase }: { phase: Phase }) {
  const busy = IN_PROGRESS.has(phase);
  return (
    <span className={`phase phase-${phase.toLowerCase()}${busy ? " phase-busy" : ""}`} data-phase={phase}>
      <span className="phase-glyph" aria-hidden="true">
        {GLYPH[phase] ?? "•"}
      </span>
      {phase}
    </span>
  );
}
