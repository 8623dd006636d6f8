import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { makeStore } from "../test/fakeApi";
import { setup } from "../test/render";
import { CreateStore } from "./CreateStore";

describe("CreateStore", () => {
  it("offers engines and plans with their quota", async () => {
    setup(<CreateStore />);
    expect(await screen.findByRole("radio", { name: "MedusaJS" })).toBeChecked();
    expect(screen.getByRole("radio", { name: "WooCommerce" })).not.toBeChecked();
    const small = screen.getByRole("radio", { name: /^small/ });
    expect(small).toBeChecked();
    const card = small.closest("label")!;
    expect(card).toHaveTextContent("CPU1 (max 2)");
    expect(card).toHaveTextContent("Memory2Gi (max 4Gi)");
    expect(card).toHaveTextContent("Pods10");
  });

  it("checks the name before sending and says how to fix it", async () => {
    const { api } = setup(<CreateStore />);
    const name = await screen.findByLabelText("Name");
    await userEvent.type(name, "My_Shop");
    await userEvent.click(screen.getByRole("button", { name: "Create store" }));
    expect(screen.getByText("Use lower-case letters only.")).toBeInTheDocument();
    expect(name).toHaveAttribute("aria-invalid", "true");
    expect(name).toHaveFocus();
    expect(api.requests.some((r) => r.method === "POST")).toBe(false);
  });

  it("sends the chosen engine and plan and goes to the new store", async () => {
    const { api } = setup(<CreateStore />);
    await userEvent.type(await screen.findByLabelText("Name"), "corner-shop");
    await userEvent.click(screen.getByRole("radio", { name: "WooCommerce" }));
    await userEvent.click(screen.getByRole("radio", { name: /^medium/ }));
    await userEvent.click(screen.getByRole("button", { name: "Create store" }));
    await waitFor(() => expect(window.location.pathname).toMatch(/^\/stores\/store-/));
    expect(api.requests.find((r) => r.method === "POST")!.body).toEqual({ name: "corner-shop", engine: "woocommerce", plan: "medium" });
  });

  it("shows the API's refusal verbatim (409 name taken)", async () => {
    setup(<CreateStore />, { stores: [makeStore({ name: "shop" })] });
    await userEvent.type(await screen.findByLabelText("Name"), "shop");
    await userEvent.click(screen.getByRole("button", { name: "Create store" }));
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent('a store named "shop" already exists; choose another name');
    // Said once (in the alert), with the field marked invalid.
    expect(screen.getAllByText(/already exists/)).toHaveLength(1);
    expect(screen.getByLabelText("Name")).toHaveAttribute("aria-invalid", "true");
    expect(window.location.pathname).toBe("/");
  });

  it("disables the submit button while the request is pending", async () => {
    const { api } = setup(<CreateStore />);
    await userEvent.type(await screen.findByLabelText("Name"), "slow-shop");
    const gate = api.hold();
    await userEvent.click(screen.getByRole("button", { name: "Create store" }));
    expect(await screen.findByRole("button", { name: "Creating…" })).toBeDisabled();
    gate.release();
    await waitFor(() => expect(window.location.pathname).toMatch(/^\/stores\//));
  });

  it("maps a 422's field errors onto the field", async () => {
    const { api } = setup(<CreateStore />);
    api.failNext("POST", "/api/v1/stores", () =>
      new Response(
        JSON.stringify({ type: "about:blank", title: "Unprocessable Content", status: 422, detail: "the request is invalid", errors: [{ field: "name", message: "name is reserved" }] }),
        { status: 422, headers: { "content-type": "application/problem+json" } },
      ),
    );
    await userEvent.type(await screen.findByLabelText("Name"), "admin");
    await userEvent.click(screen.getByRole("button", { name: "Create store" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("the request is invalid");
    expect(screen.getByText("name is reserved")).toBeInTheDocument();
  });
});
