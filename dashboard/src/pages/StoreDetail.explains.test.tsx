// A store's page says why an action is greyed out (hover text and accessible description), and
// does not offer the URL of a store that is being deleted as a live link.
import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { makeStore } from "../test/fakeApi";
import { setup } from "../test/render";
import { StoreDetail, unavailableReasons } from "./StoreDetail";

const at = "2026-01-01T00:00:00Z";
const deleting = makeStore({
  id: "store-x",
  name: "going-shop",
  phase: "Deleting",
  url: "http://going-shop.localhost",
  conditions: [
    { type: "NamespaceReady", status: "False", reason: "NamespaceTerminating", message: "namespace store-x is being deleted", last_transition_time: at, observed_generation: 1 },
    { type: "StoreReachable", status: "False", reason: "Deleting", message: "the store is being deleted and no longer serves", last_transition_time: at, observed_generation: 1 },
  ] as never,
});

function expectExplained(button: HTMLElement, why: string) {
  expect(button).toBeDisabled();
  expect(button).toHaveAttribute("title", why);
  expect(button).toHaveAccessibleDescription(why);
}

const REASONS: [string, Parameters<typeof unavailableReasons>, ReturnType<typeof unavailableReasons>][] = [
  [
    "a Ready store on the chosen plan can only be deleted",
    [makeStore({ phase: "Ready", plan: "small" }), { busy: false, plansLoaded: true, samePlan: true }],
    { gone: undefined, plan: undefined, changePlan: "The store is already on plan small; choose another plan first.", remove: undefined },
  ],
  [
    "a Ready store with another plan chosen can do everything",
    [makeStore({ phase: "Ready" }), { busy: false, plansLoaded: true, samePlan: false }],
    { gone: undefined, plan: undefined, changePlan: undefined, remove: undefined },
  ],
  [
    "while an action runs everything waits",
    [makeStore({ phase: "Ready" }), { busy: true, plansLoaded: true, samePlan: false }],
    {
      gone: undefined,
      plan: "Wait: another action on this store is in progress.",
      changePlan: "Wait: another action on this store is in progress.",
      remove: "Wait: another action on this store is in progress.",
    },
  ],
  [
    "a deleting store can no longer change or be deleted again",
    [makeStore({ phase: "Deleting" }), { busy: false, plansLoaded: true, samePlan: false }],
    {
      gone: "The store is being deleted: it can no longer change.",
      plan: "The store is being deleted: it can no longer change.",
      changePlan: "The store is being deleted: it can no longer change.",
      remove: "The store is already being deleted.",
    },
  ],
  [
    "a deleted store can do nothing",
    [makeStore({ phase: "Deleted" }), { busy: false, plansLoaded: true, samePlan: false }],
    {
      gone: "The store is deleted: nothing about it can change any more.",
      plan: "The store is deleted: nothing about it can change any more.",
      changePlan: "The store is deleted: nothing about it can change any more.",
      remove: "The store is already deleted.",
    },
  ],
];

describe("StoreDetail explains itself", () => {
  it.each(REASONS)("%s", (_, args, expected) => {
    expect(unavailableReasons(...args)).toEqual(expected);
  });

  it("a deleting store's greyed-out actions say why, on hover and to a screen reader", async () => {
    setup(<StoreDetail id="store-x" />, { stores: [deleting] });
    await screen.findByRole("heading", { level: 1, name: /going-shop/ });
    expectExplained(screen.getByRole("button", { name: "Delete…" }), "The store is already being deleted.");
    expectExplained(screen.getByRole("button", { name: "Change plan" }), "The store is being deleted: it can no longer change.");
    expectExplained(screen.getByLabelText("Plan"), "The store is being deleted: it can no longer change.");
    expect(screen.getByText("The store is being deleted: it can no longer change.", { selector: "p" })).toBeVisible();
  });

  it("a deleting store's URL is shown but not as a link, and its conditions describe the teardown", async () => {
    setup(<StoreDetail id="store-x" />, { stores: [deleting] });
    await screen.findByRole("heading", { level: 1, name: /going-shop/ });
    expect(screen.queryByRole("link", { name: /going-shop\.localhost/ })).toBeNull();
    expect(screen.getByText("http://going-shop.localhost (being deleted)")).toBeInTheDocument();
    expect(screen.getByRole("row", { name: /NamespaceReady/ })).toHaveTextContent("namespace store-x is being deleted");
    expect(screen.getByRole("row", { name: /StoreReachable/ })).toHaveTextContent("False");
  });

  it("Change plan says to pick another plan until one is picked, then is offered", async () => {
    setup(<StoreDetail id="store-r" />, { stores: [makeStore({ id: "store-r", name: "ready-shop", phase: "Ready", plan: "small" })] });
    await screen.findByRole("heading", { level: 1, name: /ready-shop/ });
    const button = await screen.findByRole("button", { name: "Change plan" });
    expectExplained(button, "The store is already on plan small; choose another plan first.");
    const remove = screen.getByRole("button", { name: "Delete…" });
    expect(remove).toBeEnabled();
    expect(remove).not.toHaveAttribute("title");
    await userEvent.selectOptions(await screen.findByLabelText("Plan"), "medium");
    expect(button).toBeEnabled();
    expect(button).not.toHaveAttribute("title");
    expect(button).not.toHaveAttribute("aria-describedby");
  });
});
