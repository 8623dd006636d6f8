// The console's views against the fake API: the fleet overview's counts, the accounts page
// (create a member, issue a token shown once, revoke it; members see "Admins only"), the
// resource tree with health, drift and a Secret's YAML without values, a pod's logs, and the
// event-stream parser.
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { parseSse } from "../api/live";
import { createFakeApi, makeStore } from "../test/fakeApi";
import { setup } from "../test/render";
import { Accounts } from "./Accounts";
import { Fleet } from "./Fleet";
import { StoreDetail } from "./StoreDetail";

describe("Fleet", () => {
  it("shows the API's counts by phase, engine and plan, the failing stores and the durations", async () => {
    setup(<Fleet />, {
      stores: [
        makeStore({ name: "a" }),
        makeStore({ name: "b", plan: "medium", engine: "woocommerce" }),
        makeStore({ name: "c", phase: "Failed", last_error: "pods never ready" }),
      ],
    });
    expect(await screen.findByText("3", { selector: "[data-fleet-total]" })).toBeInTheDocument();
    const phase = (p: string) => document.querySelector(`[data-count="phase:${p}"] .count-n`)?.textContent;
    expect(phase("Ready")).toBe("2");
    expect(phase("Failed")).toBe("1");
    expect(document.querySelector('[data-count="engine:woocommerce"] .count-n')?.textContent).toBe("1");
    expect(document.querySelector('[data-count="plan:small"] .count-n')?.textContent).toBe("2");
    const failing = document.querySelector('[data-failing="c"]') as HTMLElement;
    expect(failing).toHaveTextContent("pods never ready");
    expect(document.querySelector('[data-percentile="p50"] dd')?.textContent).toBe("12 s");
  });
});

describe("Accounts", () => {
  it("creates a member, issues a token shown once, and revokes it", async () => {
    const { api } = setup(<Accounts />);
    await userEvent.type(await screen.findByLabelText("User name"), "alice");
    await userEvent.type(screen.getAllByLabelText("Store limit")[0]!, "2");
    await userEvent.click(screen.getByRole("button", { name: "Create member" }));
    const row = await waitFor(() => {
      const el = document.querySelector('[data-user="alice"]');
      if (!el) throw new Error("no alice row");
      return el as HTMLElement;
    });
    expect(api.requests.find((r) => r.method === "POST" && r.url.pathname === "/api/v1/users")?.body).toEqual({
      name: "alice",
      max_live_stores: 2,
    });
    await userEvent.click(within(row).getByRole("button", { name: "Tokens and limit" }));
    await userEvent.type(within(row).getByLabelText("Token label"), "laptop");
    await userEvent.click(within(row).getByRole("button", { name: "Issue token" }));
    const shown = await screen.findByRole("status", { name: "New token" });
    expect(shown).toHaveTextContent("sp_issued-tok-0000000001");
    expect(shown).toHaveTextContent("this once");
    const revoke = await within(row).findByRole("button", { name: "Revoke" });
    await userEvent.click(revoke);
    await waitFor(() => expect(within(row).getByText("revoked")).toBeInTheDocument());
    await userEvent.click(screen.getByRole("button", { name: "I have copied it" }));
    expect(screen.queryByText("sp_issued-tok-0000000001")).not.toBeInTheDocument();
  });

  it("tells a member it is for admins only, in the API's words", async () => {
    const api = createFakeApi();
    api.admin = false;
    setup(<Accounts />, { api });
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("Admins only");
    expect(alert).toHaveTextContent("no such resource: GET /api/v1/users");
  });
});

describe("the resource tree", () => {
  const store = makeStore({ id: "store-t1", name: "tree" });

  it("lists objects with their health, pods under their Deployment, drift where corrected", async () => {
    setup(<StoreDetail id="store-t1" />, { stores: [store] });
    const pod = await waitFor(() => {
      const el = document.querySelector('[data-object="Deployment/medusa-server"] [data-object="Pod/medusa-server-abc"]');
      if (!el) throw new Error("the pod is not under its Deployment");
      return el as HTMLElement;
    });
    expect(pod).toHaveAttribute("data-health", "Degraded");
    expect(pod).toHaveTextContent("3 restarts");
    expect(document.querySelector('[data-object="Ingress/medusa"]')).toHaveAttribute("data-health", "Missing");
    expect(document.querySelector('[data-object="NetworkPolicy/default-deny"]')).toHaveTextContent("drift corrected");
  });

  it("shows a Secret's YAML without its values", async () => {
    setup(<StoreDetail id="store-t1" />, { stores: [store] });
    await userEvent.click(await screen.findByRole("button", { name: "store-credentials" }));
    const yaml = await screen.findByText(/password: \(hidden\)/);
    expect(yaml).toHaveAttribute("data-yaml", "Secret/store-credentials");
    expect(screen.getByText(/values are never sent/)).toBeInTheDocument();
  });

  it("opens a pod's logs from the tree, with its containers to choose from", async () => {
    const { api } = setup(<StoreDetail id="store-t1" />, { stores: [store] });
    const pod = await screen.findByText("medusa-server-abc", { selector: "button" });
    await userEvent.click(within(pod.closest("li")!).getByRole("button", { name: "Logs" }));
    expect(await screen.findByText(/hello from medusa-server-abc\/server/)).toBeInTheDocument();
    const container = screen.getByLabelText("Container") as HTMLSelectElement;
    expect([...container.options].map((o) => o.value)).toEqual(["server", "migrate"]);
    await userEvent.selectOptions(container, "migrate");
    expect(await screen.findByText(/hello from medusa-server-abc\/migrate/)).toBeInTheDocument();
    expect(api.requests.some((r) => r.url.pathname.endsWith("/logs") && r.url.searchParams.get("container") === "migrate")).toBe(true);
  });
});

describe("parseSse", () => {
  it("splits messages, keeps the unfinished tail, skips comments", () => {
    const seen: [string, string, string | null][] = [];
    const rest = parseSse(
      'event: hello\ndata: {"last_event_id": 4}\n\n: keep-alive\n\nid: 5\nevent: store-event\ndata: {"id": 5}\n\nid: 6\nevent: sto',
      (e, d, id) => seen.push([e, d, id]),
    );
    expect(seen).toEqual([
      ["hello", '{"last_event_id": 4}', null],
      ["store-event", '{"id": 5}', "5"],
    ]);
    expect(rest).toBe("id: 6\nevent: sto");
  });
});
