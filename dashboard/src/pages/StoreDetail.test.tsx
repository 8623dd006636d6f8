import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import type { Store, StoreEvent } from "../api/types";
import { createFakeApi, makeStore } from "../test/fakeApi";
import { setup } from "../test/render";
import { StoreDetail } from "./StoreDetail";

const failed: Store = makeStore({
  id: "store-f1",
  name: "broken-shop",
  phase: "Failed",
  namespace: "store-f1",
  generation: 3,
  observed_generation: 2,
  url: "http://broken-shop.stores.localhost",
  last_error: "Deployment store-f1/medusa: ImagePullBackOff (image not found)",
  conditions: [
    { type: "NamespaceReady", status: "True", reason: "Created", message: "namespace store-f1 exists", last_transition_time: "2026-01-01T00:00:00Z", observed_generation: 3 },
    { type: "WorkloadsReady", status: "False", reason: "ImagePullBackOff", message: "pod medusa-0 cannot pull its image", last_transition_time: "2026-01-01T00:01:00Z", observed_generation: 3 },
  ] as Store["conditions"],
});

const event = (id: number, type: "Normal" | "Warning", reason: string, time: string): StoreEvent => ({
  id, type, reason, time, message: `${reason} happened`, actor: id === 1 ? "alice" : "system", generation: 1,
});

function withEvents(store: Store, events: StoreEvent[]) {
  const api = createFakeApi([store]);
  api.events.set(store.id, events);
  return api;
}

describe("StoreDetail", () => {
  it("shows status, URL, namespace, generations, last error and conditions", async () => {
    setup(<StoreDetail id="store-f1" />, { stores: [failed] });
    expect(await screen.findByRole("heading", { level: 1, name: /broken-shop/ })).toHaveTextContent("Failed");
    expect(screen.getByRole("link", { name: "http://broken-shop.stores.localhost" })).toBeInTheDocument();
    expect(screen.getAllByText("store-f1").length).toBeGreaterThan(0);
    expect(screen.getByText("(observed 2)")).toBeInTheDocument();
    expect(screen.getByText(/ImagePullBackOff \(image not found\)/)).toBeInTheDocument();
    const row = screen.getByRole("row", { name: /WorkloadsReady/ });
    expect(row).toHaveTextContent("False");
    expect(row).toHaveTextContent("ImagePullBackOff");
    expect(row).toHaveTextContent("pod medusa-0 cannot pull its image");
  });

  it("lists events newest first, Warnings marked, exact time on hover", async () => {
    const api = withEvents(failed, [
      event(1, "Normal", "Created", "2026-01-01T00:00:00Z"),
      event(2, "Warning", "ImagePullFailed", "2026-01-01T00:00:10Z"),
      event(3, "Normal", "NamespaceCreated", "2026-01-01T00:00:05Z"),
    ]);
    setup(<StoreDetail id="store-f1" />, { api });
    await screen.findByText("ImagePullFailed");
    // The timeline's items (the resource tree's are list items too).
    const items = screen.getAllByRole("listitem").filter((li) => li.classList.contains("event"));
    expect(items.map((li) => li.getAttribute("data-reason"))).toEqual(["ImagePullFailed", "NamespaceCreated", "Created"]);
    expect(items[0]).toHaveClass("event-warning");
    expect(items[0]).toHaveTextContent("Warning");
    expect(items[1]).not.toHaveTextContent("Warning");
    expect(items[2]).toHaveTextContent("by alice");
    const time = items[0]!.querySelector("time")!;
    expect(time).toHaveAttribute("dateTime", "2026-01-01T00:00:10Z");
    expect(time.getAttribute("title")).toContain("2026-01-01T00:00:10.000Z");
    expect(time.textContent).toMatch(/ago$/);
  });

  it("says so when there are no events yet", async () => {
    setup(<StoreDetail id="store-f1" />, { stores: [failed] });
    expect(await screen.findByText("No events yet.")).toBeInTheDocument();
  });

  it("retries a failed store, with the button disabled while pending", async () => {
    const { api } = setup(<StoreDetail id="store-f1" />, { stores: [failed] });
    const retry = await screen.findByRole("button", { name: "Retry" });
    const gate = api.hold();
    await userEvent.click(retry);
    expect(await screen.findByRole("button", { name: "Retrying…" })).toBeDisabled();
    expect(screen.getByRole("button", { name: "Delete…" })).toBeDisabled();
    gate.release();
    await waitFor(() => expect(screen.getByRole("heading", { level: 1 })).toHaveTextContent("Provisioning"));
    expect(api.requests.some((r) => r.method === "POST" && r.url.pathname === "/api/v1/stores/store-f1/retry")).toBe(true);
    await waitFor(() => expect(screen.queryByRole("button", { name: /Retry/ })).not.toBeInTheDocument());
  });

  it("offers no retry for a healthy store", async () => {
    setup(<StoreDetail id="store-r" />, { stores: [makeStore({ id: "store-r", name: "fine" })] });
    await screen.findByRole("heading", { level: 1, name: /fine/ });
    expect(screen.queryByRole("button", { name: "Retry" })).not.toBeInTheDocument();
  });

  it("changes the plan", async () => {
    const { api } = setup(<StoreDetail id="store-r" />, { stores: [makeStore({ id: "store-r", name: "fine", plan: "small" })] });
    await screen.findByRole("heading", { level: 1, name: /fine/ });
    const change = screen.getByRole("button", { name: "Change plan" });
    expect(change).toBeDisabled(); // same plan: nothing to change
    await waitFor(() => expect(screen.getByLabelText("Plan")).toBeEnabled());
    await userEvent.selectOptions(screen.getByLabelText("Plan"), "large");
    await userEvent.click(change);
    await waitFor(() => expect(screen.getByRole("heading", { level: 1 })).toHaveTextContent("Updating"));
    expect(api.requests.find((r) => r.method === "PATCH")!.body).toEqual({ plan: "large" });
  });

  it("shows the API's refusal of a plan change verbatim", async () => {
    const api = createFakeApi([makeStore({ id: "store-r", name: "fine" })]);
    api.failNext("PATCH", "/api/v1/stores/store-r", () =>
      new Response(JSON.stringify({ type: "about:blank", title: "Conflict", status: 409, detail: "store is being deleted; its plan cannot change" }), {
        status: 409,
        headers: { "content-type": "application/problem+json" },
      }),
    );
    setup(<StoreDetail id="store-r" />, { api });
    await screen.findByRole("heading", { level: 1, name: /fine/ });
    await waitFor(() => expect(screen.getByLabelText("Plan")).toBeEnabled());
    await userEvent.selectOptions(screen.getByLabelText("Plan"), "medium");
    await userEvent.click(screen.getByRole("button", { name: "Change plan" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("store is being deleted; its plan cannot change");
  });

  it("a store owned by a Store object names it, and an action shows the API's 409 naming it verbatim", async () => {
    const owner = "Store default/my-shop";
    const words = `store store-o is managed by the Kubernetes object ${owner}: change it there (edit its manifest and kubectl apply it, or commit it to the repository your GitOps tool applies), not through the API`;
    const api = createFakeApi([makeStore({ id: "store-o", name: "my-shop", managed_by: owner })]);
    api.failNext("PATCH", "/api/v1/stores/store-o", () =>
      new Response(JSON.stringify({ type: "about:blank", title: "Conflict", status: 409, detail: words }), {
        status: 409,
        headers: { "content-type": "application/problem+json" },
      }),
    );
    setup(<StoreDetail id="store-o" />, { api });
    await screen.findByRole("heading", { level: 1, name: /my-shop/ });
    expect(screen.getByRole("note")).toHaveTextContent(`Managed by the Kubernetes object ${owner}.`);
    expect(screen.getByRole("note")).toHaveTextContent("kubectl get store my-shop -n default -o yaml");
    expect(screen.getByText(owner, { selector: "dd" })).toBeInTheDocument();
    await waitFor(() => expect(screen.getByLabelText("Plan")).toBeEnabled());
    await userEvent.selectOptions(screen.getByLabelText("Plan"), "medium");
    await userEvent.click(screen.getByRole("button", { name: "Change plan" }));
    expect(await screen.findByRole("alert")).toHaveTextContent(words);
  });

  it("a store made through the API names no owning object", async () => {
    setup(<StoreDetail id="store-r" />, { stores: [makeStore({ id: "store-r", name: "fine" })] });
    await screen.findByRole("heading", { level: 1, name: /fine/ });
    expect(screen.queryByRole("note")).not.toBeInTheDocument();
    expect(screen.queryByText("Managed by")).not.toBeInTheDocument();
  });

  it("deletes only after the store's name is typed in the dialog", async () => {
    const { api } = setup(<StoreDetail id="store-r" />, { stores: [makeStore({ id: "store-r", name: "fine" })] });
    const open = await screen.findByRole("button", { name: "Delete…" });
    await userEvent.click(open);
    const dialog = screen.getByRole("dialog", { name: "Delete store “fine”?" });
    const confirm = within(dialog).getByRole("button", { name: "Delete store" });
    const input = within(dialog).getByLabelText(/Type fine to confirm/);
    expect(input).toHaveFocus();
    expect(confirm).toBeDisabled();
    await userEvent.type(input, "fin");
    expect(confirm).toBeDisabled();
    await userEvent.type(input, "e");
    expect(confirm).toBeEnabled();
    await userEvent.click(confirm);
    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
    await waitFor(() => expect(screen.getByRole("heading", { level: 1 })).toHaveTextContent("Deleting"));
    expect(api.requests.some((r) => r.method === "DELETE")).toBe(true);
    expect(screen.getByRole("button", { name: "Delete…" })).toBeDisabled();
  });

  it("Escape closes the delete dialog without deleting and returns focus", async () => {
    const { api } = setup(<StoreDetail id="store-r" />, { stores: [makeStore({ id: "store-r", name: "fine" })] });
    const open = await screen.findByRole("button", { name: "Delete…" });
    await userEvent.click(open);
    await userEvent.keyboard("{Escape}");
    expect(screen.queryByRole("dialog")).not.toBeInTheDocument();
    expect(open).toHaveFocus();
    expect(api.requests.some((r) => r.method === "DELETE")).toBe(false);
  });

  it("a deleted store is shown as a tombstone with no actions", async () => {
    setup(<StoreDetail id="store-d" />, {
      stores: [makeStore({ id: "store-d", name: "gone", phase: "Deleted", deleted_at: new Date().toISOString() })],
    });
    expect(await screen.findByRole("heading", { level: 1 })).toHaveTextContent("Deleted");
    expect(screen.getByRole("button", { name: "Delete…" })).toBeDisabled();
    expect(screen.getByRole("button", { name: "Change plan" })).toBeDisabled();
  });

  it("says clearly when the store does not exist", async () => {
    setup(<StoreDetail id="store-nope" />);
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("No such store");
    expect(alert).toHaveTextContent('no store with id "store-nope"');
  });
});
