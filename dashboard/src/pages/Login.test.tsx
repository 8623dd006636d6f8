import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { App } from "../App";
import { getToken, takeTokenFromLocation } from "../api/auth";
import { createFakeApi, makeStore, TEST_TOKEN } from "../test/fakeApi";
import { setup } from "../test/render";

describe("Login", () => {
  it("is all a visitor without a token sees, and no store is fetched", () => {
    const { api } = setup(<App />, { stores: [makeStore({ name: "acme" })], signedIn: false });
    expect(screen.getByRole("heading", { level: 1, name: "Sign in" })).toBeInTheDocument();
    expect(screen.queryByRole("link", { name: "New store" })).not.toBeInTheDocument();
    expect(api.requests.filter((r) => r.url.pathname === "/api/v1/stores")).toEqual([]);
  });

  it("refuses a wrong token with the API's words and keeps nothing", async () => {
    setup(<App />, { signedIn: false });
    await userEvent.type(screen.getByLabelText("API token"), "sp_wrong");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("the API token is unknown or revoked");
    expect(getToken()).toBeNull();
    expect(sessionStorage.length).toBe(0);
  });

  it("signs in with a good token, keeps it for the tab, and shows the stores", async () => {
    window.history.replaceState(null, "", "/stores");
    setup(<App />, { stores: [makeStore({ name: "acme" })], signedIn: false });
    await userEvent.type(screen.getByLabelText("API token"), `${TEST_TOKEN}{Enter}`);
    expect(await screen.findByRole("link", { name: "acme" })).toBeInTheDocument();
    expect(sessionStorage.getItem("storeplane.token")).toBe(TEST_TOKEN);
  });

  it("sign out forgets the token", async () => {
    window.history.replaceState(null, "", "/stores");
    setup(<App />, { stores: [makeStore({ name: "acme" })] });
    await screen.findByRole("link", { name: "acme" });
    await userEvent.click(screen.getByRole("button", { name: "Sign out" }));
    expect(screen.getByRole("heading", { level: 1, name: "Sign in" })).toBeInTheDocument();
    expect(getToken()).toBeNull();
  });

  it("a revoked token brings the login screen back and says why", async () => {
    window.history.replaceState(null, "", "/stores");
    const api = createFakeApi([makeStore({ name: "acme" })]);
    setup(<App />, { api });
    await screen.findByRole("link", { name: "acme" });
    api.token = "sp_rotated";
    await waitFor(() => expect(screen.getByRole("heading", { level: 1, name: "Sign in" })).toBeInTheDocument(), {
      timeout: 5000,
    });
    expect(screen.getByRole("status")).toHaveTextContent("You were signed out: the API token is unknown or revoked");
  });

  it("takes a #token= link into the session and out of the address bar", () => {
    window.history.replaceState(null, "", `/stores/store-x?tab=1#token=${TEST_TOKEN}`);
    takeTokenFromLocation();
    expect(getToken()).toBe(TEST_TOKEN);
    expect(window.location.hash).toBe("");
    expect(window.location.pathname + window.location.search).toBe("/stores/store-x?tab=1");
  });
});
