import { describe, expect, it } from "vitest";
import { matchRoute } from "./router";

describe("matchRoute", () => {
  it("maps the routes and everything else to notFound", () => {
    expect(matchRoute("/", "").name).toBe("fleet");
    expect(matchRoute("/stores", "?phase=Ready").name).toBe("list");
    expect(matchRoute("/accounts", "").name).toBe("accounts");
    expect(matchRoute("/new", "")).toEqual({ name: "new" });
    expect(matchRoute("/stores/store-ab12cd34", "")).toEqual({ name: "detail", id: "store-ab12cd34" });
    expect(matchRoute("/nope", "")).toEqual({ name: "notFound", path: "/nope" });
  });
});
