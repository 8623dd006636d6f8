import { describe, expect, it } from "vitest";
import { parseLabels } from "./Rollouts";

describe("parseLabels (the rollout form's Stores labelled field)", () => {
  it.each([
    ["blank selects every store of the engine", "", {}],
    ["one pair", "tier=gold", { tier: "gold" }],
    ["several pairs, spaces around them ignored", " tier = gold , team=retail ", { tier: "gold", team: "retail" }],
    ["a key alone asks for an empty value", "canary", { canary: "" }],
    ["a value may hold an equals sign", "note=a=b", { note: "a=b" }],
  ])("%s", (_name, text, labels) => {
    expect(parseLabels(text)).toEqual(labels);
  });
});
