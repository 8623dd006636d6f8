import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import type { Store } from "../api/types";
import { createFakeApi, makeStore } from "../test/fakeApi";
import { setup } from "../test/render";
import { StoreDetail } from "../pages/StoreDetail";
import { checkUnavailable, runtimeWords } from "./OrderCheck";

const local: Store = makeStore({ id: "store-l1", name: "real-shop", phase: "Ready", workload_runtime: "local" });
const simulated: Store = makeStore({ id: "store-s1", name: "woo-shop", engine: "woocommerce", phase: "Ready", workload_runtime: "simulated" });

function card() {
  return screen.getByRole("heading", { name: "Order check" }).closest(".card") as HTMLElement;
}

describe("OrderCheck on the store page", () => {
  it("runs a check, shows each step while it runs, then the order it placed", async () => {
    const { api } = setup(<StoreDetail id="store-l1" />, { stores: [local] });
    const button = await screen.findByRole("button", { name: "Run check" });
    expect(screen.getByText("local — processes on this machine")).toBeInTheDocument();
    await userEvent.click(button);
    expect(await within(card()).findByText(/Running: queued/)).toBeInTheDocument();
    expect(api.requests.some((r) => r.method === "POST" && r.url.pathname === "/api/v1/stores/store-l1/checks")).toBe(true);
    // One at a time: the button says why it waits.
    expect(within(card()).getByRole("button", { name: "Run check" })).toBeDisabled();
    expect(within(card()).getByRole("button", { name: "Run check" })).toHaveAccessibleDescription(/A check of this store is running/);

    api.checks.set("store-l1", [{ ...api.checks.get("store-l1")![0]!, step: "complete cart" }]);
    expect(await within(card()).findByText(/Running: complete cart/, {}, { timeout: 3000 })).toBeInTheDocument();
    api.finishCheck("store-l1", { status: "Passed", step: null, order_id: "order_01ABC", message: "guest order order_01ABC found through the Admin API" });
    expect(await within(card()).findByText("order_01ABC", {}, { timeout: 3000 })).toBeInTheDocument();
    expect(within(card()).getByText("Passed")).toBeInTheDocument();
    expect(within(card()).getByText(/found through the Admin API/)).toBeInTheDocument();
    await waitFor(() => expect(within(card()).getByRole("button", { name: "Run check" })).toBeEnabled());
  });

  it("a failed check names the step and the cause", async () => {
    const api = createFakeApi([local]);
    api.checks.set("store-l1", [
      {
        id: "check-0000000009", store_id: "store-l1", status: "Failed", step: "admin login",
        message: "medusa: admin login: POST /auth/user/emailpass answered HTTP 401", order_id: null,
        requested_by: "alice", started_at: "2026-01-01T00:00:00Z", finished_at: "2026-01-01T00:00:05Z",
      },
    ]);
    setup(<StoreDetail id="store-l1" />, { api });
    await screen.findByRole("heading", { name: "Order check" });
    const alert = await within(card()).findByRole("alert");
    expect(alert).toHaveTextContent("Failed at step admin login");
    expect(alert).toHaveTextContent("answered HTTP 401");
    expect(within(card()).getByText(/asked by alice/)).toBeInTheDocument();
  });

  it("a simulated store cannot be checked and says why; the runtime says nothing runs", async () => {
    setup(<StoreDetail id="store-s1" />, { stores: [simulated] });
    const button = await screen.findByRole("button", { name: "Run check" });
    expect(button).toBeDisabled();
    expect(button).toHaveAccessibleDescription(/workloads are simulated/);
    expect(screen.getByText("simulated — nothing runs behind it")).toBeInTheDocument();
  });

  it("a refusal the server still sends is shown verbatim", async () => {
    const api = createFakeApi([local]);
    api.failNext("POST", "/api/v1/stores/store-l1/checks", () =>
      new Response(JSON.stringify({ type: "about:blank", title: "Conflict", status: 409, detail: "store store-l1 is Updating, not Ready: there is no working store to check yet" }), {
        status: 409, headers: { "content-type": "application/problem+json" },
      }),
    );
    setup(<StoreDetail id="store-l1" />, { api });
    await userEvent.click(await screen.findByRole("button", { name: "Run check" }));
    expect(await within(card()).findByRole("alert")).toHaveTextContent("is Updating, not Ready: there is no working store to check yet");
  });
});

describe("checkUnavailable", () => {
  it.each([
    [{ phase: "Ready", workload_runtime: "local" }, false, undefined],
    [{ phase: "Ready", workload_runtime: "cluster" }, false, undefined],
    [{ phase: "Ready", workload_runtime: null }, false, undefined],
    [{ phase: "Ready", workload_runtime: "simulated" }, false, "simulated"],
    [{ phase: "Provisioning", workload_runtime: "local" }, false, "not Ready"],
    [{ phase: "Deleting", workload_runtime: "local" }, false, "deleted"],
    [{ phase: "Ready", workload_runtime: "local" }, true, "running"],
  ] as const)("%o (a check running: %s) -> %s", (fields, running, expected) => {
    const why = checkUnavailable(makeStore(fields as Partial<Store>), running);
    if (expected === undefined) expect(why).toBeUndefined();
    else expect(why).toContain(expected);
  });

  it("words every runtime, and an unknown one", () => {
    expect(runtimeWords(null)).toBe("not known yet");
    expect(runtimeWords("cluster")).toContain("real Kubernetes cluster");
  });
});
