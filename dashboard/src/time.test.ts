import { describe, expect, it } from "vitest";
import { formatAge, formatExact, formatRelative } from "./time";

const now = Date.parse("2026-01-01T12:00:00Z");

describe("time formatting", () => {
  it.each([
    ["2026-01-01T12:00:00Z", "just now"],
    ["2026-01-01T11:59:30Z", "30s ago"],
    ["2026-01-01T11:55:00Z", "5m ago"],
    ["2026-01-01T09:00:00Z", "3h ago"],
    ["2025-12-30T12:00:00Z", "2d ago"],
    ["2026-01-01T12:00:30Z", "in 30s"],
  ])("relative %s reads %j", (iso, text) => {
    expect(formatRelative(iso, now)).toBe(text);
  });

  it("ages have no 'ago' and never go negative", () => {
    expect(formatAge("2026-01-01T11:58:00Z", now)).toBe("2m");
    expect(formatAge("2026-01-01T12:00:05Z", now)).toBe("0s");
  });

  it("exact time includes the ISO instant", () => {
    expect(formatExact("2026-01-01T12:00:00Z")).toContain("2026-01-01T12:00:00.000Z");
  });
});
