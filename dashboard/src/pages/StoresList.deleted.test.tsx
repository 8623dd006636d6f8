// The stores list explains what "All phases" leaves out and offers deleted stores behind a
// visible switch; links of stores that are going away are not offered as live.
import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { makeStore } from "../test/fakeApi";
import { setup } from "../test/render";
import { StoresList } from "./StoresList";

const params = (s = "") => new URLSearchParams(s);
const live = makeStore({ id: "store-l", name: "live-shop", phase: "Ready", url: "http://live-shop.localhost" });
const going = makeStore({ id: "store-g", name: "going-shop", phase: "Deleting", url: "http://going-shop.localhost" });
const gone = makeStore({ id: "store-d", name: "gone-shop", phase: "Deleted", url: "http://gone-shop.localhost" });

const names = () =>
  within(screen.getByRole("table"))
    .getAllByRole("row")
    .slice(1)
    .map((r) => r.getAttribute("data-store"));

describe("StoresList and deleted stores", () => {
  it("All phases leaves deleted stores out and says so next to the switch", async () => {
    setup(<StoresList search={params()} />, { stores: [live, going, gone] });
    await screen.findByRole("table");
    expect(names()).toEqual(["live-shop", "going-shop"]);
    expect(screen.getByRole("option", { name: "All phases but Deleted" })).toBeInTheDocument();
    const box = screen.getByRole("checkbox", { name: "Include deleted" });
    expect(box).not.toBeChecked();
    expect(box).toHaveAccessibleDescription("All phases leaves deleted stores out; tick this to list them too.");
  });

  it("ticking Include deleted puts it in the URL", async () => {
    setup(<StoresList search={params()} />, { stores: [live, going, gone] });
    await screen.findByRole("table");
    await userEvent.click(screen.getByRole("checkbox", { name: "Include deleted" }));
    expect(window.location.search).toBe("?deleted=1");
  });

  it("with ?deleted=1 the list has the deleted stores and the option reads All phases", async () => {
    const { api } = setup(<StoresList search={params("deleted=1")} />, { stores: [live, going, gone] });
    await screen.findByRole("table");
    expect(names()).toEqual(["live-shop", "going-shop", "gone-shop"]);
    const url = api.requests.find((r) => r.url.pathname === "/api/v1/stores")!.url;
    expect(url.searchParams.get("include_deleted")).toBe("true");
    expect(screen.getByRole("option", { name: "All phases" })).toBeInTheDocument();
    expect(screen.getByRole("checkbox", { name: "Include deleted" })).toBeChecked();
  });

  it("with a phase chosen the switch is greyed out and says why", async () => {
    setup(<StoresList search={params("phase=Ready")} />, { stores: [live, gone] });
    await screen.findByRole("table");
    const box = screen.getByRole("checkbox", { name: "Include deleted" });
    expect(box).toBeDisabled();
    expect(box).toHaveAccessibleDescription("The phase filter shows only Ready stores; choose All phases to add deleted ones.");
    expect(box.closest("label")).toHaveAttribute("title", "The phase filter shows only Ready stores; choose All phases to add deleted ones.");
  });

  it("offers the URL of a live store as a link but not of a deleting or deleted one", async () => {
    setup(<StoresList search={params("deleted=1")} />, { stores: [live, going, gone] });
    await screen.findByRole("table");
    const row = (name: string) => screen.getByRole("table").querySelector(`tr[data-store="${name}"]`) as HTMLElement;
    expect(within(row("live-shop")).getByRole("link", { name: "live-shop.localhost" })).toHaveAttribute("href", "http://live-shop.localhost");
    expect(within(row("going-shop")).queryByRole("link", { name: /going-shop\.localhost/ })).toBeNull();
    expect(row("going-shop")).toHaveTextContent("being deleted");
    expect(within(row("gone-shop")).queryByRole("link", { name: /gone-shop\.localhost/ })).toBeNull();
    expect(row("gone-shop")).toHaveTextContent("removed");
  });
});
