import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { createFakeApi, makeStore } from "../test/fakeApi";
import { setup } from "../test/render";
import { StoresList } from "./StoresList";

const params = (s = "") => new URLSearchParams(s);

describe("StoresList", () => {
  it("shows a loading state, then one row per store with phase as text", async () => {
    setup(<StoresList search={params()} />, {
      stores: [
        makeStore({ id: "store-a", name: "alpha", phase: "Ready", url: "http://alpha.stores.localhost" }),
        makeStore({ id: "store-b", name: "beta", phase: "Failed", engine: "woocommerce", plan: "large", url: null }),
      ],
    });
    expect(screen.getByRole("status")).toHaveTextContent("Loading stores");
    const table = await screen.findByRole("table");
    const rows = within(table).getAllByRole("row").slice(1);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toHaveTextContent("alpha");
    expect(within(rows[0]!).getByText("Ready")).toHaveClass("phase-ready");
    expect(within(rows[0]!).getByRole("link", { name: "alpha" })).toHaveAttribute("href", "/stores/store-a");
    expect(within(rows[0]!).getByRole("link", { name: "alpha.stores.localhost" })).toHaveAttribute("href", "http://alpha.stores.localhost");
    expect(rows[1]).toHaveTextContent("WooCommerce");
    expect(rows[1]).toHaveTextContent("large");
    expect(within(rows[1]!).getByText("Failed")).toBeInTheDocument();
    expect(screen.getByText("2 stores")).toBeInTheDocument();
  });

  it("invites to create the first store when there are none", async () => {
    setup(<StoresList search={params()} />);
    expect(await screen.findByText("No stores yet.")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Create your first store" })).toHaveAttribute("href", "/new");
  });

  it("says when filters match nothing", async () => {
    setup(<StoresList search={params("phase=Deleting")} />, { stores: [makeStore({ name: "alpha" })] });
    expect(await screen.findByText("No stores match these filters.")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Clear filters" })).toBeInTheDocument();
  });

  it("passes phase and search from the URL to the API", async () => {
    const { api } = setup(<StoresList search={params("phase=Ready&q=al")} />, {
      stores: [makeStore({ name: "alpha" }), makeStore({ name: "beta" })],
    });
    await screen.findByRole("table");
    const url = api.requests.find((r) => r.url.pathname === "/api/v1/stores")!.url;
    expect(url.searchParams.get("phase")).toBe("Ready");
    expect(url.searchParams.get("q")).toBe("al");
    expect(screen.getByLabelText("Phase")).toHaveValue("Ready");
    expect(screen.getByLabelText("Search by name")).toHaveValue("al");
  });

  it("choosing a phase puts it in the URL", async () => {
    setup(<StoresList search={params()} />, { stores: [makeStore({ name: "alpha" })] });
    await screen.findByRole("table");
    await userEvent.selectOptions(screen.getByLabelText("Phase"), "Failed");
    expect(window.location.search).toBe("?phase=Failed");
  });

  it("typing a search updates the URL after a short pause", async () => {
    setup(<StoresList search={params()} />, { stores: [makeStore({ name: "alpha" })] });
    await screen.findByRole("table");
    await userEvent.type(screen.getByLabelText("Search by name"), "alp");
    await waitFor(() => expect(window.location.search).toBe("?q=alp"));
  });

  it("shows the API's message and a retry button when the list fails", async () => {
    const api = createFakeApi();
    api.failNext("GET", "/api/v1/stores", () =>
      new Response(JSON.stringify({ type: "about:blank", title: "Service Unavailable", status: 503, detail: "database is locked; try again" }), {
        status: 503,
        headers: { "content-type": "application/problem+json" },
      }),
    );
    setup(<StoresList search={params()} />, { api });
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("Could not load stores");
    expect(alert).toHaveTextContent("database is locked; try again");
    await userEvent.click(within(alert).getByRole("button", { name: "Try again" }));
    expect(await screen.findByText("No stores yet.")).toBeInTheDocument();
  });

  it("pages through a long list with Next and Previous", async () => {
    const many = Array.from({ length: 53 }, (_, i) => makeStore({ id: `store-${i}`, name: `shop-${String(i).padStart(2, "0")}` }));
    const { api } = setup(<StoresList search={params()} />, { stores: many });
    await screen.findByRole("table");
    expect(screen.getAllByRole("row")).toHaveLength(51); // header + 50
    expect(screen.getByText("53 stores")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Previous" })).toBeDisabled();
    await userEvent.click(screen.getByRole("button", { name: "Next" }));
    await waitFor(() => expect(screen.getAllByRole("row")).toHaveLength(4));
    expect(api.requests.at(-1)!.url.searchParams.get("cursor")).toBe("50");
    expect(screen.getByRole("button", { name: "Next" })).toBeDisabled();
    await userEvent.click(screen.getByRole("button", { name: "Previous" }));
    await waitFor(() => expect(screen.getAllByRole("row")).toHaveLength(51));
  });

  it("keeps the rows and says so when a background refresh fails", async () => {
    const { api } = setup(<StoresList search={params()} />, { stores: [makeStore({ name: "alpha" })] });
    await screen.findByRole("table");
    api.failNext("GET", "/api/v1/stores", () => new Response("upstream down", { status: 502, statusText: "Bad Gateway" }));
    expect(await screen.findByText(/Live updates paused: upstream down/, {}, { timeout: 4000 })).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "alpha" })).toBeInTheDocument();
  });

  it("picks up phase changes by polling", async () => {
    const { api } = setup(<StoresList search={params()} />, { stores: [makeStore({ id: "store-p", name: "alpha", phase: "Provisioning" })] });
    expect(await screen.findByText("Provisioning")).toBeInTheDocument();
    api.setPhase("store-p", "Ready");
    expect(await screen.findByText("Ready", {}, { timeout: 4000 })).toBeInTheDocument();
  });
});
