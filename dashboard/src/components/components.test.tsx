import { act, render, screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { PHASES } from "../api/types";
import { PhaseBadge } from "./PhaseBadge";
import { RelativeTime } from "./Time";

describe("PhaseBadge", () => {
  it.each(PHASES)("shows %s as text, not colour alone", (phase) => {
    render(<PhaseBadge phase={phase} />);
    const badge = screen.getByText(phase);
    expect(badge).toHaveAttribute("data-phase", phase);
    expect(badge).toHaveClass(`phase-${phase.toLowerCase()}`);
  });
});

describe("RelativeTime", () => {
  it("keeps ticking and carries the exact time in title and dateTime", () => {
    vi.useFakeTimers({ now: Date.parse("2026-01-01T12:00:03Z") });
    render(<RelativeTime iso="2026-01-01T12:00:00Z" age />);
    const time = screen.getByText("3s");
    expect(time.tagName).toBe("TIME");
    expect(time).toHaveAttribute("dateTime", "2026-01-01T12:00:00Z");
    expect(time.getAttribute("title")).toContain("2026-01-01T12:00:00.000Z");
    act(() => vi.advanceTimersByTime(2000));
    expect(time).toHaveTextContent("5s");
  });
});
