import { describe, expect, it } from "vitest";
import { matchRoute } from "./router";

describe("matchRoute", () => {
  it("maps the three routes and everything else to notFound", () => {
    expect(matchRoute("/", "?phase=Ready").name).toBe("list");
    expect(matchRoute("/new", "")).toEqual({ name: "new" });
    expect(matchRoute("/stores/store-ab12cd34", "")).toEqual({ name: "detail", id: "store-ab12cd34" });
    expect(matchRoute("/nope", "")).toEqual({ name: "notFound", path: "/nope" });
  });
});
