import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { App } from "./App";
import { makeStore } from "./test/fakeApi";
import { setup } from "./test/render";

describe("App routing", () => {
  it("links navigate in-app and focus moves to the new page", async () => {
    window.history.replaceState(null, "", "/stores");
    setup(<App />, { stores: [makeStore({ id: "store-x", name: "acme" })] });
    await userEvent.click(await screen.findByRole("link", { name: "acme" }));
    expect(window.location.pathname).toBe("/stores/store-x");
    expect(await screen.findByRole("heading", { level: 1, name: /acme/ })).toBeInTheDocument();
    expect(screen.getByRole("main")).toHaveFocus();
    expect(document.title).toBe("acme · storeplane");
    await userEvent.click(screen.getByRole("link", { name: "New store" }));
    expect(await screen.findByRole("heading", { level: 1, name: "New store" })).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "New store" })).toHaveAttribute("aria-current", "page");
    window.history.back();
    await waitFor(() => expect(window.location.pathname).toBe("/stores/store-x"));
  });

  it("unknown paths say so and link home", async () => {
    window.history.replaceState(null, "", "/nowhere");
    setup(<App />);
    expect(screen.getByText("Page not found.")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Go to the stores list" })).toHaveAttribute("href", "/stores");
  });
});
