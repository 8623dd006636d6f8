import { describe, expect, it } from "vitest";
import { validateStoreName } from "./validation";

describe("validateStoreName mirrors the API's DNS-label rule", () => {
  it.each([
    ["shop", null],
    ["my-shop-2", null],
    ["abc", null],
    ["a".repeat(40), null],
    ["store-front", null],
    ["store-abcd12345", null],
  ])("accepts %j", (name, expected) => {
    expect(validateStoreName(name)).toBe(expected);
  });

  it.each([
    ["", /Enter a name/],
    ["ab", /at least 3/],
    ["a".repeat(41), /at most 40/],
    ["Shop", /lower-case/],
    ["1shop", /Start with a lower-case letter/],
    ["-shop", /Start with a lower-case letter/],
    ["shop-", /not a hyphen/],
    ["my_shop", /only lower-case letters, digits and hyphens/],
    ["my shop", /only lower-case letters, digits and hyphens/],
    ["store-xbw4br7o", /does not look like a store id/],
  ])("rejects %j with a hint how to fix it", (name, message) => {
    expect(validateStoreName(name)).toMatch(message);
  });
});
